// One connection to Redis on hiredis (Debian 12's libhiredis-dev 0.14: blocking contexts, no
// TLS): the redis:// and unix:// URIs, connecting with AUTH and SELECT, commands and their
// replies. The cache driver on top (src/plugins/redis_cache.cc) pools and pipelines them.
#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "s3db/errors.h"

namespace s3db::plugins {

// A parsed redis://[user:password@]host[:port][/db] or unix://PATH[?db=N].
struct RedisUri {
  bool unix_socket = false;
  std::string host;  // or the socket's path
  int port = 6379;
  std::string user;
  std::string password;
  bool has_password = false;
  int db = 0;
};

// The URI's parts; an InvalidArgument naming the masked URI and what is wrong.
Result<RedisUri> ParseRedisUri(const std::string& uri);

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using Context = std::unique_ptr<redisContext, ContextDeleter>;

// What a failed call tells the driver to do.
enum class Failure { kNone, kIo, kAuth, kOther };

struct Outcome {
  Failure failure = Failure::kNone;
  std::string message;
};

struct Opened {
  Context c;
  Outcome outcome;
};

// Opens one connection: connect, AUTH, SELECT, each bounded by `timeout`.
Opened Open(const RedisUri& uri, std::chrono::milliseconds timeout);

// One command, its arguments binary-safe; nullptr when the connection failed (c->errstr says why).
Reply Command(redisContext* c, const std::vector<std::string_view>& args);

// A string reply's text.
inline std::string_view ReplyText(const redisReply* r) { return std::string_view(r->str, r->len); }

}  // namespace s3db::plugins
