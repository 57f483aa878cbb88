#include "server/core/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"

namespace magiclink {
namespace {

constexpr size_t kGcmNonceBytes = 12;
constexpr size_t kGcmTagBytes = 16;

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* MutableBytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

}  // namespace

absl::StatusOr<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(MutableBytes(out), n) != 1) {
    return absl::InternalError("the system random number generator failed");
  }
  return out;
}

std::string HmacSha256(absl::string_view key, absl::string_view message) {
  std::string out(32, '\0');
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), Bytes(message), message.size(),
       MutableBytes(out), &len);
  out.resize(len);
  return out;
}

namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

// A SHA-256 digest state that has absorbed `block`.
MdCtx Sha256After(const unsigned char* block, size_t size) {
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), block, size) != 1) {
    std::abort();  // only on allocation failure
  }
  return ctx;
}

// Continues a copy of `saved` with `data` and writes the digest to `out`.
void FinishFrom(const EVP_MD_CTX* saved, const void* data, size_t size, unsigned char* out) {
  MdCtx ctx(EVP_MD_CTX_new());
  unsigned int len = 0;
  if (!ctx || EVP_MD_CTX_copy_ex(ctx.get(), saved) != 1 ||
      EVP_DigestUpdate(ctx.get(), data, size) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out, &len) != 1) {
    std::abort();  // only on allocation failure
  }
}

}  // namespace

struct HmacSha256Key::State {
  MdCtx inner;  // after absorbing key ^ ipad
  MdCtx outer;  // after absorbing key ^ opad
};

HmacSha256Key::HmacSha256Key(absl::string_view key) : state_(std::make_unique<State>()) {
  constexpr size_t kBlock = 64;
  unsigned char block[kBlock] = {0};
  if (key.size() > kBlock) {
    SHA256(Bytes(key), key.size(), block);  // RFC 2104: long keys are hashed first
  } else {
    std::memcpy(block, key.data(), key.size());
  }
  unsigned char pad[kBlock];
  for (size_t i = 0; i < kBlock; ++i) pad[i] = block[i] ^ 0x36;
  state_->inner = Sha256After(pad, kBlock);
  for (size_t i = 0; i < kBlock; ++i) pad[i] = block[i] ^ 0x5c;
  state_->outer = Sha256After(pad, kBlock);
  OPENSSL_cleanse(block, kBlock);
  OPENSSL_cleanse(pad, kBlock);
}

HmacSha256Key::HmacSha256Key(HmacSha256Key&&) noexcept = default;
HmacSha256Key& HmacSha256Key::operator=(HmacSha256Key&&) noexcept = default;
HmacSha256Key::~HmacSha256Key() = default;

std::string HmacSha256Key::Mac(absl::string_view message) const {
  unsigned char inner_digest[SHA256_DIGEST_LENGTH];
  FinishFrom(state_->inner.get(), message.data(), message.size(), inner_digest);
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  FinishFrom(state_->outer.get(), inner_digest, sizeof(inner_digest), MutableBytes(out));
  return out;
}

std::string Sha256(absl::string_view data) {
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  SHA256(Bytes(data), data.size(), MutableBytes(out));
  return out;
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string Base64UrlEncode(absl::string_view bytes) { return absl::WebSafeBase64Escape(bytes); }

std::optional<std::string> Base64UrlDecode(absl::string_view text) {
  // absl also accepts padding, whitespace and non-zero trailing bits; only
  // the canonical unpadded form (the one Base64UrlEncode gives) is accepted.
  std::string out;
  if (!absl::WebSafeBase64Unescape(text, &out)) return std::nullopt;
  if (absl::WebSafeBase64Escape(out) != text) return std::nullopt;
  return out;
}

std::string HexEncode(absl::string_view bytes) { return absl::BytesToHexString(bytes); }

std::optional<std::string> HexDecode(absl::string_view text) {
  // absl::HexStringToBytes does not validate its input.
  if (text.size() % 2 != 0) return std::nullopt;
  for (char c : text) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  return absl::HexStringToBytes(text);
}

absl::StatusOr<std::string> AesGcmSeal(absl::string_view key, absl::string_view plaintext,
                                       absl::string_view associated_data) {
  if (key.size() != 32) return absl::InvalidArgumentError("AES-256-GCM needs a 32-byte key");
  absl::StatusOr<std::string> nonce = RandomBytes(kGcmNonceBytes);
  if (!nonce.ok()) return nonce.status();
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  std::string out = *nonce;
  out.resize(kGcmNonceBytes + plaintext.size() + kGcmTagBytes);
  int len = 0;
  int total = 0;
  bool ok =
      ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kGcmNonceBytes, nullptr) == 1 &&
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, Bytes(key), Bytes(*nonce)) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(associated_data), associated_data.size()) ==
          1 &&
      EVP_EncryptUpdate(ctx.get(), MutableBytes(out) + kGcmNonceBytes, &len, Bytes(plaintext),
                        plaintext.size()) == 1;
  total = len;
  ok = ok && EVP_EncryptFinal_ex(ctx.get(), MutableBytes(out) + kGcmNonceBytes + total, &len) == 1;
  total += len;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmTagBytes,
                                 MutableBytes(out) + kGcmNonceBytes + total) == 1;
  if (!ok) return absl::InternalError("AES-256-GCM encryption failed");
  out.resize(kGcmNonceBytes + total + kGcmTagBytes);
  return out;
}

absl::StatusOr<std::string> AesGcmOpen(absl::string_view key, absl::string_view sealed,
                                       absl::string_view associated_data) {
  if (key.size() != 32) return absl::InvalidArgumentError("AES-256-GCM needs a 32-byte key");
  if (sealed.size() < kGcmNonceBytes + kGcmTagBytes) {
    return absl::InvalidArgumentError("sealed data is too short");
  }
  const absl::string_view nonce = sealed.substr(0, kGcmNonceBytes);
  const absl::string_view body =
      sealed.substr(kGcmNonceBytes, sealed.size() - kGcmNonceBytes - kGcmTagBytes);
  std::string tag(sealed.substr(sealed.size() - kGcmTagBytes));
  std::string out(body.size(), '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int total = 0;
  bool ok =
      ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kGcmNonceBytes, nullptr) == 1 &&
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, Bytes(key), Bytes(nonce)) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(associated_data), associated_data.size()) ==
          1 &&
      EVP_DecryptUpdate(ctx.get(), MutableBytes(out), &len, Bytes(body), body.size()) == 1;
  total = len;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kGcmTagBytes, tag.data()) == 1 &&
       EVP_DecryptFinal_ex(ctx.get(), MutableBytes(out) + total, &len) == 1;
  if (!ok) return absl::InvalidArgumentError("sealed data failed authentication");
  out.resize(total + len);
  return out;
}

}  // namespace magiclink
