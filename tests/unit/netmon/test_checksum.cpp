// The Internet checksum the normaliser verifies on every frame, and what verify_checksums()
// finds wrong in a decoded frame.
#include <gtest/gtest.h>

#include <random>

#include "frames.h"
#include "vitrine/netmon/checksum.h"

using namespace vitrine;
using namespace vitrine::netmon;
using namespace vitrine::testing;

namespace {

// RFC 1071's own loop, 16 bits at a time: the reference the fast sum must equal.
uint16_t reference_checksum(const uint8_t* data, size_t len, uint32_t sum) {
  for (size_t i = 0; i + 1 < len; i += 2) sum += (uint32_t{data[i]} << 8) | data[i + 1];
  if (len % 2) sum += uint32_t{data[len - 1]} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

Decoded decode(const Bytes& frame) {
  Decoded d;
  EXPECT_EQ(decode_frame(LinkType::Ethernet, frame.data(), frame.size(), frame.size(), d), Malformed::None);
  return d;
}

const MacAddr kA = mac("52:54:00:77:00:02"), kB = mac("52:54:00:77:00:01");
const IpAddr kIpA = ip("10.77.0.2"), kIpB = ip("10.77.0.1");

}  // namespace

TEST(Checksum, EqualsRfc1071sLoopForEveryLengthAndStart) {
  std::mt19937 random(7);
  std::vector<uint8_t> bytes(2100);
  for (auto& b : bytes) b = static_cast<uint8_t>(random());
  for (size_t start = 0; start < 8; ++start)
    for (size_t len = 0; len < 2000; len += 1 + len / 50)
      for (uint32_t sum : {0u, 0x1234u, 0x3fffcu})
        ASSERT_EQ(internet_checksum(bytes.data() + start, len, sum), reference_checksum(bytes.data() + start, len, sum))
            << start << " " << len << " " << sum;
  for (size_t len : {64, 1499, 9000}) {  // every word at its largest: the most carries
    const std::vector<uint8_t> ones(len, 0xff);
    EXPECT_EQ(internet_checksum(ones.data(), ones.size()), reference_checksum(ones.data(), ones.size(), 0)) << len;
  }
}

TEST(Checksum, AFrameAsAStackSendsItPasses) {
  EXPECT_EQ(verify_checksums(decode(ethernet(kA, kB, 0x0800, ipv4(kIpA, kIpB, 6, tcp(1, 2, 3, 4, 0x18, "abc"))))),
            ChecksumResult::Ok);
  EXPECT_EQ(verify_checksums(decode(ethernet(kA, kB, 0x0800, ipv4(kIpA, kIpB, 17, udp(1, 2, {1, 2, 3}))))),
            ChecksumResult::Ok);
}

TEST(Checksum, AWrongByteIsFoundInTheHeaderOrTheSegment) {
  const Bytes good = ethernet(kA, kB, 0x0800, ipv4(kIpA, kIpB, 6, tcp(1, 2, 3, 4, 0x18, "payload")));
  Bytes payload = good;
  payload.back() ^= 1;
  EXPECT_EQ(verify_checksums(decode(payload)), ChecksumResult::BadL4);
  Bytes header = good;
  header[14 + 8] ^= 1;  // the TTL
  EXPECT_EQ(verify_checksums(decode(header)), ChecksumResult::BadIp);
  Bytes address = good;
  address[14 + 19] ^= 1;  // the destination, in the pseudo-header too
  EXPECT_EQ(verify_checksums(decode(address)), ChecksumResult::BadIp);
}

TEST(Checksum, AUdpChecksumOfZeroIsNoneOverIpv4) {
  Bytes frame = ethernet(kA, kB, 0x0800, ipv4(kIpA, kIpB, 17, udp(1, 2, {1, 2, 3})));
  frame[14 + 20 + 6] = frame[14 + 20 + 7] = 0;
  EXPECT_EQ(verify_checksums(decode(frame)), ChecksumResult::Ok);
}

TEST(Checksum, TheUdpLengthIsWhatTheHostReads) {
  Bytes frame = ethernet(kA, kB, 0x0800, ipv4(kIpA, kIpB, 17, udp(1, 2, {1, 2, 3, 4})));
  Decoded d = decode(frame);
  EXPECT_EQ(d.payload_len, 4u);
  frame[14 + 20 + 5] = 200;  // a UDP length past the datagram
  Decoded bad;
  EXPECT_EQ(decode_frame(LinkType::Ethernet, frame.data(), frame.size(), frame.size(), bad), Malformed::BadUdpLength);
}
