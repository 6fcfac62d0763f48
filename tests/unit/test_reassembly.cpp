// The TCP stream reassembler: order, duplicates, overlaps (first wins), the pending bound and
// its gaps, sequence wrap-around.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "vitrine/netmon/reassembly.h"

using namespace vitrine::netmon;

namespace {

// Records the stream as delivered, with gaps written as '#' runs.
struct Recorder : StreamSink {
  std::string stream;
  size_t gaps = 0;
  void on_bytes(const uint8_t* d, size_t n) override { stream.append(reinterpret_cast<const char*>(d), n); }
  void on_gap(size_t n) override {
    stream.append(n, '#');
    ++gaps;
  }
};

// One direction under test: the reassembler, what it delivered, and a way to send it text.
struct Stream {
  explicit Stream(uint32_t max_pending, std::optional<uint32_t> start = 0) : reassembler(max_pending) {
    if (start) reassembler.start_at(*start);
  }
  void send(uint32_t seq, const std::string& bytes) {
    reassembler.segment(seq, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), out);
  }
  const std::string& delivered() const { return out.stream; }
  StreamReassembler reassembler;
  Recorder out;
};

TEST(StreamReassembler, InOrderSegmentsPassStraightThrough) {
  Stream r(100, 1000);
  r.send(1000, "MSH|");
  r.send(1004, "^~\\&");
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

TEST(StreamReassembler, RetransmissionsAreDeliveredOnce) {
  Stream r(100, 0);
  r.send(0, "abcdef");
  r.send(0, "abcdef");
  r.send(3, "defghi");  // half old, half new
  EXPECT_EQ(r.delivered(), "abcdefghi");
  EXPECT_EQ(r.reassembler.counters().duplicate_bytes, 9u);
}

TEST(StreamReassembler, OverlapsKeepTheBytesSeenFirstAndCountConflicts) {
  Stream r(100, 0);
  r.send(4, "RDE^");     // waits
  r.send(2, "xxADT^O");  // overlaps the waiting bytes with other ones
  r.send(0, "..");
  EXPECT_EQ(r.delivered(), "..xxRDE^O");
  EXPECT_EQ(r.reassembler.counters().overlap_conflicts, 1u);
  // The same with the in-order segment overlapping what waits.
  Stream r2(100, 0);
  r2.send(3, "XYZ");
  r2.send(0, "abcdefg");
  EXPECT_EQ(r2.delivered(), "abcXYZg");
  EXPECT_EQ(r2.reassembler.counters().overlap_conflicts, 1u);
}

TEST(StreamReassembler, TheBoundTurnsTheOldestHoleIntoAGap) {
  Stream r(8, 0);
  r.send(4, "EFGH");  // 4 pending
  r.send(10, "KLMN");  // 8 pending: at the bound
  EXPECT_EQ(r.delivered(), "");
  r.send(16, "QR");  // would be 10: bytes 0-3 become a gap and EFGH goes on
  EXPECT_EQ(r.delivered(), "####EFGH");
  EXPECT_EQ(r.reassembler.pending_bytes(), 6u);
  EXPECT_EQ(r.reassembler.counters().limit_hits, 1u);
  EXPECT_EQ(r.reassembler.counters().gap_bytes, 4u);
  r.send(2, "CD");  // inside the gap: too late, never delivered
  r.send(8, "IJ");
  r.send(14, "OP");
  EXPECT_EQ(r.delivered(), "####EFGHIJKLMNOPQR");
  // A segment far ahead with nothing waiting: the hole before it is the gap.
  r.send(30, "0123456789");
  EXPECT_EQ(r.delivered(), "####EFGHIJKLMNOPQR############0123456789");
  EXPECT_EQ(r.reassembler.counters().gaps, 2u);
}

TEST(StreamReassembler, SequenceNumbersWrapAround) {
  Stream r(100, 0xfffffffc);
  r.send(0x00000000, "efgh");  // after the wrap: waits
  r.send(0xfffffffc, "abcd");
  EXPECT_EQ(r.delivered(), "abcdefgh");
}

TEST(StreamReassembler, AFlowPickedUpMidwayStartsAtItsFirstSegment) {
  Stream r(100, std::nullopt);
  r.send(5000, "later");
  r.send(4990, "earlier!!!");  // before the first byte seen: not part of this stream
  r.send(5005, " on");
  EXPECT_EQ(r.delivered(), "later on");
}

}  // namespace
