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

namespace {
uint64_t mix(uint64_t h, uint64_t w) {
  h ^= w;
  h *= 0xff51afd7ed558ccdull;
  return h ^ (h >> 32);
}
}  // namespace

size_t FlowKeyHash::operator()(const FlowKey& k) const noexcept {
  // Word-wise multiply-xorshift mixing over the key. The table is bounded, and its lists of
  // unanswered flows are bounded per side, so the hash needs to spread keys, not to resist
  // an attacker.
  uint64_t words[4];
  std::memcpy(words, k.low_ip.bytes.data() + 8, 8);
  std::memcpy(words + 1, k.high_ip.bytes.data() + 8, 8);
  uint64_t prefixes[2];
  std::memcpy(prefixes, k.low_ip.bytes.data(), 8);
  std::memcpy(prefixes + 1, k.high_ip.bytes.data(), 8);
  words[2] = prefixes[0] ^ (prefixes[1] * 0x9e3779b97f4a7c15ull);
  words[3] = (uint64_t{k.low_port} << 24) | (uint64_t{k.high_port} << 8) | k.ip_protocol;
  uint64_t h = 0x2545f4914f6cdd1dull;
  for (uint64_t w : words) h = mix(h, w);
  return static_cast<size_t>(h);
}

size_t IpAddrHash::operator()(const IpAddr& a) const noexcept {
  uint64_t words[2];
  std::memcpy(words, a.bytes.data(), 16);
  return static_cast<size_t>(mix(mix(0x2545f4914f6cdd1dull, words[0]), words[1]));
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
  t.by_class[static_cast<size_t>(TimeoutClass::TcpHalfOpen)] = l.tcp_half_open_timeout_s * kUs;
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
  return it == flows_.end() ? nullptr : &it->second;
}

const Flow* FlowTable::find(const FlowKey& key) const {
  const auto it = flows_.find(key);
  return it == flows_.end() ? nullptr : &it->second;
}

Flow* FlowTable::insert(const FlowKey& key, TimeoutClass cls, uint64_t now_us, Side opener,
                        const IpAddr& initiator) {
  if (flows_.size() >= max_flows_) return nullptr;
  auto [it, inserted] = flows_.try_emplace(key);
  if (!inserted) return nullptr;
  Flow* raw = &it->second;
  raw->key = &it->first;
  raw->first_us = raw->last_us = now_us;
  raw->timeout_class = cls;
  raw->opener = opener;
  recency_[static_cast<size_t>(cls)].push(*raw);
  auto& waiting = unanswered_[static_cast<size_t>(opener)];
  raw->unanswered_pos = waiting.insert(waiting.end(), raw);
  raw->initiator_low = initiator == key.low_ip;  // engine's init_flow says for certain
  if (opener == Side::Uplink) {
    auto& from_source = unanswered_by_source_[initiator];
    raw->source_pos = from_source.insert(from_source.end(), raw);
  }
  return raw;
}

void FlowTable::Recency::push(Flow& f) {
  f.older = youngest;
  f.younger = nullptr;
  (youngest ? youngest->younger : oldest) = &f;
  youngest = &f;
}

void FlowTable::Recency::unlink(Flow& f) {
  (f.older ? f.older->younger : oldest) = f.younger;
  (f.younger ? f.younger->older : youngest) = f.older;
  f.older = f.younger = nullptr;
}

void FlowTable::touch(Flow& flow, TimeoutClass cls, uint64_t now_us) {
  if (now_us > flow.last_us) flow.last_us = now_us;
  recency_[static_cast<size_t>(flow.timeout_class)].unlink(flow);
  recency_[static_cast<size_t>(cls)].push(flow);
  flow.timeout_class = cls;
}

void FlowTable::answered(Flow& flow) {
  if (flow.answered) return;
  leave_unanswered(flow);
  flow.answered = true;
}

void FlowTable::leave_unanswered(Flow& flow) {
  if (flow.answered) return;
  unanswered_[static_cast<size_t>(flow.opener)].erase(flow.unanswered_pos);
  if (flow.opener != Side::Uplink) return;
  const auto it = unanswered_by_source_.find(flow.initiator_ip());
  if (it == unanswered_by_source_.end()) return;
  it->second.erase(flow.source_pos);
  if (it->second.empty()) unanswered_by_source_.erase(it);
}

uint32_t FlowTable::unanswered_from(const IpAddr& ip) const {
  const auto it = unanswered_by_source_.find(ip);
  return it == unanswered_by_source_.end() ? 0 : static_cast<uint32_t>(it->second.size());
}

Flow* FlowTable::oldest_unanswered_from(const IpAddr& ip) {
  const auto it = unanswered_by_source_.find(ip);
  return it == unanswered_by_source_.end() ? nullptr : it->second.front();
}

Flow* FlowTable::oldest() {
  Flow* best = nullptr;
  for (auto& list : recency_)
    if (list.oldest != nullptr && (best == nullptr || list.oldest->last_us < best->last_us)) best = list.oldest;
  return best;
}

Flow* FlowTable::oldest_unanswered(Side side) {
  auto& list = unanswered_[static_cast<size_t>(side)];
  return list.empty() ? nullptr : list.front();
}

void FlowTable::expire(uint64_t now_us, const std::function<void(Flow&)>& on_end) {
  for (size_t c = 0; c < static_cast<size_t>(TimeoutClass::kCount); ++c) {
    auto& list = recency_[c];
    while (list.oldest != nullptr && list.oldest->last_us + timeouts_.by_class[c] <= now_us) {
      Flow* flow = list.oldest;
      on_end(*flow);
      remove(*flow);
    }
  }
}

void FlowTable::remove(Flow& flow) {
  recency_[static_cast<size_t>(flow.timeout_class)].unlink(flow);
  leave_unanswered(flow);
  const FlowKey key = *flow.key;  // a copy: erasing destroys the table's
  flows_.erase(key);
}

void FlowTable::for_each(const std::function<void(Flow&)>& visit) {
  for (auto& [key, flow] : flows_) visit(flow);
}

void FlowTable::for_each(const std::function<void(const Flow&)>& visit) const {
  for (const auto& [key, flow] : flows_) visit(flow);
}

void FlowTable::drain(const std::function<void(Flow&)>& on_end) {
  for (auto& [key, flow] : flows_) on_end(flow);
  for (auto& list : recency_) list = Recency{};
  for (auto& list : unanswered_) list.clear();
  unanswered_by_source_.clear();
  flows_.clear();
}

}  // namespace vitrine::netmon
