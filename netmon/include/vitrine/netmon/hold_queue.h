// Frames held back while their flow's verdict, or its protocol, is still to be known: copies
// kept per flow within the policy's hold bounds (packets, bytes, milliseconds), and the
// deadlines of all flows that hold, earliest first, so that the live loop knows how long it
// may sleep. Held bytes are also bounded per side of the flows' openers, so that a flood of
// pending flows from one side cannot take the memory the other side's flows hold with.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <utility>
#include <vector>

#include "vitrine/netmon/flow.h"
#include "vitrine/policy/policy.h"

namespace vitrine::netmon {

// All the frames held for flows one side opened, at most: 256 flows each at the 64 KiB hold
// bound. A cabinet's own pending flows hold a few kilobytes for milliseconds.
inline constexpr size_t kMaxHeldBytesPerSide = 16u << 20;

class HoldQueue {
 public:
  enum class Result : uint8_t {
    Held,
    OverPackets,  // limits.holdPackets: the flow's verdict must be decided now
    OverBytes,    // limits.holdBytes: likewise
    OverSide,     // kMaxHeldBytesPerSide: this frame is dropped (TCP sends it again)
  };
  // What a flow holds for: its verdict (bounded by packets, bytes and time), or one message of
  // an allowed flow (bytes and time only: a sender may write a message a segment at a time).
  enum class For : uint8_t { Verdict, Message };
  // Holds a copy of the frame for `flow`, sent on to `to` if the flow is allowed. The first
  // frame a flow holds sets its deadline, limits.holdMilliseconds later.
  Result hold(Flow& flow, const uint8_t* data, size_t len, Side to, uint8_t endpoint, SeqSpan tcp,
              uint64_t now_us, const policy::Limits& limits, For what = For::Verdict);
  // The flow's held frames, in the order they arrived; the flow holds nothing after.
  std::vector<HeldFrame> take(Flow& flow);
  // The flow whose deadline is earliest, if that is at or before `now_us`.
  Flow* due(uint64_t now_us) const;
  // The earliest deadline, 0 if none.
  uint64_t next_deadline_us() const { return deadlines_.empty() ? 0 : deadlines_.begin()->first; }
  size_t frames() const { return frames_; }
  void clear();

 private:
  std::set<std::pair<uint64_t, Flow*>> deadlines_;
  size_t frames_ = 0;
  size_t bytes_by_side_[2] = {0, 0};
};

}  // namespace vitrine::netmon
