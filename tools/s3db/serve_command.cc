#include "serve_command.h"

#include <csignal>
#include <iostream>

#include "serve/server.h"

namespace s3db_cli {

ExitCode RunServe(const CommandLine& line, const s3db::DatabaseOptions& options,
                  std::shared_ptr<s3db::CostsPlugin> costs, std::shared_ptr<s3db::CachePlugin> cache,
                  Diagnostics& diagnostics) {
  s3db::serve::ServeOptions serve;
  if (!s3db::serve::ParseListenAddress(line.listen, serve.listen.host, serve.listen.port)) {
    diagnostics.Line("--listen: expected HOST:PORT with an IP address (or localhost), got '" + line.listen + "'");
    return ExitCode::kUsage;
  }
  const std::optional<std::chrono::milliseconds> read_timeout = ParseDuration(line.read_timeout);
  if (!read_timeout) {
    diagnostics.Line("--read-timeout: expected a duration like 500ms, 30s or 5m, got '" + line.read_timeout + "'");
    return ExitCode::kUsage;
  }
  serve.listen.tls_cert_file = line.tls_cert;
  serve.listen.tls_key_file = line.tls_key;
  serve.listen.max_body_bytes = line.max_body_bytes;
  serve.listen.read_timeout = *read_timeout;
  serve.listen.workers = line.workers;
  serve.api.cors_origins = line.cors_origins;
  serve.insecure = line.insecure;
  serve.costs = std::move(costs);
  serve.cache = std::move(cache);
  try {
    if (!line.auth_file.empty()) serve.auth = s3db::serve::AuthConfig::FromFile(line.auth_file);
    // Before any thread starts, so every thread leaves SIGTERM and SIGINT to the wait below.
    s3db::serve::BlockTerminationSignals();
    std::unique_ptr<s3db::Database> database = s3db::Database::Connect(options);
    s3db::serve::Server server(*database, serve);
    const uint16_t port = server.Start();
    const bool tls = !serve.listen.tls_cert_file.empty();
    const std::string host =
        serve.listen.host.find(':') == std::string::npos ? serve.listen.host : "[" + serve.listen.host + "]";
    std::cout << DumpJson(
                     {{"listening", std::string(tls ? "https" : "http") + "://" + host + ":" + std::to_string(port)},
                      {"store", database->Describe()},
                      {"auth", server.api().auth_enabled()}})
              << std::endl;
    const int signal = s3db::serve::WaitForTerminationSignal();
    diagnostics.Line(std::string("serve: ") + (signal == SIGTERM ? "SIGTERM" : "SIGINT") +
                     ": finishing the requests in flight");
    const std::vector<s3db::PartitionFailure> failures = server.Shutdown();
    for (const s3db::PartitionFailure& failure : failures) {
      diagnostics.Line("serve: partition reference " + failure.key + " of record '" + failure.id +
                       "' could not be written: " + failure.message + " (run repair)");
    }
    return ExitCode::kOk;
  } catch (const std::exception& error) {
    diagnostics.Line(DescribeError(error));
    return ExitCodeFor(error);
  }
}

}  // namespace s3db_cli
