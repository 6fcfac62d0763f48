#include "vitrine/netmon/flow.h"

#include <cstring>

namespace vitrine::netmon {

FlowKey FlowKey::of(const IpAddr& a, uint16_t a_port, const IpAddr& b, uint16_t b_port,
                    uint8_t ip_protocol) {
  FlowKey k;
  k.ip_protocol = ip_protocol;
  const bool a_first = a < b || (a == b && a_port <= b_port);
  k.low_ip = a_first ? a : b;
  k.high_ip = a_first ? b : a;
  k.low_port = a_first ? a_port : b_port;
  k.high_port = a_first ? b_port : a_port;
  return k;
}

size_t FlowKeyHash::operator()(const FlowKey& k) const noexcept {
  // Word-wise multiply-xorshift mixing over the key. The table is bounded, so the hash needs
  // to spread keys, not to resist an attacker (the guest controls only its own endpoint).
  uint64_t words[4];
  std::memcpy(words, k.low_ip.bytes.data() + 8, 8);
  std::memcpy(words + 1, k.high_ip.bytes.data() + 8, 8);
  uint64_t prefixes[2];
  std::memcpy(prefixes, k.low_ip.bytes.data(), 8);
  std::memcpy(prefixes + 1, k.high_ip.bytes.data(), 8);
  words[2] = prefixes[0] ^ (prefixes[1] * 0x9e3779b97f4a7c15ull);
  words[3] = (uint64_t{k.low_port} << 24) | (uint64_t{k.high_port} << 8) | k.ip_protocol;
  uint64_t h = 0x2545f4914f6cdd1dull;
  for (uint64_t w : words) {
    h ^= w;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  return static_cast<size_t>(h);
}

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::Pending: return "pending";
    case Verdict::Allow: return "allow";
    case Verdict::Deny: return "deny";
  }
  return "?";
}

FlowTimeouts FlowTimeouts::from(const policy::Limits& l) {
  constexpr uint64_t kUs = 1000000;
  FlowTimeouts t{};
  t.by_class[static_cast<size_t>(TimeoutClass::Tcp)] = l.tcp_idle_timeout_s * kUs;
  t.by_class[static_cast<size_t>(TimeoutClass::TcpClosed)] = l.tcp_closed_timeout_s * kUs;
  t.by_class[static_cast<size_t>(TimeoutClass::Udp)] = l.udp_idle_timeout_s * kUs;
  t.by_class[static_cast<size_t>(TimeoutClass::Other)] = l.other_idle_timeout_s * kUs;
  return t;
}

FlowTable::FlowTable(uint32_t max_flows, FlowTimeouts timeouts)
    : max_flows_(max_flows), timeouts_(timeouts) {
  flows_.reserve(max_flows);
}

FlowTable::~FlowTable() = default;

Flow* FlowTable::find(const FlowKey& key) {
  const auto it = flows_.find(key);
  return it == flows_.end() ? nullptr : it->second.get();
}

const Flow* FlowTable::find(const FlowKey& key) const {
  const auto it = flows_.find(key);
  return it == flows_.end() ? nullptr : it->second.get();
}

Flow* FlowTable::insert(const FlowKey& key, TimeoutClass cls, uint64_t now_us) {
  if (flows_.size() >= max_flows_) return nullptr;
  auto flow = std::make_unique<Flow>();
  Flow* raw = flow.get();
  raw->key = key;
  raw->first_us = raw->last_us = now_us;
  raw->timeout_class = cls;
  auto& list = recency_[static_cast<size_t>(cls)];
  raw->recency = list.insert(list.end(), raw);
  flows_.emplace(key, std::move(flow));
  return raw;
}

void FlowTable::touch(Flow& flow, TimeoutClass cls, uint64_t now_us) {
  if (now_us > flow.last_us) flow.last_us = now_us;
  auto& from = recency_[static_cast<size_t>(flow.timeout_class)];
  auto& to = recency_[static_cast<size_t>(cls)];
  to.splice(to.end(), from, flow.recency);
  flow.timeout_class = cls;
}

Flow* FlowTable::oldest() {
  Flow* best = nullptr;
  for (auto& list : recency_)
    if (!list.empty() && (best == nullptr || list.front()->last_us < best->last_us))
      best = list.front();
  return best;
}

void FlowTable::expire(uint64_t now_us, const std::function<void(Flow&)>& on_end) {
  for (size_t c = 0; c < static_cast<size_t>(TimeoutClass::kCount); ++c) {
    auto& list = recency_[c];
    while (!list.empty() && list.front()->last_us + timeouts_.by_class[c] <= now_us) {
      Flow* flow = list.front();
      on_end(*flow);
      remove(*flow);
    }
  }
}

void FlowTable::remove(Flow& flow) {
  recency_[static_cast<size_t>(flow.timeout_class)].erase(flow.recency);
  flows_.erase(flow.key);  // destroys the flow
}

void FlowTable::for_each(const std::function<void(Flow&)>& visit) {
  for (auto& [key, flow] : flows_) visit(*flow);
}

void FlowTable::drain(const std::function<void(Flow&)>& on_end) {
  for (auto& [key, flow] : flows_) on_end(*flow);
  for (auto& list : recency_) list.clear();
  flows_.clear();
}

}  // namespace vitrine::netmon
