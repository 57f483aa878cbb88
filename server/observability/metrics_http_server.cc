#include "server/observability/metrics_http_server.h"

#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace magiclink {

struct MetricsHttpHandler {
  static MHD_Result Queue(MHD_Connection* connection, unsigned int status, const std::string& body,
                          const char* content_type, const char* allow = nullptr) {
    MHD_Response* response = MHD_create_response_from_buffer(
        body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
    if (response == nullptr) return MHD_NO;
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    if (allow != nullptr) MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, allow);
    const MHD_Result queued = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return queued;
  }

  // libmicrohttpd's access handler: GET or HEAD /metrics, nothing else.
  static MHD_Result Handle(void* cls, MHD_Connection* connection, const char* url,
                           const char* method, const char* version, const char* upload_data,
                           size_t* upload_data_size, void** request_state) {
    const auto* server = static_cast<const MetricsHttpServer*>(cls);
    if (*upload_data_size != 0) {
      *upload_data_size = 0;  // a body is ignored; answer once it is read
      return MHD_YES;
    }
    constexpr char kText[] = "text/plain; charset=utf-8";
    const bool get = std::strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
                     std::strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    if (std::strcmp(url, "/metrics") != 0) {
      return Queue(connection, MHD_HTTP_NOT_FOUND, "not found; metrics are at /metrics\n", kText);
    }
    if (!get) {
      return Queue(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET\n", kText, "GET, HEAD");
    }
    return Queue(connection, MHD_HTTP_OK, server->registry_.Expose(),
                 MetricsRegistry::kContentType);
  }
};

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& listen, const MetricsRegistry& registry) {
  std::string host;
  std::string port;
  if (!listen.empty() && listen.front() == '[') {
    const size_t close = listen.find("]:");
    if (close != std::string::npos) {
      host = listen.substr(1, close - 1);
      port = listen.substr(close + 2);
    }
  } else if (const size_t colon = listen.rfind(':'); colon != std::string::npos) {
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  int port_number = -1;
  if (host.empty() || !absl::SimpleAtoi(port, &port_number) || port_number < 0 ||
      port_number > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics_listen must be host:port or [v6]:port (got \"", listen, "\")"));
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics_listen: cannot resolve host \"", host, "\""));
  }
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer(registry));
  const unsigned int flags =
      MHD_USE_AUTO_INTERNAL_THREAD | (found->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
  server->daemon_ = MHD_start_daemon(flags, 0, nullptr, nullptr, &MetricsHttpHandler::Handle,
                                     server.get(), MHD_OPTION_SOCK_ADDR, found->ai_addr,
                                     // A scraper or two, not a public web server.
                                     MHD_OPTION_CONNECTION_LIMIT, 16u,
                                     MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
  freeaddrinfo(found);
  if (server->daemon_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", listen));
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(server->daemon_, MHD_DAEMON_INFO_BIND_PORT);
  server->port_ = info != nullptr ? info->port : port_number;
  return server;
}

MetricsHttpServer::~MetricsHttpServer() {
  if (daemon_ != nullptr) MHD_stop_daemon(daemon_);
}

}  // namespace magiclink
