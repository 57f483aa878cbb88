#include "server/config/exposure.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace magiclink {
namespace {

// The host part of "host:port", "[v6]:port" or "dns:///host:port".
absl::string_view HostOf(absl::string_view listen) {
  if (absl::StartsWith(listen, "dns:///")) listen.remove_prefix(7);
  if (absl::StartsWith(listen, "[")) {
    const size_t close = listen.find(']');
    return close == absl::string_view::npos ? absl::string_view() : listen.substr(1, close - 1);
  }
  const size_t colon = listen.rfind(':');
  return colon == absl::string_view::npos ? listen : listen.substr(0, colon);
}

bool IsLoopbackIpv4(absl::string_view host) {
  std::vector<absl::string_view> octets = absl::StrSplit(host, '.');
  if (octets.size() != 4 || octets[0] != "127") return false;
  for (absl::string_view o : octets) {
    if (o.empty() || o.size() > 3) return false;
    for (char c : o) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    }
  }
  return true;
}

}  // namespace

bool IsLocalListenAddress(absl::string_view listen) {
  if (absl::StartsWith(listen, "unix:") || absl::StartsWith(listen, "unix-abstract:")) return true;
  const absl::string_view host = HostOf(listen);
  return IsLoopbackIpv4(host) || host == "::1" || absl::EqualsIgnoreCase(host, "localhost");
}

absl::Status CheckExposure(const Settings& settings, bool allow_insecure_public) {
  if (IsLocalListenAddress(settings.listen)) return absl::OkStatus();
  std::string missing;
  if (!settings.tls.enabled()) missing = "TLS (tls.cert_file, tls.key_file)";
  if (settings.callers.empty()) {
    absl::StrAppend(&missing, missing.empty() ? "" : " and ",
                    "callers with API keys or TLS identities");
  }
  if (missing.empty() || allow_insecure_public) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "refusing to listen on ", settings.listen, " without ", missing,
      ": configure them (see docs/security.md), listen on a loopback address, or pass "
      "--insecure_allow_public_without_tls_or_callers if something else protects this port"));
}

absl::Status CheckMetricsExposure(const Settings& settings, bool allow_public) {
  if (settings.metrics_listen.empty() || allow_public) return absl::OkStatus();
  if (absl::StartsWith(settings.metrics_listen, "unix")) {
    return absl::InvalidArgumentError("metrics_listen must be host:port (no unix sockets)");
  }
  if (IsLocalListenAddress(settings.metrics_listen)) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "refusing to serve metrics on ", settings.metrics_listen,
      ": the metrics port is plain HTTP without authentication; listen on a loopback address "
      "(e.g. 127.0.0.1:9464) or pass --metrics_allow_public if a firewall or proxy protects it"));
}

}  // namespace magiclink
