#include "plugins/redis_connection.h"

#include <sys/time.h>

#include <charconv>

#include "s3db/cache.h"
#include "util/text.h"

namespace s3db::plugins {
namespace {

Status BadUri(const std::string& uri, const std::string& why) {
  return Status(ErrorCode::kInvalidArgument, "cache: bad redis URI '" + MaskedRedisUri(uri) + "': " + why);
}

bool ParseInt(std::string_view text, int* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

Opened Failed(Failure failure, std::string message) { return Opened{nullptr, Outcome{failure, std::move(message)}}; }

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

}  // namespace

Result<RedisUri> ParseRedisUri(const std::string& uri) {
  RedisUri out;
  std::string_view rest(uri);
  auto starts = [&](std::string_view scheme) {
    if (rest.substr(0, scheme.size()) != scheme) return false;
    rest.remove_prefix(scheme.size());
    return true;
  };
  if (starts("rediss://")) {
    return BadUri(uri,
                  "rediss:// (TLS) is not supported: Debian 12's hiredis (0.14) has no TLS. Reach Redis over a "
                  "unix socket, or through a local TLS tunnel (stunnel) with redis://127.0.0.1:PORT");
  }
  if (starts("unix://")) {
    out.unix_socket = true;
    size_t q = rest.find('?');
    out.host = std::string(rest.substr(0, q));
    if (out.host.empty() || out.host.front() != '/') return BadUri(uri, "unix:// needs an absolute socket path");
    if (q != std::string_view::npos) {
      std::string_view query = rest.substr(q + 1);
      if (query.substr(0, 3) != "db=" || !ParseInt(query.substr(3), &out.db) || out.db < 0) {
        return BadUri(uri, "the only query parameter is db=N");
      }
    }
    return out;
  }
  if (!starts("redis://")) return BadUri(uri, "expected redis://[user:password@]host:port/db or unix://PATH");
  size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view credentials = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    size_t colon = credentials.find(':');
    std::string_view user = credentials.substr(0, colon);
    if (!util::PercentDecode(user, &out.user)) return BadUri(uri, "bad percent-encoding in the user");
    if (colon != std::string_view::npos) {
      if (!util::PercentDecode(credentials.substr(colon + 1), &out.password)) {
        return BadUri(uri, "bad percent-encoding in the password");
      }
      out.has_password = true;
    } else if (!out.user.empty()) {
      // redis://password@host is how many clients write a password without a user.
      out.password = out.user;
      out.user.clear();
      out.has_password = true;
    }
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return BadUri(uri, "unclosed '[' in the host");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return BadUri(uri, "expected ':PORT' after the host");
      port_text = after.substr(1);
    }
  } else {
    size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) return BadUri(uri, "no host");
  if (!port_text.empty() || authority.find(':') != std::string_view::npos) {
    if (!ParseInt(port_text, &out.port) || out.port < 1 || out.port > 65535) {
      return BadUri(uri, "the port must be 1..65535");
    }
  }
  if (!path.empty() && (!ParseInt(path, &out.db) || out.db < 0)) {
    return BadUri(uri, "the path must be a database number (/0, /1, ...)");
  }
  return out;
}

Reply Command(redisContext* c, const std::vector<std::string_view>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (std::string_view a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return Reply(static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data())));
}

Opened Open(const RedisUri& uri, std::chrono::milliseconds timeout) {
  const timeval tv = ToTimeval(timeout);
  Context c(uri.unix_socket ? redisConnectUnixWithTimeout(uri.host.c_str(), tv)
                            : redisConnectWithTimeout(uri.host.c_str(), uri.port, tv));
  if (!c) return Failed(Failure::kIo, "out of memory");
  if (c->err) return Failed(Failure::kIo, c->errstr);
  redisSetTimeout(c.get(), tv);
  if (!uri.unix_socket) redisEnableKeepAlive(c.get());
  if (uri.has_password) {
    Reply r = uri.user.empty() ? Command(c.get(), {"AUTH", uri.password})
                               : Command(c.get(), {"AUTH", uri.user, uri.password});
    if (!r) return Failed(Failure::kIo, c->errstr);
    // The reply names neither the user nor the password; it is safe to show.
    if (r->type == REDIS_REPLY_ERROR) return Failed(Failure::kAuth, std::string(r->str, r->len));
  }
  if (uri.db != 0) {
    std::string db = std::to_string(uri.db);
    Reply r = Command(c.get(), {"SELECT", db});
    if (!r) return Failed(Failure::kIo, c->errstr);
    if (r->type == REDIS_REPLY_ERROR) {
      std::string message(r->str, r->len);
      bool auth = message.rfind("NOAUTH", 0) == 0 || message.rfind("NOPERM", 0) == 0;
      return Failed(auth ? Failure::kAuth : Failure::kOther, "SELECT " + db + ": " + message);
    }
  }
  return Opened{std::move(c), {}};
}

}  // namespace s3db::plugins

namespace s3db {

std::string MaskedRedisUri(std::string_view uri) {
  size_t scheme = uri.find("://");
  if (scheme == std::string_view::npos) return std::string(uri);
  std::string_view rest = uri.substr(scheme + 3);
  // The credentials end at the last '@' (a password may hold a raw one).
  size_t at = rest.rfind('@');
  if (at == std::string_view::npos) return std::string(uri);
  std::string_view credentials = rest.substr(0, at);
  size_t colon = credentials.find(':');
  std::string shown = colon == std::string_view::npos ? "***" : std::string(credentials.substr(0, colon)) + ":***";
  return std::string(uri.substr(0, scheme + 3)) + shown + std::string(rest.substr(at));
}

Status ValidateRedisUri(const std::string& uri) { return plugins::ParseRedisUri(uri).status(); }

}  // namespace s3db
