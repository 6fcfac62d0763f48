#include "vitrine/netmon/deny_cache.h"

namespace vitrine::netmon {

DeniedFlow* DenyCache::find(const FlowKey& key, uint64_t now_us) {
  const auto it = entries_.find(key);
  if (it == entries_.end() || it->second.first_us + lifetime_us_ <= now_us) return nullptr;
  return &it->second;
}

DeniedFlow& DenyCache::insert(const FlowKey& key, DeniedFlow flow, const OnEnd& on_end) {
  if (const auto it = entries_.find(key); it != entries_.end()) {
    on_end(it->second);  // expired, not swept yet: it ends now, and the key starts again
    entries_.erase(it);
  }
  // Bounded in entries, and in the order kept of them (stale elements included).
  while (!order_.empty() && (entries_.size() >= capacity_ || order_.size() >= 2 * capacity_)) end_oldest(on_end);
  order_.emplace_back(key, flow.first_us);
  return entries_.insert_or_assign(key, std::move(flow)).first->second;
}

void DenyCache::end_oldest(const OnEnd& on_end) {
  const auto [key, first_us] = order_.front();
  order_.pop_front();
  const auto it = entries_.find(key);
  if (it == entries_.end() || it->second.first_us != first_us) return;  // stale
  on_end(it->second);
  entries_.erase(it);
}

void DenyCache::expire(uint64_t now_us, const OnEnd& on_end) {
  while (!order_.empty() && order_.front().second + lifetime_us_ <= now_us) end_oldest(on_end);
  // Stale elements at the front are dropped as they come up; a fresh one stops the sweep.
}

void DenyCache::drain(const OnEnd& on_end) {
  while (!order_.empty()) end_oldest(on_end);
}

}  // namespace vitrine::netmon
