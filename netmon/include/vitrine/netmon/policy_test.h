// `vitrine policy test`: a policy tried on a capture before it is enforced, flow by flow, and
// checked against a file of expected verdicts, so that a site keeps its policy under CI.
//
//   # expect.yaml
//   flows:
//     - flow: "tcp 172.16.156.130:50927 -> 10.128.0.243:445"
//       verdict: deny            # allow | deny
//       rule: no-smbv1           # optional: the rule (or "default") that decided
//       protocol: NetBIOS.SMBv1  # optional: nDPI's label
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vitrine/policy/explain.h"
#include "vitrine/policy/policy.h"

namespace vitrine::netmon {

struct ObservedFlow {
  std::string l4, src, dst;
  uint16_t sport = 0, dport = 0;
  std::string protocol, verdict, rule;
  uint64_t packets = 0;
  std::string attributes;  // what the flow's messages said: "tls.sni=... tls.version=1.2"
  std::vector<std::string> messages;  // as an inspector read them: "egress RDE^O11 allow"
};

struct FlowExpectation {
  std::string flow;  // as written
  policy::FlowSpec spec;
  std::string verdict;
  std::optional<std::string> rule, protocol;
  int line = 0, column = 0;
};

// A flow record of replay, or a flow event of netmon, as an observed flow; `verdict` when the
// JSON carries none (events: the event says it).
ObservedFlow observed_flow(const nlohmann::json& j, const std::string& verdict);

// Every flow of the capture under the policy, in the order they ended. `verify_checksums`:
// false for a capture taken where checksums were left to the NIC (replay --checksums ignore).
std::vector<ObservedFlow> observe_flows(const policy::Policy& policy, const std::string& pcap_path,
                                        bool verify_checksums = true);

// Throws ConfigError with file, line and column.
std::vector<FlowExpectation> load_expectations(const std::string& path);

// One line per difference, "FILE:LINE:COL: FLOW: expected ..., got ..."; empty when all hold.
std::vector<std::string> compare(const std::vector<FlowExpectation>& expected,
                                 const std::vector<ObservedFlow>& observed, const std::string& expect_path);

}  // namespace vitrine::netmon
