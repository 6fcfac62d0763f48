// The framer every length-prefixed protocol shares, over a toy protocol whose header is a type
// byte and a length byte: what it keeps, skips and refuses is the protocol's; cutting, bounds
// and stopping are the framer's, and must not depend on how the stream is cut.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "vitrine/netmon/length_prefixed.h"

namespace {

using vitrine::netmon::Frame;
using vitrine::netmon::FrameHeader;
using vitrine::netmon::MalformedReason;

constexpr MalformedReason kBadType{"bad_type", "a frame of no type the toy protocol has"};
constexpr MalformedReason kOdd{"odd_flag", "a frame with its odd bit set"};

// 'D' data (keeps 4 bytes at most), 'S' skipped, 'E' end of framing; bit 7 is odd; other types refused.
struct Toy {
  static constexpr size_t kHeaderBytes = 2;
  FrameHeader read(const uint8_t* h) const {
    FrameHeader r;
    switch (h[0] & 0x7f) {
      case 'D': r = FrameHeader::frame(h[1], 4); break;
      case 'S': r = FrameHeader::skip(h[1]); break;
      case 'E': return FrameHeader::end();
      default: return FrameHeader::refuse(&kBadType);
    }
    if (h[0] & 0x80) r.odd = &kOdd;
    return r;
  }
};
using ToyFramer = vitrine::netmon::LengthPrefixedFramer<Toy>;

std::vector<Frame> feed_in_pieces(ToyFramer& f, const std::vector<uint8_t>& stream, size_t piece) {
  std::vector<Frame> frames;
  for (size_t at = 0; at < stream.size(); at += piece)
    f.feed(stream.data() + at, std::min(piece, stream.size() - at), frames);
  return frames;
}

const std::vector<uint8_t> kStream = {'D', 6, 1, 2, 3, 4, 5, 6,  // kept 4 of 6
                                      'S', 3, 9, 9, 9,           // stepped over
                                      'D', 0,                    // header only
                                      'D' | 0x80, 2, 7, 8};      // odd, framed all the same

TEST(LengthPrefixedFramer, FramesAreTheSameHoweverTheStreamIsCut) {
  for (size_t piece = 1; piece <= kStream.size(); ++piece) {
    ToyFramer f;
    const auto frames = feed_in_pieces(f, kStream, piece);
    ASSERT_EQ(frames.size(), 3u) << piece;
    EXPECT_EQ(frames[0].body_bytes, 6u);
    EXPECT_EQ(frames[0].kept(), 4u) << "the protocol's bound on what is kept";
    EXPECT_EQ(std::vector<uint8_t>(frames[0].body(), frames[0].body() + 4), (std::vector<uint8_t>{1, 2, 3, 4}));
    EXPECT_EQ(frames[0].bytes[0], 'D') << "a frame holds its header";
    EXPECT_EQ(frames[1].body_bytes, 0u);
    EXPECT_EQ(frames[2].kept(), 2u);
    EXPECT_EQ(f.odd(), &kOdd);
    EXPECT_FALSE(f.stopped());
    EXPECT_FALSE(f.inside_frame());
  }
}

TEST(LengthPrefixedFramer, AFrameCutShortIsNotDelivered) {
  ToyFramer f;
  std::vector<Frame> frames;
  const std::vector<uint8_t> cut = {'D', 5, 1, 2};
  f.feed(cut.data(), cut.size(), frames);
  EXPECT_TRUE(frames.empty());
  EXPECT_TRUE(f.inside_frame());
  const std::vector<uint8_t> rest = {3, 4, 5, 'D'};
  f.feed(rest.data(), rest.size(), frames);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(f.inside_frame()) << "the next header has begun";
}

TEST(LengthPrefixedFramer, ARefusedHeaderStopsItWithItsFaultAndNothingAfterIsRead) {
  for (size_t piece = 1; piece <= 3; ++piece) {
    ToyFramer f;
    std::vector<uint8_t> stream = {'D', 1, 0, 'X', 1, 0};
    stream.insert(stream.end(), kStream.begin(), kStream.end());
    const auto frames = feed_in_pieces(f, stream, piece);
    EXPECT_EQ(frames.size(), 1u) << piece;
    EXPECT_TRUE(f.stopped());
    EXPECT_EQ(f.fault(), &kBadType);
    EXPECT_EQ(f.odd(), nullptr) << "the odd frame after the fault was never read";
    EXPECT_FALSE(f.inside_frame()) << "a stopped framer is in no frame";
  }
}

TEST(LengthPrefixedFramer, TheEndOfFramingIsNoFault) {
  ToyFramer f;
  const auto frames = feed_in_pieces(f, {'D', 0, 'E', 0, 'D', 0}, 1);
  EXPECT_EQ(frames.size(), 1u);
  EXPECT_TRUE(f.stopped());
  EXPECT_EQ(f.fault(), nullptr);
}

}  // namespace
