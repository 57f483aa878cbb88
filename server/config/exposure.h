// Safe defaults for where magiclinkd may listen: without TLS and configured
// callers it serves loopback (or a unix socket) only, so a development set-up
// can never end up on a public address by accident.
//
//   if (absl::Status s = CheckExposure(settings, flag_insecure); !s.ok()) ...
#ifndef MAGICLINK_SERVER_CONFIG_EXPOSURE_H_
#define MAGICLINK_SERVER_CONFIG_EXPOSURE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/config/settings.h"

namespace magiclink {

// True for 127.0.0.0/8, [::1] and localhost listen addresses ("host:port")
// and for unix: sockets; false for everything else, including 0.0.0.0, [::]
// and a bare ":port".
bool IsLocalListenAddress(absl::string_view listen);

// FAILED_PRECONDITION when `settings` would serve a non-local address without
// both TLS and configured callers, unless `allow_insecure_public` (the
// --insecure_allow_public_without_tls_or_callers flag) overrides it. The
// message says what is missing and how to fix it.
absl::Status CheckExposure(const Settings& settings, bool allow_insecure_public);

// FAILED_PRECONDITION when `settings.metrics_listen` names a non-local
// address and `allow_public` (the --metrics_allow_public flag) is not set:
// the metrics port is plain HTTP without authentication. OK when metrics are
// off.
absl::Status CheckMetricsExposure(const Settings& settings, bool allow_public);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_CONFIG_EXPOSURE_H_
