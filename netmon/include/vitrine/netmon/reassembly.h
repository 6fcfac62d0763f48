// One direction of a TCP stream put back in order for an inspector. Segments that arrive ahead
// of the next expected byte wait in a bounded buffer; bytes are handed on exactly once, in
// order. Overlaps are resolved one way: the bytes seen first win (a retransmission or a
// later overlapping segment never replaces what was already delivered or buffered), and an
// overlap whose bytes differ is counted, since only an evasion attempt sends two versions of
// the same byte. When the buffer would outgrow its bound, the missing bytes are declared a
// gap, reported to the inspector, and delivery goes on after it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

namespace vitrine::netmon {

class StreamSink {
 public:
  virtual ~StreamSink() = default;
  virtual void on_bytes(const uint8_t* data, size_t len) = 0;
  // `len` bytes of the stream will never be delivered.
  virtual void on_gap(size_t len) = 0;
};

struct StreamCounters {
  uint64_t delivered_bytes = 0;
  uint64_t buffered_segments = 0;    // arrived ahead of the next expected byte
  uint64_t duplicate_bytes = 0;      // seen before, identical
  uint64_t overlap_conflicts = 0;    // seen before with different bytes: the first kept
  uint64_t gaps = 0;
  uint64_t gap_bytes = 0;
  uint64_t limit_hits = 0;           // the out-of-order bound forced a gap
};

class StreamReassembler {
 public:
  // `max_pending_bytes`: what may wait out of order; past it, a gap is declared.
  explicit StreamReassembler(uint32_t max_pending_bytes) : max_pending_(max_pending_bytes) {}

  // The sequence number of the stream's first byte (the SYN's plus one). Without it, the
  // first segment seen starts the stream (a flow picked up midway).
  void start_at(uint32_t seq);
  bool started() const { return started_; }
  // One segment's payload. Delivers to `sink` whatever it makes contiguous.
  void segment(uint32_t seq, const uint8_t* data, size_t len, StreamSink& sink);
  // Bytes that wait for earlier ones.
  uint32_t pending_bytes() const { return pending_bytes_; }
  // Stream offset of the next byte to deliver (bytes delivered plus gaps).
  uint64_t delivered() const { return delivered_; }
  const StreamCounters& counters() const { return counters_; }

 private:
  void deliver_ready(StreamSink& sink);
  void store(uint64_t offset, const uint8_t* data, size_t len);
  void insert_piece(uint64_t offset, const uint8_t* data, size_t len);
  void gap_to(uint64_t offset, StreamSink& sink);

  uint32_t max_pending_;
  bool started_ = false;
  uint32_t base_seq_ = 0;   // the sequence number of stream offset 0
  uint64_t delivered_ = 0;  // stream offset of the next byte to deliver
  // Out-of-order bytes by stream offset; entries never overlap and all lie past delivered_.
  std::map<uint64_t, std::vector<uint8_t>> pending_;
  uint32_t pending_bytes_ = 0;
  StreamCounters counters_;
};

}  // namespace vitrine::netmon
