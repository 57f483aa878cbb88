// A complete magiclink server in the test process, on a real loopback port,
// over a real SQLite file, with a FakeClock the test moves. Clients reach it
// through a real TCP channel and the generated stub.
#ifndef MAGICLINK_TESTS_E2E_TEST_SERVER_H_
#define MAGICLINK_TESTS_E2E_TEST_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>

#include "magiclink/v1/magic_link_service.grpc.pb.h"
#include "server/core/clock.h"
#include "tests/testing/fake_clock.h"
#include "server/core/keyring.h"
#include "server/core/links.h"
#include "server/core/token_source.h"
#include "server/service/link_service.h"
#include "server/store/sqlite/sqlite_token_store.h"
#include "server/transport/grpc_server.h"
#include "server/transport/grpc_service.h"
#include "tests/testing/temp_dir.h"

namespace magiclink::testing {

// Who may call a TestServer and over what: by default no callers (every
// call is the unrestricted "local") and plaintext.
struct TestServerSecurity {
  CallerDirectory callers;
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
};

class TestServer {
 public:
  explicit TestServer(ServiceOptions options = {}, TestServerSecurity security = {})
      : clock_(absl::FromUnixSeconds(1'800'000'000)),
        keyring_(*TokenKeyring::Create({{"k1", std::string(32, 's')}})),
        redirects_(*RedirectPolicy::Create(DevelopmentRedirectPrefixes())) {
    store_ = *SqliteTokenStore::Open(db_path());
    service_ = std::make_unique<LinkService>(*store_, keyring_, redirects_, clock_, tokens_,
                                             options);
    adapter_ = std::make_unique<GrpcMagicLinkService>(*service_, std::move(security.callers));
    GrpcServerOptions server_options;
    server_options.listen = "127.0.0.1:0";
    server_options.credentials = security.credentials;
    server_options.max_receive_bytes = MaxRequestBytes(options.limits);
    server_ = *StartGrpcServer(server_options, *adapter_);
    server_.SetServing(true);
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    channel_ = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(server_.port),
                                         grpc::InsecureChannelCredentials(), args);
    stub_ = v1::MagicLinkService::NewStub(channel_);
  }
  ~TestServer() { server_.server->Shutdown(); }

  v1::MagicLinkService::Stub& stub() { return *stub_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  FakeClock& clock() { return clock_; }
  LinkService& service() { return *service_; }
  std::string db_path() const { return dir_.File("magiclink.db"); }
  int port() const { return server_.port; }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  FakeClock clock_;
  CsprngTokenSource tokens_;
  TokenKeyring keyring_;
  RedirectPolicy redirects_;
  std::unique_ptr<SqliteTokenStore> store_;
  std::unique_ptr<LinkService> service_;
  std::unique_ptr<GrpcMagicLinkService> adapter_;
  StartedServer server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::MagicLinkService::Stub> stub_;
};

}  // namespace magiclink::testing

#endif  // MAGICLINK_TESTS_E2E_TEST_SERVER_H_
