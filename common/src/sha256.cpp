#include "vitrine/common/sha256.h"

#include <gcrypt.h>

#include <fstream>
#include <stdexcept>
#include <vector>

namespace vitrine {

namespace {
std::string hex_of(const unsigned char* digest) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < 32; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0xf];
  }
  return out;
}
}  // namespace

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[32];
  gcry_md_hash_buffer(GCRY_MD_SHA256, digest, bytes.data(), bytes.size());
  return hex_of(digest);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view bytes) {
  if (!gcry_check_version(GCRYPT_VERSION)) throw std::runtime_error("libgcrypt version mismatch");
  gcry_md_hd_t md = nullptr;
  if (gcry_md_open(&md, GCRY_MD_SHA256, GCRY_MD_FLAG_HMAC) != 0) throw std::runtime_error("cannot start HMAC-SHA256");
  if (gcry_md_setkey(md, key.data(), key.size()) != 0) {
    gcry_md_close(md);
    throw std::runtime_error("cannot key HMAC-SHA256");
  }
  gcry_md_write(md, bytes.data(), bytes.size());
  const std::string out = hex_of(gcry_md_read(md, GCRY_MD_SHA256));
  gcry_md_close(md);
  return out;
}

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  gcry_randomize(out.data(), n, GCRY_STRONG_RANDOM);
  return out;
}

std::string sha256_file(const std::filesystem::path& path) {
  if (!gcry_check_version(GCRYPT_VERSION)) throw std::runtime_error("libgcrypt version mismatch");
  gcry_md_hd_t md = nullptr;
  if (gcry_md_open(&md, GCRY_MD_SHA256, 0) != 0) throw std::runtime_error("cannot start sha256");
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    gcry_md_close(md);
    throw std::runtime_error("cannot read " + path.string());
  }
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    gcry_md_write(md, buf.data(), static_cast<size_t>(in.gcount()));
  }
  const bool failed = in.bad();
  const std::string out = hex_of(gcry_md_read(md, GCRY_MD_SHA256));
  gcry_md_close(md);
  if (failed) throw std::runtime_error("error reading " + path.string());
  return out;
}

}  // namespace vitrine
