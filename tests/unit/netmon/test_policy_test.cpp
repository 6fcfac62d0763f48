// `vitrine policy test`'s expectation file and its comparison with what a capture produced.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "temp_dir.h"
#include "vitrine/common/yaml_reader.h"
#include "vitrine/netmon/policy_learn.h"
#include "vitrine/netmon/policy_test.h"

using namespace vitrine;
using namespace vitrine::netmon;

namespace {

// Each expectation file in a directory of its own, removed when the test binary ends.
std::string write_temp(const std::string& text) {
  static vitrine::testing::TempDir dir;
  static int n = 0;
  return dir.write("expect-" + std::to_string(n++) + ".yaml", text);
}

std::string error_of(const std::string& text) {
  const std::string path = write_temp(text);
  try {
    load_expectations(path);
  } catch (const ConfigError& e) {
    return std::string(e.what()).substr(path.size());
  }
  return "no error";
}

}  // namespace

TEST(PolicyTestExpectations, MistakesCarryTheirPosition) {
  EXPECT_EQ(error_of("flows:\n  - flow: \"tcp 10.0.0.1 -> 10.0.0.2:80\"\n    verdict: allow\n"),
            ":2:11: flows[0].flow: expected ADDR:PORT on both sides of '->', got 'tcp 10.0.0.1 -> 10.0.0.2:80'");
  EXPECT_EQ(error_of("flows:\n  - flow: \"tcp 10.0.0.1:1 -> 10.0.0.2:80\"\n    verdict: alert\n"),
            ":3:14: flows[0].verdict: expected one of allow, deny, got 'alert'");
  EXPECT_EQ(error_of("flows:\n  - flow: \"tcp 10.0.0.1:1 -> 10.0.0.2:80\"\n"),
            ":2:5: flows[0]: missing 'verdict' (allow or deny)");
  EXPECT_EQ(error_of("flow:\n  - {}\n"), ":1:1: unknown key 'flow' (expected one of: flows)");
}

TEST(PolicyTestExpectations, DifferencesNameTheLineAndWhatWasSeen) {
  const std::string path = write_temp(R"(flows:
  - flow: "tcp 10.0.0.1:1000 -> 10.0.0.2:445"
    verdict: deny
    rule: no-smb
  - flow: "tcp 10.0.0.1:1001 -> 10.0.0.2:80"
    verdict: deny
  - flow: "udp 10.0.0.1:53 -> 10.0.0.2:53"
    verdict: allow
  - flow: "tcp 10.0.0.1:1002 -> 10.0.0.2:8080"
    verdict: allow
    protocol: HTTP
)");
  const auto expected = load_expectations(path);
  const std::vector<ObservedFlow> observed = {
      {"TCP", "10.0.0.1", "10.0.0.2", 1000, 445, "SMBv1", "deny", "no-smb", 5, "", {}},
      {"TCP", "10.0.0.1", "10.0.0.2", 1001, 80, "HTTP", "allow", "web", 9, "", {}},
      {"TCP", "10.0.0.1", "10.0.0.2", 1002, 8080, "Unknown", "allow", "alt-web", 3, "", {}},
  };
  const auto d = compare(expected, observed, "e.yaml");
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0], "e.yaml:5:5: tcp 10.0.0.1:1001 -> 10.0.0.2:80: expected deny, got allow by rule 'web' (HTTP)");
  EXPECT_EQ(d[1], "e.yaml:7:5: udp 10.0.0.1:53 -> 10.0.0.2:53: no such flow in the capture");
  EXPECT_EQ(d[2], "e.yaml:9:5: tcp 10.0.0.1:1002 -> 10.0.0.2:8080: expected protocol HTTP, got allow by rule 'alt-web' (Unknown)");
}

TEST(PolicyLearn, OneRulePerDistinctFlowShapeInTheOrderSeen) {
  const std::vector<ObservedFlow> flows = {
      {"TCP", "10.77.0.2", "10.20.0.5", 1000, 2575, "Unknown", "allow", "", 9, "", {}},
      {"TCP", "10.77.0.2", "10.20.0.5", 1001, 2575, "Unknown", "allow", "", 9, "", {}},      // same shape
      {"UDP", "10.77.0.2", "10.20.0.53", 3000, 53, "DNS.Google", "allow", "", 2, "", {}},    // master.app
      {"TCP", "10.9.0.7", "10.77.0.2", 50000, 3389, "RDP", "allow", "", 20, "", {}},         // ingress
      {"ICMP", "10.77.0.2", "10.20.0.1", 0, 0, "ICMP", "allow", "", 2, "", {}},
      {"TCP", "10.1.1.1", "10.1.1.2", 1, 2, "Unknown", "allow", "", 1, "", {}},              // not the guest
  };
  const std::string text = draft_policy(flows, *IpAddr::parse("10.77.0.2"), *MacAddr::parse("52:54:00:77:00:02"), "cap.pcap");
  EXPECT_NE(text.find("# A DRAFT learned from cap.pcap: 4 rules from 6 flows (1 not involving the guest left out)."),
            std::string::npos) << text;
  EXPECT_NE(text.find("  - name: learned-1\n    direction: egress\n    peers: [10.20.0.5]\n    transport: tcp\n"
                      "    ports: [2575]\n    action: allow\n"), std::string::npos) << text;
  EXPECT_NE(text.find("    peers: [10.20.0.53]\n    transport: udp\n    ports: [53]\n    protocols: [Google]\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("  - name: learned-3\n    direction: ingress\n    peers: [10.9.0.7]\n"), std::string::npos);
  EXPECT_NE(text.find("  - name: learned-4\n    direction: egress\n    peers: [10.20.0.1]\n    transport: icmp\n"
                      "    protocols: [ICMP]\n    action: allow\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("learned-5"), std::string::npos);
}

TEST(PolicyLearn, ReadsWhatThePolicyDeniedFromNetmonsEvents) {
  const std::string path = write_temp(
      R"({"time":"t","event":"flow_denied","l4":"TCP","src":"10.77.0.2","sport":1,"dst":"10.20.0.9","dport":445,"protocol":"Unknown","rule":"default"})" "\n"
      R"({"time":"t","event":"layer2_violation","reason":"spoofed_mac"})" "\n"
      "not json\n"
      R"({"time":"t","event":"flow_would_deny","l4":"UDP","src":"10.77.0.2","sport":2,"dst":"10.20.0.1","dport":123,"protocol":"NTP","rule":"ntp-monitored"})" "\n");
  size_t unreadable = 0;
  const auto flows = flows_from_events(path, unreadable);
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(unreadable, 1u);
  EXPECT_EQ(flows[0].dport, 445);
  EXPECT_EQ(flows[1].protocol, "NTP");
  EXPECT_THROW(flows_from_events("/nonexistent/events.jsonl", unreadable), std::runtime_error);
}
