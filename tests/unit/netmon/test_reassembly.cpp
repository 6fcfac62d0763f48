// The TCP stream reassembler: order, duplicates, overlaps (a differing one is refused and the
// stream keeps one version of every byte), retention until acknowledgement, the pending
// bound (a segment that does not fit is refused: no gap ever), sequence wrap-around.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "vitrine/netmon/reassembly.h"

using namespace vitrine::netmon;

namespace {

struct Recorder : StreamSink {
  std::string stream;
  void on_bytes(const uint8_t* d, size_t n) override { stream.append(reinterpret_cast<const char*>(d), n); }
};

// One direction under test, used as the engine uses it: check, then accept what passes.
struct Stream {
  explicit Stream(uint32_t max_pending, std::optional<uint32_t> start = 0, uint32_t max_retained = 1000)
      : reassembler(max_pending, max_retained) {
    if (start) reassembler.start_at(*start);
  }
  SegmentCheck send(uint32_t seq, const std::string& bytes) {
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
    const SegmentCheck c = reassembler.check(seq, data, bytes.size());
    if (c == SegmentCheck::New || c == SegmentCheck::Duplicate) reassembler.accept(seq, data, bytes.size(), out);
    return c;
  }
  const std::string& delivered() const { return out.stream; }
  StreamReassembler reassembler;
  Recorder out;
};

TEST(StreamReassembler, InOrderSegmentsPassStraightThrough) {
  Stream r(100, 1000);
  EXPECT_EQ(r.send(1000, "MSH|"), SegmentCheck::New);
  EXPECT_EQ(r.send(1004, "^~\\&"), SegmentCheck::New);
  EXPECT_EQ(r.delivered(), "MSH|^~\\&");
  EXPECT_EQ(r.reassembler.pending_bytes(), 0u);
  EXPECT_EQ(r.reassembler.counters().buffered_segments, 0u);
}

TEST(StreamReassembler, OutOfOrderSegmentsWaitForTheHole) {
  Stream r(100, 0);
  r.send(6, "world");
  r.send(12, "!");
  EXPECT_EQ(r.delivered(), "");
  EXPECT_EQ(r.reassembler.pending_bytes(), 6u);
  r.send(0, "hello ");
  EXPECT_EQ(r.delivered(), "hello world");  // '!' still waits for byte 11
  r.send(11, " ");
  EXPECT_EQ(r.delivered(), "hello world !");
  EXPECT_EQ(r.reassembler.pending_bytes(), 0u);
  EXPECT_EQ(r.reassembler.counters().buffered_segments, 2u);
}

TEST(StreamReassembler, IdenticalRetransmissionsAreDeliveredOnce) {
  Stream r(100, 0);
  r.send(0, "abcdef");
  EXPECT_EQ(r.send(0, "abcdef"), SegmentCheck::Duplicate);
  EXPECT_EQ(r.send(3, "defghi"), SegmentCheck::New);  // half old (identical), half new
  EXPECT_EQ(r.delivered(), "abcdefghi");
  EXPECT_EQ(r.reassembler.counters().duplicate_bytes, 9u);
}

TEST(StreamReassembler, ARetransmissionWithOtherBytesIsRefused) {
  Stream r(100, 0);
  r.send(0, "ORM^O01");
  EXPECT_EQ(r.send(0, "ADT^A04"), SegmentCheck::Conflict);
  EXPECT_EQ(r.send(4, "O01|more"), SegmentCheck::New);  // agrees where it overlaps
  EXPECT_EQ(r.send(6, "2"), SegmentCheck::Conflict);     // one byte differs
  EXPECT_EQ(r.delivered(), "ORM^O01|more");
}

TEST(StreamReassembler, AnOverlapWithWaitingBytesIsRefusedWhicheverCoversWhich) {
  // The case Windows resolves for the covering segment and netmon used to keep the first:
  // inline, the covering segment with other bytes never reaches the receiver at all.
  Stream r(100, 0);
  r.send(4, "RDE^");                                         // waits
  EXPECT_EQ(r.send(2, "xxADT^O"), SegmentCheck::Conflict);   // covers it with other bytes
  EXPECT_EQ(r.send(2, "xxRDE^O"), SegmentCheck::New);        // covers it with the same ones
  r.send(0, "..");
  EXPECT_EQ(r.delivered(), "..xxRDE^O");
  Stream r2(100, 0);
  r2.send(3, "XYZ");
  EXPECT_EQ(r2.send(0, "abcdefg"), SegmentCheck::Conflict);  // in order, over what waits
  EXPECT_EQ(r2.delivered(), "");
}

TEST(StreamReassembler, AcknowledgedBytesAreReleasedAndNoLongerCompared) {
  Stream r(100, 0);
  r.send(0, "abcdefgh");
  EXPECT_EQ(r.reassembler.retained(0, 100).size(), 8u);
  r.reassembler.acknowledged(5);
  EXPECT_EQ(r.reassembler.retained_from(), 5u);
  EXPECT_TRUE(r.reassembler.retained(0, 100).empty());
  // The receiver discards what it acknowledged, whatever the bytes (a keepalive's garbage).
  EXPECT_EQ(r.send(4, "X"), SegmentCheck::Duplicate);
  EXPECT_EQ(r.send(4, "Xf"), SegmentCheck::Duplicate);
  EXPECT_EQ(r.send(4, "XX"), SegmentCheck::Conflict);  // byte 5 is not acknowledged yet
}

TEST(StreamReassembler, BytesForgottenOverTheRetentionBoundCannotBeRetransmitted) {
  Stream r(100, 0, /*max_retained=*/4);
  r.send(0, "abcdefgh");
  EXPECT_EQ(r.reassembler.retained_from(), 4u);
  EXPECT_EQ(r.reassembler.counters().retention_overflows, 1u);
  EXPECT_EQ(r.send(2, "cd"), SegmentCheck::Unverifiable);
  r.reassembler.acknowledged(4);
  EXPECT_EQ(r.send(2, "cd"), SegmentCheck::Duplicate);
}

TEST(StreamReassembler, ASegmentBeyondThePendingBoundIsRefusedAndTheStreamHasNoGap) {
  Stream r(8, 0);
  r.send(4, "EFGH");                                   // 4 pending
  r.send(10, "KLMN");                                  // 8 pending: at the bound
  EXPECT_EQ(r.send(16, "QR"), SegmentCheck::BeyondBound);
  EXPECT_EQ(r.reassembler.pending_bytes(), 8u);
  EXPECT_EQ(r.send(5, "FG"), SegmentCheck::Duplicate);  // nothing new: needs no room
  r.send(0, "ABCD");
  r.send(8, "IJ");
  EXPECT_EQ(r.send(16, "QR"), SegmentCheck::New);       // in order now
  r.send(14, "OP");
  EXPECT_EQ(r.delivered(), "ABCDEFGHIJKLMNOPQR");
}

TEST(StreamReassembler, SequenceNumbersWrapAround) {
  Stream r(100, 0xfffffffc);
  r.send(0x00000000, "efgh");  // after the wrap: waits
  r.send(0xfffffffc, "abcd");
  EXPECT_EQ(r.delivered(), "abcdefgh");
  r.reassembler.acknowledged(0x00000002);
  EXPECT_EQ(r.reassembler.retained_from(), 6u);
}

TEST(StreamReassembler, BytesBeforeTheStreamStartAreNotPartOfIt) {
  Stream r(100, 1000);
  EXPECT_EQ(r.send(999, "x"), SegmentCheck::Duplicate);  // the ISN's place: a keepalive probe
  EXPECT_EQ(r.send(998, "xyab"), SegmentCheck::New);     // its tail is the stream's start
  EXPECT_EQ(r.delivered(), "ab");
}

TEST(StreamReassembler, AFlowPickedUpMidwayStartsAtItsFirstSegment) {
  Stream r(100, std::nullopt);
  r.send(5000, "later");
  r.send(4990, "earlier!!!");  // before the first byte seen: not part of this stream
  r.send(5005, " on");
  EXPECT_EQ(r.delivered(), "later on");
}

}  // namespace
