#include "vitrine/netmon/reassembly.h"

#include <algorithm>
#include <cstring>

namespace vitrine::netmon {

void StreamReassembler::start_at(uint32_t seq) {
  if (started_) return;
  started_ = true;
  base_seq_ = seq;
}

void StreamReassembler::segment(uint32_t seq, const uint8_t* data, size_t len, StreamSink& sink) {
  if (len == 0) return;
  start_at(seq);
  // Where the segment lies relative to the next byte expected, modulo 2^32: a window of
  // +-2 GiB around it, far beyond any real TCP window.
  const uint32_t next_seq = base_seq_ + static_cast<uint32_t>(delivered_);
  const int64_t relative = static_cast<int32_t>(seq - next_seq);
  if (relative < 0 && static_cast<uint64_t>(-relative) > delivered_) return;  // before the stream began
  uint64_t offset = delivered_ + relative;
  // What was delivered already stays as it was (first wins): keep only the rest.
  auto trim_delivered = [&] {
    if (offset >= delivered_) return true;
    const size_t seen = static_cast<size_t>(std::min<uint64_t>(delivered_ - offset, len));
    counters_.duplicate_bytes += seen;
    data += seen;
    len -= seen;
    offset += seen;
    return len > 0;
  };
  if (!trim_delivered()) return;
  if (offset == delivered_ && pending_.empty()) {  // the common case: in order, nothing waiting
    delivered_ += len;
    counters_.delivered_bytes += len;
    sink.on_bytes(data, len);
    return;
  }
  if (offset > delivered_) ++counters_.buffered_segments;
  // Room for it: declare the oldest hole a gap until the bound holds (an in-order segment
  // needs no room: it is delivered straight after being merged).
  while (offset > delivered_ && pending_bytes_ + len > max_pending_) {
    ++counters_.limit_hits;
    gap_to(pending_.empty() ? offset : std::min(offset, pending_.begin()->first), sink);
    deliver_ready(sink);
    if (!trim_delivered()) return;
  }
  store(offset, data, len);
  deliver_ready(sink);
}

void StreamReassembler::store(uint64_t offset, const uint8_t* data, size_t len) {
  const uint64_t end = offset + len;
  uint64_t pos = offset;
  // Bytes already waiting keep their place; the new segment fills only what is missing.
  auto compare_overlap = [&](uint64_t from, uint64_t to, const std::pair<const uint64_t, std::vector<uint8_t>>& e) {
    const uint8_t* old_bytes = e.second.data() + (from - e.first);
    const uint8_t* new_bytes = data + (from - offset);
    const size_t n = static_cast<size_t>(to - from);
    counters_.duplicate_bytes += n;
    if (std::memcmp(old_bytes, new_bytes, n) != 0) ++counters_.overlap_conflicts;
  };
  auto it = pending_.upper_bound(pos);
  if (it != pending_.begin()) {
    const auto& prev = *std::prev(it);
    const uint64_t prev_end = prev.first + prev.second.size();
    if (prev_end > pos) {
      const uint64_t to = std::min(prev_end, end);
      compare_overlap(pos, to, prev);
      pos = to;
    }
  }
  while (pos < end) {
    it = pending_.lower_bound(pos);
    if (it == pending_.end() || it->first >= end) {
      insert_piece(pos, data + (pos - offset), static_cast<size_t>(end - pos));
      return;
    }
    if (it->first > pos) insert_piece(pos, data + (pos - offset), static_cast<size_t>(it->first - pos));
    const uint64_t to = std::min<uint64_t>(it->first + it->second.size(), end);
    compare_overlap(it->first, to, *it);
    pos = to;
  }
}

void StreamReassembler::insert_piece(uint64_t offset, const uint8_t* data, size_t len) {
  pending_.emplace(offset, std::vector<uint8_t>(data, data + len));
  pending_bytes_ += static_cast<uint32_t>(len);
}

void StreamReassembler::deliver_ready(StreamSink& sink) {
  while (!pending_.empty() && pending_.begin()->first <= delivered_) {
    auto node = pending_.extract(pending_.begin());
    const std::vector<uint8_t>& bytes = node.mapped();
    pending_bytes_ -= static_cast<uint32_t>(bytes.size());
    const uint64_t end = node.key() + bytes.size();
    if (end <= delivered_) continue;  // covered by what was delivered since it was stored
    const size_t skip = static_cast<size_t>(delivered_ - node.key());
    const size_t n = bytes.size() - skip;
    delivered_ = end;
    counters_.delivered_bytes += n;
    sink.on_bytes(bytes.data() + skip, n);
  }
}

void StreamReassembler::gap_to(uint64_t offset, StreamSink& sink) {
  if (offset <= delivered_) return;
  const uint64_t n = offset - delivered_;
  ++counters_.gaps;
  counters_.gap_bytes += n;
  delivered_ = offset;
  sink.on_gap(static_cast<size_t>(n));
}

}  // namespace vitrine::netmon
