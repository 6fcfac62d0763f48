// One direction of a TCP stream put back in order for what netmon reads of it, anchored at the
// sequence number the handshake gave (ISN + 1). netmon is inline, so it never has to guess
// how the receiving host resolves two versions of the same byte: a segment is first checked
// against what the stream already holds (check()), and one whose bytes differ from those
// already accepted for that place is refused, the engine drops it, and the receiver only ever
// gets one version. Bytes already delivered are kept until the receiver acknowledges them, so
// that a retransmission can be compared; bytes that arrive ahead of the next expected one wait
// in a bounded buffer, and a segment that does not fit is refused (the sender sends it again
// once the hole is filled), so the stream never has a gap.
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
};

// What a segment would do to the stream.
enum class SegmentCheck : uint8_t {
  New,           // brings bytes the stream does not have (any overlap is identical)
  Duplicate,     // only bytes the stream has, identical, or bytes the receiver has acknowledged
  Conflict,      // some byte differs from the one already accepted for that place
  Unverifiable,  // repeats bytes no longer kept (over the retention bound), not yet acknowledged
  BeyondBound,   // out of order and more than the pending bound can wait for
};

struct StreamCounters {
  uint64_t delivered_bytes = 0;
  uint64_t buffered_segments = 0;   // arrived ahead of the next expected byte
  uint64_t duplicate_bytes = 0;     // seen before, identical
  uint64_t retention_overflows = 0; // delivered bytes forgotten before they were acknowledged
};

// Bytes kept in order, added at the back and released from the front, in one buffer that
// grows only as far as what is kept (nothing is allocated for a stream that keeps nothing).
class ByteRing {
 public:
  size_t size() const { return size_; }
  void push_back(const uint8_t* data, size_t len);
  void pop_front(size_t n);
  // Whether `len` bytes from position `from` equal `data`.
  bool equal(size_t from, const uint8_t* data, size_t len) const;
  void copy_out(size_t from, size_t len, uint8_t* out) const;

 private:
  std::vector<uint8_t> buf_;
  size_t head_ = 0;
  size_t size_ = 0;
};

class StreamReassembler {
 public:
  // `max_pending_bytes`: what may wait out of order. `max_retained_bytes`: delivered bytes
  // kept until acknowledged, for comparing retransmissions.
  StreamReassembler(uint32_t max_pending_bytes, uint32_t max_retained_bytes)
      : max_pending_(max_pending_bytes), max_retained_(max_retained_bytes) {}

  // The sequence number of the stream's first byte (the SYN's plus one). Without it, the
  // first segment given starts the stream (a flow picked up midway).
  void start_at(uint32_t seq);
  bool started() const { return started_; }
  // Whether a segment agrees with what the stream holds; changes nothing.
  SegmentCheck check(uint32_t seq, const uint8_t* data, size_t len) const;
  // Takes a segment that check() found New or Duplicate; delivers to `sink` what it makes
  // contiguous, in order, exactly once.
  void accept(uint32_t seq, const uint8_t* data, size_t len, StreamSink& sink);
  // The receiver acknowledged every byte before `ack`: they need not be kept any more.
  void acknowledged(uint32_t ack);

  // Delivered bytes still kept, from stream offset `from` (at most `max` of them); empty when
  // `from` is no longer kept.
  std::vector<uint8_t> retained(uint64_t from, size_t max) const;
  uint64_t retained_from() const { return retained_from_; }
  // Bytes that wait for earlier ones.
  uint32_t pending_bytes() const { return pending_bytes_; }
  // Stream offset of the next byte to deliver.
  uint64_t delivered() const { return delivered_; }
  const StreamCounters& counters() const { return counters_; }

 private:
  // The segment as stream offsets, trimmed of what lies before the stream's start.
  struct Span {
    uint64_t offset = 0;
    const uint8_t* data = nullptr;
    size_t len = 0;
  };
  Span locate(uint32_t seq, const uint8_t* data, size_t len) const;
  bool differs_from_retained(const Span& s) const;
  bool differs_from_pending(const Span& s, uint64_t& new_bytes) const;
  void deliver(const uint8_t* data, size_t len, StreamSink& sink);
  void deliver_ready(StreamSink& sink);
  void store(const Span& s);

  uint32_t max_pending_;
  uint32_t max_retained_;
  bool started_ = false;
  uint32_t base_seq_ = 0;        // the sequence number of stream offset 0
  uint64_t delivered_ = 0;       // stream offset of the next byte to deliver
  uint64_t acknowledged_ = 0;    // the receiver has every byte before this offset
  uint64_t retained_from_ = 0;   // stream offset of retained_.front()
  ByteRing retained_;            // delivered bytes from retained_from_ to delivered_
  // Out-of-order bytes by stream offset; entries never overlap and all lie past delivered_.
  std::map<uint64_t, std::vector<uint8_t>> pending_;
  uint32_t pending_bytes_ = 0;
  StreamCounters counters_;
};

}  // namespace vitrine::netmon
