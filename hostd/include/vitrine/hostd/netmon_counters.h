// netmon's traffic counters as `vitrine status` shows them, read from netmon's own /metrics
// (the one place they are kept) and summed by verdict.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace vitrine::hostd {

// netmon answers a scrape in milliseconds; a status must not hang on a stuck one.
inline constexpr long kNetmonScrapeTimeoutMs = 2000;
// Its exposition is a few KiB; far more than this is not netmon's.
inline constexpr size_t kMaxNetmonScrapeBytes = 4 << 20;

// From Prometheus text: {"packets":{"allow":N,"deny":N},"bytes":{...},"flows":{...},
// "events_suppressed":N}. Lines that are not samples of these families are skipped.
nlohmann::json summarize_netmon_metrics(const std::string& exposition);

// Scrapes http://ADDRESS/metrics. {"reachable":false,"error":...} when it cannot.
nlohmann::json netmon_counters(const std::string& address);

}  // namespace vitrine::hostd
