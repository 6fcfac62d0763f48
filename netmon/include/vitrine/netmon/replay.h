// Runs the live data path over a capture file: the same decoding, flow table, nDPI and
// verdicts, with frames going nowhere. Used by policy authors to try a policy on recorded
// traffic and by the golden tests to compare labels with ndpiReader's.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "vitrine/netmon/classifier.h"
#include "vitrine/netmon/engine.h"
#include "vitrine/netmon/events.h"
#include "vitrine/netmon/metrics.h"
#include "vitrine/policy/policy.h"

namespace vitrine::netmon {

struct ReplayResult {
  uint64_t packets = 0;
  uint64_t flows = 0;
  double seconds = 0;  // wall time spent
  uint64_t checksum_drops = 0;  // frames dropped for a wrong checksum
};

// One flow's record as replay reports it, one JSON object as text: l4, src, sport, dst, dport,
// direction, protocol, confidence, risks, packets, bytes, dropped, verdict, rule, and when read,
// attributes and messages.
using FlowRecordSink = std::function<void(const std::string& record)>;

// Reads `pcap_path` (pcap or pcapng) and hands each flow's record to `on_flow` as the flow
// ends (none: records are not built). Throws std::runtime_error on unreadable input.
ReplayResult replay_capture(const std::string& pcap_path,
                            std::shared_ptr<const policy::Policy> policy,
                            const NdpiClassifier& classifier, EventSink& events,
                            NetmonMetrics& metrics, const FlowRecordSink& on_flow,
                            EngineOptions options = {});

// What else replay writes down, for tests that hold netmon to what it forwards.
struct ReplayRecords {
  std::string flows_path;      // one JSON object per flow ("-" for stdout; empty for none)
  std::string forwarded_pcap;  // every frame netmon forwarded or sent (its resets), as a capture
  std::string inspected_path;  // every run of bytes its inspectors read: flow, endpoint, offset, hex
};

// The same, writing what `records` names.
ReplayResult replay_capture(const std::string& pcap_path,
                            std::shared_ptr<const policy::Policy> policy,
                            const NdpiClassifier& classifier, EventSink& events,
                            NetmonMetrics& metrics, const ReplayRecords& records,
                            EngineOptions options = {});

}  // namespace vitrine::netmon
