// The TCP stream reassembler: order, duplicates, overlaps (first wins), the pending bound and
// its gaps, sequence wrap-around.
#include <gtest/gtest.h>

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

void send(StreamReassembler& r, Recorder& out, uint32_t seq, const std::string& bytes) {
  r.segment(seq, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), out);
}

TEST(StreamReassembler, InOrderSegmentsPassStraightThrough) {
  StreamReassembler r(100);
  Recorder out;
  r.start_at(1000);
  send(r, out, 1000, "MSH|");
  send(r, out, 1004, "^~\\&");
  EXPECT_EQ(out.stream, "MSH|^~\\&");
  EXPECT_EQ(r.pending_bytes(), 0u);
  EXPECT_EQ(r.counters().buffered_segments, 0u);
}

TEST(StreamReassembler, OutOfOrderSegmentsWaitForTheHole) {
  StreamReassembler r(100);
  Recorder out;
  r.start_at(0);
  send(r, out, 6, "world");
  send(r, out, 12, "!");
  EXPECT_EQ(out.stream, "");
  EXPECT_EQ(r.pending_bytes(), 6u);
  send(r, out, 0, "hello ");
  EXPECT_EQ(out.stream, "hello world");  // '!' still waits for byte 11
  send(r, out, 11, " ");
  EXPECT_EQ(out.stream, "hello world !");
  EXPECT_EQ(r.pending_bytes(), 0u);
  EXPECT_EQ(r.counters().buffered_segments, 2u);
}

TEST(StreamReassembler, RetransmissionsAreDeliveredOnce) {
  StreamReassembler r(100);
  Recorder out;
  r.start_at(0);
  send(r, out, 0, "abcdef");
  send(r, out, 0, "abcdef");
  send(r, out, 3, "defghi");  // half old, half new
  EXPECT_EQ(out.stream, "abcdefghi");
  EXPECT_EQ(r.counters().duplicate_bytes, 9u);
}

TEST(StreamReassembler, OverlapsKeepTheBytesSeenFirstAndCountConflicts) {
  StreamReassembler r(100);
  Recorder out;
  r.start_at(0);
  send(r, out, 4, "RDE^");     // waits
  send(r, out, 2, "xxADT^O");  // overlaps the waiting bytes with other ones
  send(r, out, 0, "..");
  EXPECT_EQ(out.stream, "..xxRDE^O");
  EXPECT_EQ(r.counters().overlap_conflicts, 1u);
  // The same with the in-order segment overlapping what waits.
  StreamReassembler r2(100);
  Recorder out2;
  r2.start_at(0);
  send(r2, out2, 3, "XYZ");
  send(r2, out2, 0, "abcdefg");
  EXPECT_EQ(out2.stream, "abcXYZg");
  EXPECT_EQ(r2.counters().overlap_conflicts, 1u);
}

TEST(StreamReassembler, TheBoundTurnsTheOldestHoleIntoAGap) {
  StreamReassembler r(8);
  Recorder out;
  r.start_at(0);
  send(r, out, 4, "EFGH");  // 4 pending
  send(r, out, 10, "KLMN");  // 8 pending: at the bound
  EXPECT_EQ(out.stream, "");
  send(r, out, 16, "QR");  // would be 10: bytes 0-3 become a gap and EFGH goes on
  EXPECT_EQ(out.stream, "####EFGH");
  EXPECT_EQ(r.pending_bytes(), 6u);
  EXPECT_EQ(r.counters().limit_hits, 1u);
  EXPECT_EQ(r.counters().gap_bytes, 4u);
  send(r, out, 2, "CD");  // inside the gap: too late, never delivered
  send(r, out, 8, "IJ");
  send(r, out, 14, "OP");
  EXPECT_EQ(out.stream, "####EFGHIJKLMNOPQR");
  // A segment far ahead with nothing waiting: the hole before it is the gap.
  send(r, out, 30, "0123456789");
  EXPECT_EQ(out.stream, "####EFGHIJKLMNOPQR############0123456789");
  EXPECT_EQ(r.counters().gaps, 2u);
}

TEST(StreamReassembler, SequenceNumbersWrapAround) {
  StreamReassembler r(100);
  Recorder out;
  r.start_at(0xfffffffc);
  send(r, out, 0x00000000, "efgh");  // after the wrap: waits
  send(r, out, 0xfffffffc, "abcd");
  EXPECT_EQ(out.stream, "abcdefgh");
}

TEST(StreamReassembler, AFlowPickedUpMidwayStartsAtItsFirstSegment) {
  StreamReassembler r(100);
  Recorder out;
  send(r, out, 5000, "later");
  send(r, out, 4990, "earlier!!!");  // before the first byte seen: not part of this stream
  send(r, out, 5005, " on");
  EXPECT_EQ(out.stream, "later on");
}

}  // namespace
