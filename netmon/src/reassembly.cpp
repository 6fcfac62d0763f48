#include "vitrine/netmon/reassembly.h"

#include <algorithm>
#include <cstring>

namespace vitrine::netmon {

void ByteRing::push_back(const uint8_t* data, size_t len) {
  if (size_ + len > buf_.size()) {
    std::vector<uint8_t> bigger(std::max(size_ + len, buf_.size() * 2));
    copy_out(0, size_, bigger.data());
    buf_.swap(bigger);
    head_ = 0;
  }
  const size_t tail = (head_ + size_) % buf_.size();
  const size_t first = std::min(len, buf_.size() - tail);
  std::memcpy(buf_.data() + tail, data, first);
  std::memcpy(buf_.data(), data + first, len - first);
  size_ += len;
}

void ByteRing::pop_front(size_t n) {
  n = std::min(n, size_);
  if (n == 0) return;
  head_ = (head_ + n) % buf_.size();
  size_ -= n;
}

bool ByteRing::equal(size_t from, const uint8_t* data, size_t len) const {
  const size_t at = (head_ + from) % buf_.size();
  const size_t first = std::min(len, buf_.size() - at);
  return std::memcmp(buf_.data() + at, data, first) == 0 && std::memcmp(buf_.data(), data + first, len - first) == 0;
}

void ByteRing::copy_out(size_t from, size_t len, uint8_t* out) const {
  if (len == 0) return;
  const size_t at = (head_ + from) % buf_.size();
  const size_t first = std::min(len, buf_.size() - at);
  std::memcpy(out, buf_.data() + at, first);
  std::memcpy(out + first, buf_.data(), len - first);
}

void StreamReassembler::start_at(uint32_t seq) {
  if (started_) return;
  started_ = true;
  base_seq_ = seq;
}

StreamReassembler::Span StreamReassembler::locate(uint32_t seq, const uint8_t* data, size_t len) const {
  // Where the segment lies relative to the next byte expected, modulo 2^32: a window of
  // +-2 GiB around it, far beyond any TCP window (the tracker has checked the window).
  const uint32_t next_seq = base_seq_ + static_cast<uint32_t>(delivered_);
  const int64_t relative = static_cast<int32_t>(seq - next_seq);
  Span s{0, data, len};
  if (relative < 0 && static_cast<uint64_t>(-relative) > delivered_) {
    // Starts before the stream's first byte (a keepalive's byte before it, say): the receiver
    // has nothing there to compare, and discards it.
    const uint64_t before = static_cast<uint64_t>(-relative) - delivered_;
    if (before >= len) return Span{0, data, 0};
    s.data += before;
    s.len -= static_cast<size_t>(before);
    return s;
  }
  s.offset = delivered_ + relative;
  return s;
}

bool StreamReassembler::differs_from_retained(const Span& s) const {
  // Only the part the receiver may not have yet is compared: what it has acknowledged it
  // discards whatever the bytes (a keepalive's garbage byte, say).
  const uint64_t from = std::max(s.offset, acknowledged_);
  const uint64_t to = std::min<uint64_t>(s.offset + s.len, delivered_);
  if (from >= to) return false;
  return !retained_.equal(static_cast<size_t>(from - retained_from_), s.data + (from - s.offset),
                          static_cast<size_t>(to - from));
}

bool StreamReassembler::differs_from_pending(const Span& s, uint64_t& new_bytes) const {
  const uint64_t start = std::max(s.offset, delivered_);
  const uint64_t end = s.offset + s.len;
  new_bytes = end > start ? end - start : 0;
  if (new_bytes == 0 || pending_.empty()) return false;
  auto it = pending_.upper_bound(start);
  if (it != pending_.begin()) --it;
  for (; it != pending_.end() && it->first < end; ++it) {
    const uint64_t piece_end = it->first + it->second.size();
    const uint64_t from = std::max(start, it->first);
    const uint64_t to = std::min(end, piece_end);
    if (from >= to) continue;
    if (std::memcmp(s.data + (from - s.offset), it->second.data() + (from - it->first), to - from) != 0)
      return true;
    new_bytes -= to - from;
  }
  return false;
}

SegmentCheck StreamReassembler::check(uint32_t seq, const uint8_t* data, size_t len) const {
  if (len == 0) return SegmentCheck::Duplicate;
  if (!started_) return SegmentCheck::New;
  const Span s = locate(seq, data, len);
  if (s.len == 0) return SegmentCheck::Duplicate;
  // Delivered bytes forgotten over the retention bound and not yet acknowledged: a
  // retransmission of them cannot be compared with what was read.
  if (s.offset < retained_from_ && std::min<uint64_t>(s.offset + s.len, retained_from_) > acknowledged_)
    return SegmentCheck::Unverifiable;
  if (differs_from_retained(s)) return SegmentCheck::Conflict;
  uint64_t new_bytes = 0;
  if (differs_from_pending(s, new_bytes)) return SegmentCheck::Conflict;
  if (new_bytes == 0) return SegmentCheck::Duplicate;
  // In order, it is delivered at once and needs no room; ahead of a hole, it must fit.
  if (s.offset > delivered_ && pending_bytes_ + new_bytes > max_pending_) return SegmentCheck::BeyondBound;
  return SegmentCheck::New;
}

void StreamReassembler::accept(uint32_t seq, const uint8_t* data, size_t len, StreamSink& sink) {
  if (len == 0) return;
  start_at(seq);
  Span s = locate(seq, data, len);
  if (s.offset < delivered_) {  // already delivered: identical, as check() found
    const size_t seen = static_cast<size_t>(std::min<uint64_t>(delivered_ - s.offset, s.len));
    counters_.duplicate_bytes += seen;
    s.data += seen;
    s.len -= seen;
    s.offset += seen;
  }
  if (s.len == 0) return;
  if (s.offset == delivered_ && pending_.empty()) {  // the common case: in order, nothing waiting
    deliver(s.data, s.len, sink);
    return;
  }
  if (s.offset > delivered_) ++counters_.buffered_segments;
  store(s);
  deliver_ready(sink);
}

void StreamReassembler::store(const Span& s) {
  // What already waits is identical (check()); only the missing parts are added.
  uint64_t pos = s.offset;
  const uint64_t end = s.offset + s.len;
  auto add = [&](uint64_t from, uint64_t to) {
    if (from >= to) return;
    pending_.emplace(from, std::vector<uint8_t>(s.data + (from - s.offset), s.data + (to - s.offset)));
    pending_bytes_ += static_cast<uint32_t>(to - from);
  };
  auto it = pending_.upper_bound(pos);
  if (it != pending_.begin()) {
    const auto prev = std::prev(it);
    const uint64_t prev_end = prev->first + prev->second.size();
    if (prev_end > pos) {
      counters_.duplicate_bytes += std::min(prev_end, end) - pos;
      pos = std::min(prev_end, end);
    }
  }
  while (pos < end) {
    it = pending_.lower_bound(pos);
    if (it == pending_.end() || it->first >= end) {
      add(pos, end);
      return;
    }
    add(pos, it->first);
    const uint64_t to = std::min<uint64_t>(it->first + it->second.size(), end);
    counters_.duplicate_bytes += to - it->first;
    pos = to;
  }
}

void StreamReassembler::deliver(const uint8_t* data, size_t len, StreamSink& sink) {
  delivered_ += len;
  counters_.delivered_bytes += len;
  // What does not fit is the oldest, released before the new bytes go in (the buffer never
  // holds more than the bound).
  const size_t keep = std::min<size_t>(len, max_retained_);
  if (retained_.size() + keep > max_retained_) {
    const size_t excess = retained_.size() + keep - max_retained_;
    retained_.pop_front(excess);
    if (retained_from_ + excess > acknowledged_) ++counters_.retention_overflows;
    retained_from_ += excess;
  }
  if (keep < len) {  // a segment longer than the bound: only its tail is kept
    retained_from_ += len - keep;
    if (retained_from_ > acknowledged_) ++counters_.retention_overflows;
  }
  retained_.push_back(data + (len - keep), keep);
  sink.on_bytes(data, len);
}

void StreamReassembler::deliver_ready(StreamSink& sink) {
  while (!pending_.empty() && pending_.begin()->first <= delivered_) {
    auto node = pending_.extract(pending_.begin());
    const std::vector<uint8_t>& bytes = node.mapped();
    pending_bytes_ -= static_cast<uint32_t>(bytes.size());
    const uint64_t end = node.key() + bytes.size();
    if (end <= delivered_) continue;
    const size_t skip = static_cast<size_t>(delivered_ - node.key());
    deliver(bytes.data() + skip, bytes.size() - skip, sink);
  }
}

void StreamReassembler::acknowledged(uint32_t ack) {
  if (!started_) return;
  const uint32_t next_seq = base_seq_ + static_cast<uint32_t>(delivered_);
  const int64_t relative = static_cast<int32_t>(ack - next_seq);
  if (relative > 0 || static_cast<uint64_t>(-relative) > delivered_) return;  // ahead, or before the start
  const uint64_t offset = delivered_ + relative;
  if (offset <= acknowledged_) return;
  acknowledged_ = offset;
  if (acknowledged_ > retained_from_) {
    const uint64_t n = std::min<uint64_t>(acknowledged_ - retained_from_, retained_.size());
    retained_.pop_front(static_cast<size_t>(n));
    retained_from_ += n;
  }
}

std::vector<uint8_t> StreamReassembler::retained(uint64_t from, size_t max) const {
  if (from < retained_from_ || from >= delivered_) return {};
  const size_t n = std::min<size_t>(max, static_cast<size_t>(delivered_ - from));
  std::vector<uint8_t> out(n);
  retained_.copy_out(static_cast<size_t>(from - retained_from_), n, out.data());
  return out;
}

}  // namespace vitrine::netmon
