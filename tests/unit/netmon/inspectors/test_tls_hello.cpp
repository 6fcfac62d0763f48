// The TLS ServerHello reader, on byte arrays: the version chosen, with and without the
// supported_versions extension, and every truncation and lie about lengths.
#include <gtest/gtest.h>

#include <vector>

#include "tls/tls_hello.h"

using namespace vitrine::netmon::tls;
using vitrine::netmon::ParseStatus;

namespace {

// A ServerHello record: legacy version, a 32-byte random, a session id, a cipher, no
// compression, then the given extensions (type, body).
std::vector<uint8_t> server_hello(uint16_t legacy, std::vector<std::pair<uint16_t, std::vector<uint8_t>>> extensions,
                                  size_t session_id_len = 32) {
  std::vector<uint8_t> body = {static_cast<uint8_t>(legacy >> 8), static_cast<uint8_t>(legacy)};
  body.insert(body.end(), 32, 0xab);
  body.push_back(static_cast<uint8_t>(session_id_len));
  body.insert(body.end(), session_id_len, 0xcd);
  body.insert(body.end(), {0xc0, 0x14, 0x00});
  std::vector<uint8_t> ext;
  for (const auto& [type, data] : extensions) {
    ext.insert(ext.end(), {static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type),
                           static_cast<uint8_t>(data.size() >> 8), static_cast<uint8_t>(data.size())});
    ext.insert(ext.end(), data.begin(), data.end());
  }
  if (!extensions.empty()) {
    body.push_back(static_cast<uint8_t>(ext.size() >> 8));
    body.push_back(static_cast<uint8_t>(ext.size()));
    body.insert(body.end(), ext.begin(), ext.end());
  }
  std::vector<uint8_t> hs = {0x02, 0, static_cast<uint8_t>(body.size() >> 8), static_cast<uint8_t>(body.size())};
  hs.insert(hs.end(), body.begin(), body.end());
  std::vector<uint8_t> rec = {0x16, 0x03, 0x01, static_cast<uint8_t>(hs.size() >> 8), static_cast<uint8_t>(hs.size())};
  rec.insert(rec.end(), hs.begin(), hs.end());
  return rec;
}

vitrine::netmon::ParseResult parse(const std::vector<uint8_t>& bytes, ServerHello& out) {
  return parse_server_hello(bytes.data(), bytes.size(), out);
}

TEST(TlsServerHello, TheVersionTheServerChose) {
  ServerHello h;
  EXPECT_EQ(parse(server_hello(0x0302, {}), h), ParseStatus::Ok);
  EXPECT_EQ(h.version, 0x0302);
  // With extensions but no supported_versions: the hello's version (TLS 1.2).
  EXPECT_EQ(parse(server_hello(0x0303, {{0xff01, {0x00}}, {11, {0x01, 0x00}}}), h), ParseStatus::Ok);
  EXPECT_EQ(h.version, 0x0303);
  // TLS 1.3 says 1.2 in the hello and the truth in supported_versions.
  EXPECT_EQ(parse(server_hello(0x0303, {{51, std::vector<uint8_t>(36, 1)}, {43, {0x03, 0x04}}}), h), ParseStatus::Ok);
  EXPECT_EQ(h.version, 0x0304);
}

TEST(TlsServerHello, EveryTruncationIsIncompleteAndNeverOverstates) {
  const auto whole = server_hello(0x0303, {{51, std::vector<uint8_t>(36, 1)}, {43, {0x03, 0x04}}});
  for (size_t len = 1; len < whole.size(); ++len) {
    const std::vector<uint8_t> cut(whole.begin(), whole.begin() + static_cast<long>(len));
    ServerHello h;
    const auto status = parse(cut, h);
    EXPECT_NE(status, ParseStatus::Ok) << len;
    // Once its header is there, a cut hello says how long the whole is.
    if (len >= 9) {
      EXPECT_EQ(status, ParseStatus::Incomplete) << len;
      EXPECT_EQ(status.needed, whole.size()) << len;
    }
    EXPECT_LE(h.version, 0x0303) << len;  // at most the hello's own version until the extension is read
  }
}

TEST(TlsServerHello, OtherBytesAreNotAServerHello) {
  ServerHello h;
  auto client = server_hello(0x0303, {});
  client[5] = 0x01;  // a ClientHello
  EXPECT_EQ(parse(client, h), ParseStatus::Error);
  auto alert = server_hello(0x0303, {});
  alert[0] = 0x15;
  EXPECT_EQ(parse(alert, h), ParseStatus::Error);
  const std::vector<uint8_t> http = {'H', 'T', 'T', 'P', '/', '1', '.', '1', ' ', '2', '0', '0'};
  EXPECT_EQ(parse(http, h), ParseStatus::Error);
  auto sslv2ish = server_hello(0x0200, {});
  EXPECT_EQ(parse(sslv2ish, h), ParseStatus::Error);
}

TEST(TlsServerHello, LengthsThatLieStayInsideTheBytes) {
  ServerHello h;
  // The handshake claims more than is there, the session id runs past the end, and an
  // extension claims 65535 bytes: each is incomplete, none reads outside the vector.
  auto big_body = server_hello(0x0303, {});
  big_body[6] = 0xff;
  EXPECT_EQ(parse(big_body, h), ParseStatus::Incomplete);  // its extensions may be in what is missing
  EXPECT_EQ(h.version, 0x0303);
  auto long_session = server_hello(0x0303, {}, 32);
  long_session[9 + 2 + 32] = 0xff;
  EXPECT_EQ(parse(long_session, h), ParseStatus::Incomplete);
  auto long_ext = server_hello(0x0303, {{43, {0x03, 0x04}}});
  long_ext[long_ext.size() - 4] = 0xff;  // the extension's length, high byte
  long_ext[long_ext.size() - 3] = 0xff;
  EXPECT_EQ(parse(long_ext, h), ParseStatus::Incomplete);
  EXPECT_EQ(h.version, 0x0303);
}

}  // namespace
