// Flows denied at their first packet, remembered briefly and cheaply instead of in the flow
// table: a port scan or a flood of SYNs that no rule allows takes none of the table's room,
// yet a client's retransmitted SYN is still counted as the same denied flow. The same bounded
// memory keeps, for longer, the 5-tuples of flows netmon cut, so that a continuation of one
// cannot begin a fresh flow that was never inspected. Entries live a fixed time from their
// first packet; when full, the oldest goes. Both bounds are named where the engine makes them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>

#include "vitrine/netmon/flow.h"

namespace vitrine::netmon {

struct DeniedFlow {
  // Oriented as its initiator sent it.
  IpAddr src;
  IpAddr dst;
  uint16_t sport = 0;
  uint16_t dport = 0;
  uint8_t ip_protocol = 0;
  policy::Direction direction = policy::Direction::Egress;
  uint64_t first_us = 0;
  uint64_t packets = 0;
  uint64_t bytes = 0;
  std::string rule;  // what denied it
  bool midstream = false;  // denied for lack of a handshake: a SYN on its ports is judged afresh
};

class DenyCache {
 public:
  using OnEnd = std::function<void(const DeniedFlow&)>;
  DenyCache(size_t capacity, uint64_t lifetime_us) : capacity_(capacity), lifetime_us_(lifetime_us) {}

  // The entry for `key`, or nullptr when there is none (or it has expired).
  DeniedFlow* find(const FlowKey& key, uint64_t now_us);
  // Remembers a denied flow; when full, the oldest entry ends first (`on_end`).
  DeniedFlow& insert(const FlowKey& key, DeniedFlow flow, const OnEnd& on_end);
  // Forgets an entry without ending it (a new connection on its ports is judged afresh).
  void erase(const FlowKey& key) { entries_.erase(key); }
  // Forgets, without ending them, the entries whose key `pred` names.
  template <typename Pred>
  void forget_if(Pred pred) {
    std::erase_if(entries_, [&pred](const auto& entry) { return pred(entry.first); });
  }
  // Ends every entry older than its lifetime.
  void expire(uint64_t now_us, const OnEnd& on_end);
  // Ends every entry.
  void drain(const OnEnd& on_end);
  size_t size() const { return entries_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  void end_oldest(const OnEnd& on_end);

  size_t capacity_;
  uint64_t lifetime_us_;
  std::unordered_map<FlowKey, DeniedFlow, FlowKeyHash> entries_;
  // Insertion order, which is expiry order; an entry erased or inserted again leaves a stale
  // element here, told apart by its time.
  std::deque<std::pair<FlowKey, uint64_t>> order_;
};

}  // namespace vitrine::netmon
