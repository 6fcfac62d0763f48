// Runs the live data path over a capture file: the same decoding, flow table, nDPI and
// verdicts, with frames going nowhere. Used by policy authors to try a policy on recorded
// traffic and by the golden tests to compare labels with ndpiReader's.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "vitrine/netmon/classifier.h"
#include "vitrine/netmon/events.h"
#include "vitrine/netmon/metrics.h"
#include "vitrine/policy/policy.h"

namespace vitrine::netmon {

struct ReplayResult {
  uint64_t packets = 0;
  uint64_t flows = 0;
  double seconds = 0;  // wall time spent
};

// Reads `pcap_path` (pcap or pcapng) and writes one JSON object per flow to `flows_path`
// ("-" for stdout; empty for none). Throws std::runtime_error on unreadable input.
ReplayResult replay_capture(const std::string& pcap_path,
                            std::shared_ptr<const policy::Policy> policy,
                            const NdpiClassifier& classifier, EventSink& events,
                            NetmonMetrics& metrics, const std::string& flows_path);

}  // namespace vitrine::netmon
