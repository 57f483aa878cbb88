// magiclinkd: flags and config -> objects -> server. Nothing else lives here.
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/config/exposure.h"
#include "server/config/settings.h"
#include "server/config/token_keys.h"
#include "server/core/clock.h"
#include "server/core/links.h"
#include "server/core/token_source.h"
#include "server/observability/audit.h"
#include "server/observability/log.h"
#include "server/observability/metrics_http_server.h"
#include "server/observability/server_metrics.h"
#include "server/service/link_service.h"
#include "server/service/periodic_task.h"
#include "server/store/store_factory.h"
#include "server/transport/grpc_server.h"
#include "server/transport/grpc_service.h"
#include "server/transport/tls_credentials.h"

ABSL_FLAG(std::string, config, "", "JSON config file (see docs/operators.md); unknown keys fail");
ABSL_FLAG(std::string, listen, "", "host:port to serve on (default 127.0.0.1:50051)");
ABSL_FLAG(std::string, database, "",
          "sqlite:PATH or postgresql://... (default sqlite:<data_dir>/magiclink.db; "
          "MAGICLINK_DATABASE in the environment also works)");
ABSL_FLAG(std::string, data_dir, "",
          "folder for the SQLite file and token keys "
          "(default ./magiclink-data)");
ABSL_FLAG(bool, migrate_only, false, "apply schema migrations and exit");
ABSL_FLAG(
    std::string, audit_log, "",
    "append audit events (JSON lines) to this file (default: stderr, marked \"audit\": true)");
ABSL_FLAG(bool, audit_include_email, false, "name email addresses in audit events");
ABSL_FLAG(std::string, port_file, "", "write the bound port to this file once serving");
ABSL_FLAG(bool, insecure_allow_public_without_tls_or_callers, false,
          "INSECURE: serve a non-loopback address although TLS or callers are not configured "
          "(only when something else, e.g. a mesh sidecar, authenticates and encrypts)");
ABSL_FLAG(std::string, metrics_listen, "",
          "host:port serving GET /metrics for Prometheus over plain HTTP (default: off; "
          "loopback only unless --metrics_allow_public)");
ABSL_FLAG(bool, metrics_allow_public, false,
          "serve --metrics_listen on a non-loopback address (the port has no authentication)");

namespace magiclink {
namespace {

int Fail(absl::string_view event, const absl::Status& status) {
  Log(LogLevel::kError, event, {{"error", std::string(status.message())}});
  return 1;
}

int Run() {
  // Block termination signals before gRPC starts threads, so only sigwait()
  // below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<Settings> settings = LoadSettings(
      {absl::GetFlag(FLAGS_config), absl::GetFlag(FLAGS_listen), absl::GetFlag(FLAGS_database),
       absl::GetFlag(FLAGS_data_dir), absl::GetFlag(FLAGS_audit_log),
       absl::GetFlag(FLAGS_audit_include_email), absl::GetFlag(FLAGS_metrics_listen)},
      [](const char* name) {
        const char* value = std::getenv(name);
        return std::string(value ? value : "");
      });
  if (!settings.ok()) return Fail("config_invalid", settings.status());
  if (mkdir(settings->data_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Fail("data_dir_unusable", absl::FailedPreconditionError(absl::StrCat(
                                         "cannot create data folder ", settings->data_dir)));
  }
  const bool insecure_public = absl::GetFlag(FLAGS_insecure_allow_public_without_tls_or_callers);
  if (absl::Status s = CheckExposure(*settings, insecure_public); !s.ok()) {
    return Fail("listen_refused", s);
  }
  if (absl::Status s = CheckMetricsExposure(*settings, absl::GetFlag(FLAGS_metrics_allow_public));
      !s.ok()) {
    return Fail("metrics_listen_refused", s);
  }
  if (!IsLocalListenAddress(settings->listen) &&
      (settings->callers.empty() || !settings->tls.enabled())) {
    Log(LogLevel::kWarning, "insecure_public_listen",
        {{"detail",
          absl::StrCat("serving ", settings->listen, " without ",
                       settings->tls.enabled() ? "" : "TLS ",
                       settings->callers.empty() ? "callers " : "",
                       "because --insecure_allow_public_without_tls_or_callers is set")}});
  }
  if (settings->callers.empty()) {
    Log(LogLevel::kWarning, "no_callers_configured",
        {{"detail", "every call is the unrestricted caller \"local\"; serving loopback only"}});
  }
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeServerCredentials(settings->tls);
  if (!credentials.ok()) return Fail("config_invalid", credentials.status());
  std::vector<std::string> prefixes = settings->allowed_redirect_prefixes;
  if (prefixes.empty()) {
    prefixes = DevelopmentRedirectPrefixes();
    Log(LogLevel::kWarning, "development_redirect_prefixes",
        {{"detail",
          "no allowed_redirect_prefixes configured; allowing http://localhost and "
          "http://127.0.0.1 only"}});
  }
  absl::StatusOr<RedirectPolicy> redirects = RedirectPolicy::Create(std::move(prefixes));
  if (!redirects.ok()) return Fail("config_invalid", redirects.status());

  std::unique_ptr<ServerMetrics> metrics;
  if (!settings->metrics_listen.empty()) {
    metrics = std::make_unique<ServerMetrics>(MAGICLINK_VERSION);
  }
  absl::StatusOr<std::unique_ptr<TokenStore>> store =
      OpenTokenStore(settings->database, settings->postgres, metrics.get());
  if (!store.ok()) return Fail("store_unavailable", store.status());
  Log(LogLevel::kInfo, "store_ready", {{"database", RedactDatabaseUrl(settings->database)}});
  if (absl::GetFlag(FLAGS_migrate_only)) return 0;
  const bool shared_database = !absl::StartsWith(settings->database, "sqlite:");
  absl::StatusOr<AgreedTokenKeys> keys = LoadAgreedTokenKeys(
      settings->token_keys, settings->token_keys_file, shared_database, **store);
  if (!keys.ok()) return Fail("token_keys_invalid", keys.status());
  if (keys->created_file && shared_database) {
    Log(LogLevel::kWarning, "token_keys_created",
        {{"detail", absl::StrCat("created ", settings->token_keys_file,
                                 " with a new key; every other replica of this database must use "
                                 "the same keys (copy this file, or set MAGICLINK_TOKEN_KEYS on "
                                 "all of them)")}});
  }
  const TokenKeyring& keyring = keys->keyring;

  absl::StatusOr<std::unique_ptr<AuditLog>> audit =
      AuditLog::Open(settings->audit_log, settings->audit_include_email);
  if (!audit.ok()) return Fail("config_invalid", audit.status());

  SystemClock clock;
  CsprngTokenSource token_source;
  LinkService service(**store, keyring, *redirects, clock, token_source, settings->service,
                      audit->get());
  GrpcMagicLinkService adapter(service, settings->callers);
  GrpcServerOptions server_options;
  server_options.listen = settings->listen;
  server_options.credentials = *credentials;
  server_options.max_receive_bytes = MaxRequestBytes(settings->service.limits);
  server_options.metrics = metrics.get();
  std::unique_ptr<MetricsHttpServer> metrics_http;
  if (metrics != nullptr) {
    absl::StatusOr<std::unique_ptr<MetricsHttpServer>> http =
        MetricsHttpServer::Start(settings->metrics_listen, metrics->registry());
    if (!http.ok()) return Fail("metrics_listen_failed", http.status());
    metrics_http = *std::move(http);
    Log(LogLevel::kInfo, "metrics_listening",
        {{"address", settings->metrics_listen}, {"port", absl::StrCat(metrics_http->port())}});
  }
  absl::StatusOr<StartedServer> server = StartGrpcServer(server_options, adapter);
  if (!server.ok()) return Fail("listen_failed", server.status());
  auto set_serving = [&](bool serving) {
    server->SetServing(serving);
    if (metrics != nullptr) metrics->SetServing(serving);
  };
  set_serving(true);
  if (const std::string port_file = absl::GetFlag(FLAGS_port_file); !port_file.empty()) {
    std::ofstream(port_file) << server->port << "\n";
  }
  Log(LogLevel::kInfo, "listening",
      {{"address", settings->listen},
       {"port", absl::StrCat(server->port)},
       {"tls", settings->tls.enabled() ? (settings->tls.client_ca_file.empty() ? "tls" : "mtls")
                                       : "plaintext"},
       {"callers", absl::StrCat(settings->callers.entries().size())}});

  bool serving = true;
  PeriodicTask health_probe(absl::Seconds(1), [&] {
    const absl::Status ping = (*store)->Ping(kNoDeadline);
    if (ping.ok() != serving) {
      serving = ping.ok();
      set_serving(serving);
      Log(serving ? LogLevel::kInfo : LogLevel::kError, serving ? "store_up" : "store_down",
          {{"error", std::string(ping.message())}});
    }
  });
  PeriodicTask sweeper(settings->sweep_interval, [&] {
    absl::StatusOr<SweepResult> swept = service.Sweep(/*max_chunks=*/100);
    if (!swept.ok()) {
      Log(LogLevel::kWarning, "sweep_failed", {{"error", std::string(swept.status().message())}});
    } else if (swept->tokens_deleted + swept->batches_deleted + swept->replays_purged > 0) {
      Log(LogLevel::kInfo, "swept",
          {{"tokens", absl::StrCat(swept->tokens_deleted)},
           {"batches", absl::StrCat(swept->batches_deleted)},
           {"replays", absl::StrCat(swept->replays_purged)}});
    }
  });

  int signal = 0;
  sigwait(&signals, &signal);
  Log(LogLevel::kInfo, "draining", {{"signal", absl::StrCat(signal)}});
  // Drain: health says NOT_SERVING, new calls are turned away, and the calls
  // in flight get up to shutdown_grace. Shutdown then gives a short margin,
  // so that answers already made reach the wire and a call that arrived just
  // now still gets its SERVER_DRAINING answer, before it cancels what is left
  // and closes idle connections; gRPC alone would hold the process until
  // every client closed its connection or the whole grace ran out.
  set_serving(false);
  adapter.gate().Close();
  if (!adapter.gate().WaitIdle(absl::Now() + settings->shutdown_grace)) {
    Log(LogLevel::kWarning, "drain_timeout",
        {{"calls_cancelled", absl::StrCat(adapter.gate().in_flight())}});
  }
  server->server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(250));
  server->server->Wait();
  Log(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace
}  // namespace magiclink

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "magiclinkd: issues, verifies and revokes magic-link tokens over gRPC.\n"
      "Usage: magiclinkd [--listen=127.0.0.1:50051] [--database=sqlite:PATH] [--config=FILE]");
  // No glibc fastbins, because a large IssueBatch frees many small strings and
  // then asks for megabytes, which makes glibc consolidate every fastbin; one
  // arena per core, because each arena keeps the peak of the large calls it
  // served. Measurements: docs/performance.md.
  mallopt(M_MXFAST, 0);
  mallopt(M_ARENA_MAX, static_cast<int>(std::max(2u, std::thread::hardware_concurrency())));
  // Debian's abseil is built with Mutex deadlock detection on: every lock
  // and every Mutex destroyed then goes through one process-wide graph
  // (GraphCycles in a profile of single-link IssueBatch at 16 in flight).
  // Tests keep it; the server does not pay for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::ParseCommandLine(argc, argv);
  return magiclink::Run();
}
