#include "vitrine/netmon/hold_queue.h"

namespace vitrine::netmon {

HoldQueue::Result HoldQueue::hold(Flow& flow, const uint8_t* data, size_t len, Side to, uint8_t endpoint,
                                  SeqSpan tcp, uint64_t now_us, const policy::Limits& limits, For what) {
  const size_t count = flow.held_count();
  const uint32_t bytes = flow.held ? flow.held->bytes : 0;
  if (what == For::Verdict && count + 1 > limits.hold_packets) return Result::OverPackets;
  if (bytes + len > limits.hold_bytes) return Result::OverBytes;
  size_t& side_bytes = bytes_by_side_[static_cast<size_t>(flow.opener)];
  if (side_bytes + len > kMaxHeldBytesPerSide) return Result::OverSide;
  if (!flow.held) flow.held = std::make_unique<HeldFrames>();
  HeldFrames& h = *flow.held;
  h.frames.push_back(HeldFrame{std::vector<uint8_t>(data, data + len), to, endpoint, tcp});
  h.bytes += static_cast<uint32_t>(len);
  side_bytes += len;
  ++frames_;
  if (h.deadline_us == 0) {
    h.deadline_us = now_us + uint64_t{limits.hold_ms} * 1000;
    deadlines_.insert({h.deadline_us, &flow});
  }
  return Result::Held;
}

std::vector<HeldFrame> HoldQueue::take(Flow& flow) {
  if (!flow.held) return {};
  std::unique_ptr<HeldFrames> h = std::move(flow.held);
  if (h->deadline_us != 0) deadlines_.erase({h->deadline_us, &flow});
  frames_ -= h->frames.size();
  bytes_by_side_[static_cast<size_t>(flow.opener)] -= h->bytes;
  return std::move(h->frames);
}

Flow* HoldQueue::due(uint64_t now_us) const {
  if (deadlines_.empty() || deadlines_.begin()->first > now_us) return nullptr;
  return deadlines_.begin()->second;
}

void HoldQueue::clear() {
  deadlines_.clear();
  frames_ = 0;
  bytes_by_side_[0] = bytes_by_side_[1] = 0;
}

}  // namespace vitrine::netmon
