// The TokenStore contract: one suite, written once against the interface, run
// on every implementation. A backend instantiates it with a factory that
// returns a fresh, empty store:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, TokenStoreContractTest,
//       ::testing::Values(TokenStoreFactory{"sqlite", [] { return MakeSqlite(); }}),
//       TokenStoreFactoryName);
#ifndef MAGICLINK_TESTS_STORE_TOKEN_STORE_CONTRACT_H_
#define MAGICLINK_TESTS_STORE_TOKEN_STORE_CONTRACT_H_

#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <memory>
#include <string>

#include "server/store/token_store.h"

namespace magiclink::testing {

// Makes a fresh, empty store of one backend.
struct TokenStoreFactory {
  std::string name;
  std::function<std::unique_ptr<TokenStore>()> make;
};

// Lets GoogleTest print the parameter by name instead of as raw bytes.
inline void PrintTo(const TokenStoreFactory& factory, std::ostream* os) { *os << factory.name; }

inline std::string TokenStoreFactoryName(
    const ::testing::TestParamInfo<TokenStoreFactory>& info) {
  return info.param.name;
}

class TokenStoreContractTest : public ::testing::TestWithParam<TokenStoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam().make();
    ASSERT_NE(store_, nullptr);
  }
  std::unique_ptr<TokenStore> store_;
};

}  // namespace magiclink::testing

#endif  // MAGICLINK_TESTS_STORE_TOKEN_STORE_CONTRACT_H_
