#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstdlib>
#include <fstream>
#include <map>

#include "fake_catalog.h"
#include "temp_dir.h"
#include "vitrine/policy/evaluate.h"
#include "vitrine/policy/explain.h"
#include "vitrine/policy/lint.h"
#include "vitrine/common/yaml_reader.h"
#include "vitrine/policy/load.h"

using namespace vitrine;
using namespace vitrine::policy;

namespace {

const vitrine::testing::FakeCatalog kCatalog;

constexpr const char* kHeader = R"(apiVersion: vitrine/v1
name: test
guest:
  mac: "52:54:00:77:00:02"
  ipv4: 10.77.0.2
defaultAction: deny
)";

Policy load(const std::string& rest) { return load_policy_text(kHeader + rest, "p.yaml", kCatalog); }

// The error a policy text gets, as "line:column: message".
std::string error_of(const std::string& text) {
  try {
    load_policy_text(text, "p.yaml", kCatalog);
  } catch (const PolicyError& e) {
    return std::to_string(e.line()) + ":" + std::to_string(e.column()) + ": " + e.what();
  }
  return "no error";
}

FlowFacts egress_tcp(const char* peer, uint16_t port) {
  FlowFacts f;
  f.direction = Direction::Egress;
  f.ip_protocol = IPPROTO_TCP;
  f.peer = *IpAddr::parse(peer);
  f.service_port = port;
  return f;
}

}  // namespace

TEST(PolicyLoad, ReadsEveryField) {
  const Policy p = load(R"(layer2:
  dhcpClient: true
limits:
  maxFlows: 1024
  holdPackets: 4
  holdMilliseconds: 500
outcomes:
  onUndetermined: allow
  onFlowTableFull: evictOldest
  onClassifierGaveUp: deny
  onReassemblyLimit: allow
rules:
  - name: dns
    direction: egress
    peers: [10.77.0.1/32, "2001:db8::/32"]
    transport: udp
    ports: [53, 5353-5355]
    protocols: [DNS]
    action: allow
  - name: rdp-in
    direction: ingress
    ports: [3389]
    action: alert
    mode: monitor
)");
  EXPECT_EQ(p.name, "test");
  ASSERT_TRUE(p.guest);
  EXPECT_EQ(p.guest->ipv4.str(), "10.77.0.2");
  EXPECT_TRUE(p.layer2.dhcp_client);
  EXPECT_EQ(p.limits.max_flows, 1024u);
  EXPECT_EQ(p.limits.hold_packets, 4u);
  EXPECT_EQ(p.limits.hold_ms, 500u);
  EXPECT_EQ(p.limits.udp_idle_timeout_s, Limits{}.udp_idle_timeout_s);  // default kept
  EXPECT_EQ(p.outcomes.on_undetermined, Action::Allow);
  EXPECT_EQ(p.outcomes.on_flow_table_full, FullTableOutcome::EvictOldest);
  EXPECT_EQ(p.outcomes.classifier_gave_up(), Action::Deny) << "given: not onUndetermined's allow";
  EXPECT_EQ(p.outcomes.on_reassembly_limit, Action::Allow);
  EXPECT_EQ(load("").outcomes.classifier_gave_up(), Action::Deny);
  EXPECT_EQ(load("outcomes: {onUndetermined: alert}\n").outcomes.classifier_gave_up(), Action::Alert)
      << "not given: follows onUndetermined";
  ASSERT_EQ(p.rules.size(), 2u);
  EXPECT_EQ(p.rules[0].peers.size(), 2u);
  EXPECT_EQ(p.rules[0].ports[1].first, 5353);
  EXPECT_EQ(p.rules[0].ports[1].last, 5355);
  EXPECT_EQ(p.rules[0].protocols, std::vector<uint16_t>{5});
  EXPECT_EQ(p.rules[1].direction, Direction::Ingress);
  EXPECT_EQ(p.rules[1].action, Action::Alert);
  EXPECT_EQ(p.rules[0].mode, Mode::Enforce);
  EXPECT_EQ(p.rules[1].mode, Mode::Monitor);
}

TEST(PolicyLoad, ErrorsCarryLineAndColumn) {
  const std::string header = kHeader;  // 6 lines
  EXPECT_EQ(error_of(header + "rules:\n  - name: a\n    direction: egress\n    action: alow\n"),
            "10:13: p.yaml:10:13: rules[0].action: expected one of allow, deny, alert, got 'alow'");
  EXPECT_EQ(error_of(header + "rules:\n  - name: a\n    direction: egress\n    protocols: [DNS, Gopher]\n    action: deny\n"),
            "10:22: p.yaml:10:22: rules[0].protocols[1]: 'Gopher' is not a protocol the classifier knows");
  // The keys a rule may have: its own, and one block per protocol whose attributes are
  // declared (those are the declarations', held to them in test_policy_l7.cpp).
  const std::string unknown = error_of(header + "rules:\n  - name: a\n    directon: egress\n");
  EXPECT_EQ(unknown.rfind("9:5: p.yaml:9:5: rules[0]: unknown key 'directon' (expected one of: action, ", 0), 0u) << unknown;
  for (const char* key : {" direction,", " dns,", " mode,", " peers,", " ports,", " protocols,", " risks,", " transport)"})
    EXPECT_NE(unknown.find(key), std::string::npos) << key << " in " << unknown;
  EXPECT_EQ(error_of(header + "rules:\n  - name: a\n    direction: egress\n    risks: [SMB insecure versions]\n    action: deny\n"),
            "10:13: p.yaml:10:13: rules[0].risks[0]: 'SMB insecure versions' is not a flow risk the classifier reports (did you mean 'SMB Insecure Version'?)");
  EXPECT_EQ(error_of(header + "rules:\n  - name: a\n    direction: egress\n    protocols: [smbv2]\n    action: deny\n"),
            "10:17: p.yaml:10:17: rules[0].protocols[0]: 'smbv2' is not a protocol the classifier knows (did you mean 'SMBv1'?)");
  EXPECT_EQ(error_of(header + "rules:\n  - name: a\n    direction: egress\n    action: deny\n    mode: watch\n"),
            "11:11: p.yaml:11:11: rules[0].mode: expected one of enforce, monitor, got 'watch'");
  EXPECT_EQ(error_of(header + "rules:\n  - name: a\n    direction: egress\n    peers: [10.0.0.0/33]\n    action: deny\n"),
            "10:13: p.yaml:10:13: rules[0].peers[0]: expected an address or CIDR, got '10.0.0.0/33'");
  EXPECT_EQ(error_of(header + "limits:\n  maxFlows: -5\n"),
            "8:13: p.yaml:8:13: limits.maxFlows: expected a whole number from 16 to 16777216, got '-5'");
  EXPECT_EQ(error_of(header + "rules:\n  - name: a\n    direction: egress\n    ports: [80-20]\n    action: deny\n"),
            "10:13: p.yaml:10:13: rules[0].ports[0]: port range '80-20' ends before it starts");
}

TEST(PolicyLoad, RefusesStructuralMistakes) {
  EXPECT_NE(error_of("").find("the policy is empty"), std::string::npos);
  EXPECT_NE(error_of("apiVersion: vitrine/v2\n").find("expected vitrine/v1"), std::string::npos);
  EXPECT_NE(error_of("name: x\ndefaultAction: deny\n").find("missing 'apiVersion"), std::string::npos);
  EXPECT_NE(error_of("apiVersion: vitrine/v1\ndefaultAction: deny\n").find("missing 'guest'"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kHeader) + "rules:\n  - name: a\n    direction: egress\n    action: deny\n  - name: a\n    direction: egress\n    action: deny\n")
                .find("used twice"),
            std::string::npos);
  EXPECT_NE(error_of("apiVersion: [unclosed\n").find("p.yaml:2:1"), std::string::npos);
  EXPECT_NE(error_of(std::string(kHeader) + "rules:\n  - name: a\n    direction: egress\n    transport: icmp\n    ports: [1]\n    action: deny\n")
                .find("ICMP has no ports"),
            std::string::npos);
  EXPECT_NE(error_of("apiVersion: vitrine/v1\nguest:\n  mac: \"01:00:5e:00:00:01\"\n  ipv4: 10.0.0.1\ndefaultAction: deny\n")
                .find("unicast MAC"),
            std::string::npos);
}

TEST(PolicyLoad, MissingFileIsAnError) {
  try {
    load_policy_file("/nonexistent/policy.yaml", kCatalog);
    FAIL() << "no error";
  } catch (const PolicyError& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/policy.yaml: cannot open the policy file");
  }
}

TEST(PolicyLoad, NamedSetsNameThePeers) {
  const Policy p = load(R"(rules:
  - name: hl7
    direction: egress
    peers: [pharmacy-hl7, 10.30.0.0/16]
    action: allow
  - name: mgmt
    direction: ingress
    peers: [management]
    action: allow
sets:                       # after the rules that use them: order does not matter
  pharmacy-hl7: [10.20.0.5, 10.20.0.6/32]
  management: []            # a placeholder the site has not filled: matches no peer
)");
  ASSERT_EQ(p.sets.size(), 2u);
  EXPECT_EQ(p.rules[0].peers.size(), 3u);
  EXPECT_EQ(p.rules[0].peer_sets, std::vector<std::string>{"pharmacy-hl7"});
  EXPECT_EQ(evaluate(p, egress_tcp("10.20.0.6", 2575)).rule, 0);
  EXPECT_EQ(evaluate(p, egress_tcp("10.20.0.7", 2575)).rule, kDefaultRule);
  FlowFacts in = egress_tcp("10.99.0.1", 22);
  in.direction = Direction::Ingress;
  EXPECT_EQ(evaluate(p, in).rule, kDefaultRule) << "an empty set is no peer, not any peer";

  const std::string header = kHeader;  // 6 lines
  EXPECT_EQ(error_of(header + "sets:\n  pharmacy: [10.20.0.5]\nrules:\n  - name: a\n    direction: egress\n    peers: [pharmcy]\n    action: deny\n"),
            "12:13: p.yaml:12:13: rules[0].peers[0]: expected an address, a CIDR or the name of a set under 'sets', got 'pharmcy' (did you mean 'pharmacy'?)");
  EXPECT_EQ(error_of(header + "sets:\n  10.0.0.1: [10.20.0.5]\n"),
            "8:3: p.yaml:8:3: sets.10.0.0.1: a set name starts with a letter and uses letters, digits, - _ . (and is not an address), got '10.0.0.1'");
  EXPECT_EQ(error_of(header + "sets:\n  pharmacy: [10.20.0.300]\n"),
            "8:14: p.yaml:8:14: sets.pharmacy[0]: expected an address or CIDR, got '10.20.0.300'");
  EXPECT_NE(error_of(header + "sets: [a, b]\n").find("expected a mapping of set names"), std::string::npos);
}

// A few KB of aliases naming one anchored list of peers in every rule: refused where the
// bound is hit, before the reading spends minutes and gigabytes on it.
TEST(PolicyLoad, AliasesThatMultiplyBeyondTheBoundAreRefused) {
  std::string peers = "[";
  for (int i = 0; i < 1000; ++i) peers += (i ? ", 10.1." : "10.1.") + std::to_string(i / 250) + "." + std::to_string(i % 250);
  peers += "]";
  auto policy = [&](int rules) {
    std::string text = std::string(kHeader) + "rules:\n";
    for (int i = 0; i < rules; ++i)
      text += "  - name: r" + std::to_string(i) + "\n    direction: egress\n    peers: " +
              (i == 0 ? "&all " + peers : std::string("*all")) + "\n    action: allow\n";
    return text;
  };
  EXPECT_EQ(error_of(policy(10)), "no error") << "aliases within the bound are read";
  const std::string error = error_of(policy(1000));  // a million peers from 40 KB
  EXPECT_NE(error.find("more than " + std::to_string(vitrine::kMaxConfigValues) + " values, aliases expanded"),
            std::string::npos) << error;
  EXPECT_EQ(error.rfind("0:0", 0), std::string::npos) << "the position where the bound was hit: " << error;
}

// One set named by many rules is copied into each: the copies are bounded, at the rule that
// passes the bound, however few values the file itself has.
TEST(PolicyLoad, ASetCopiedIntoManyRulesIsBoundedWhereItPassesTheBound) {
  std::string members;
  for (int i = 0; i < 1000; ++i) members += (i ? ", 10.1." : "10.1.") + std::to_string(i / 250) + "." + std::to_string(i % 250);
  auto policy = [&](int rules, int refs) {
    std::string text = std::string(kHeader) + "sets:\n  big: [" + members + "]\nrules:\n";
    for (int i = 0; i < rules; ++i) {
      text += "  - name: r" + std::to_string(i) + "\n    direction: egress\n    peers: [";
      for (int k = 0; k < refs; ++k) text += k ? ", big" : "big";
      text += "]\n    action: allow\n";
    }
    return text;
  };
  EXPECT_EQ(error_of(policy(1, 20000)), "no error") << "a set named twice in a rule is in it once";
  EXPECT_EQ(load(policy(1, 3).substr(std::string(kHeader).size())).rules[0].peers.size(), 1000u);
  const std::string error = error_of(policy(25, 1));
  EXPECT_NE(error.find("more than " + std::to_string(policy::kMaxResolvedPeers)), std::string::npos) << error;
  EXPECT_NE(error.find("rule 'r20'"), std::string::npos) << "the rule that passes it: " << error;
}

TEST(PolicyLoad, NamesAreBounded) {
  const std::string rule = "rules:\n  - name: " + std::string(200, 'n') + "\n    direction: egress\n    action: allow\n";
  EXPECT_NE(error_of(std::string(kHeader) + rule).find("at most 128 bytes"), std::string::npos);
}

TEST(PolicyLint, WarnsOfRulesAnEarlierRuleShadows) {
  const Policy p = load(R"(sets:
  pharmacy: [10.20.0.0/24]
rules:
  - name: pharmacy-any
    direction: egress
    peers: [pharmacy]
    action: allow
  - name: pharmacy-hl7
    direction: egress
    peers: [10.20.0.5]
    transport: tcp
    ports: [2575]
    action: deny
  - name: web
    direction: egress
    transport: tcp
    ports: [80-90]
    action: allow
  - name: web-http
    direction: egress
    transport: tcp
    ports: [8080, 85]
    protocols: [HTTP]
    action: deny
  - name: dns
    direction: egress
    ports: [53]
    protocols: [DNS]
    action: allow
  - name: dns-udp
    direction: egress
    transport: udp
    ports: [53]
    action: deny
  - name: web-ingress
    direction: ingress
    transport: tcp
    ports: [80]
    action: deny
)");
  const auto w = lint(p);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].rule, 1u);
  EXPECT_EQ(w[0].line, 14);  // the 6-line header, then where "- name: pharmacy-hl7" starts
  EXPECT_EQ(w[0].column, 5);
  EXPECT_EQ(w[0].message, "rule 'pharmacy-hl7' is never reached: rule 'pharmacy-any' before it matches "
                          "every flow it matches (and decides allow)");
  // Not shadowed: 8080 is outside 80-90; 'dns' waits for DNS, so plain UDP/53 can still reach
  // 'dns-udp'; a different direction is a different flow.
  const Rule& dns = p.rules[4];
  const Rule& dns_udp = p.rules[5];
  EXPECT_FALSE(covers(dns, dns_udp));
  EXPECT_FALSE(covers(dns_udp, dns)) << "'dns' also matches DNS over TCP/53";
  EXPECT_TRUE(covers(p.rules[2], p.rules[6]) == false) << "egress does not cover ingress";
}

TEST(Evaluate, FirstMatchingRuleWins) {
  const Policy p = load(R"(rules:
  - name: smb-deny
    direction: egress
    transport: tcp
    ports: [445]
    action: deny
  - name: lan
    direction: egress
    peers: [10.77.0.0/24]
    action: allow
)");
  Decision d = evaluate(p, egress_tcp("10.77.0.1", 445));
  EXPECT_TRUE(d.definitive);
  EXPECT_EQ(d.action, Action::Deny);
  EXPECT_EQ(d.rule, 0);
  d = evaluate(p, egress_tcp("10.77.0.1", 80));
  EXPECT_EQ(d.action, Action::Allow);
  EXPECT_EQ(d.rule, 1);
  d = evaluate(p, egress_tcp("192.0.2.1", 80));
  EXPECT_TRUE(d.definitive);
  EXPECT_EQ(d.action, Action::Deny);
  EXPECT_EQ(d.rule, kDefaultRule);
  FlowFacts ingress = egress_tcp("10.77.0.1", 80);
  ingress.direction = Direction::Ingress;
  EXPECT_EQ(evaluate(p, ingress).rule, kDefaultRule);  // rules are for egress only
}

TEST(Evaluate, ProtocolRulesKeepTheFlowPendingOnlyWhileRulesDisagree) {
  const Policy p = load(R"(rules:
  - name: web
    direction: egress
    ports: [8080]
    protocols: [HTTP]
    action: allow
)");
  FlowFacts f = egress_tcp("10.77.0.1", 8080);
  EXPECT_FALSE(evaluate(p, f).definitive);  // allow if HTTP, default deny otherwise
  f.l7 = L7Facts{0, 7};
  Decision d = evaluate(p, f);
  EXPECT_TRUE(d.definitive);
  EXPECT_EQ(d.action, Action::Allow);
  EXPECT_EQ(d.rule, 0);
  f.l7 = L7Facts{0, 5};  // DNS on 8080
  d = evaluate(p, f);
  EXPECT_TRUE(d.definitive);
  EXPECT_EQ(d.action, Action::Deny);
  // Another port: the protocol rule cannot match, so the default applies at once.
  EXPECT_TRUE(evaluate(p, egress_tcp("10.77.0.1", 8081)).definitive);
}

TEST(Evaluate, AgreeingRulesAreDefinitiveWithoutTheProtocol) {
  const Policy p = load(R"(rules:
  - name: no-smb1
    direction: egress
    protocols: [SMBv1]
    action: deny
)");
  // deny if SMBv1, and deny by default otherwise: no need to wait for nDPI.
  const Decision d = evaluate(p, egress_tcp("10.77.0.1", 445));
  EXPECT_TRUE(d.definitive);
  EXPECT_EQ(d.action, Action::Deny);
}

TEST(Evaluate, MasterProtocolMatchesToo) {
  const Policy p = load(R"(rules:
  - name: netbios
    direction: egress
    protocols: [NetBIOS]
    action: allow
)");
  FlowFacts f = egress_tcp("10.77.0.1", 139);
  f.l7 = L7Facts{10, 16};  // NetBIOS.SMBv1
  EXPECT_EQ(evaluate(p, f).action, Action::Allow);
}

TEST(PolicyExplain, SaysWhichRuleDecidesAndWhyEachEarlierOneDoesNot) {
  const Policy p = load(R"(sets:
  pharmacy: [10.20.0.0/24]
rules:
  - name: hl7
    direction: egress
    peers: [pharmacy]
    transport: tcp
    ports: [2575]
    action: allow
  - name: dns
    direction: egress
    transport: udp
    ports: [53]
    protocols: [DNS]
    action: allow
  - name: inbound-rdp
    direction: ingress
    ports: [3389]
    action: deny
    mode: monitor
  - name: no-smb
    direction: egress
    transport: tcp
    ports: [445]
    action: deny
)");
  std::string error;
  const auto spec = parse_flow_spec("tcp 10.77.0.2:1025 -> 10.20.0.9:445", error);
  ASSERT_TRUE(spec) << error;
  const auto facts = facts_for(p, *spec, error);
  ASSERT_TRUE(facts) << error;
  const auto lines = explain(p, *facts);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0].why, "port 445 is not in its ports (2575)");
  EXPECT_EQ(lines[1].why, "is for udp; this flow is tcp");
  EXPECT_EQ(lines[2].why, "is for ingress flows; this one is egress");
  EXPECT_EQ(lines[3].why, "matches: deny");
  EXPECT_EQ(lines[4].why, "deny by rule 'no-smb'");

  const auto other = explain(p, *facts_for(p, *parse_flow_spec("tcp 10.77.0.2:1025 -> 10.30.0.1:2575", error), error));
  EXPECT_EQ(other[0].why, "peer 10.30.0.1 is not in its peers (sets pharmacy)");
  EXPECT_EQ(other.back().why, "deny by the default action");

  auto dns = *facts_for(p, *parse_flow_spec("udp 10.77.0.2:3000 -> 10.20.0.1:53", error), error);
  EXPECT_EQ(explain(p, dns)[1].why, "would match if the classifier names DNS: the flow waits for it");
  dns.l7 = L7Facts{0, 5};
  EXPECT_EQ(explain(p, dns)[1].why, "matches: allow");

  const auto rdp = *facts_for(p, *parse_flow_spec("tcp 10.9.9.9:5000 -> 10.77.0.2:3389", error), error);
  EXPECT_EQ(explain(p, rdp)[2].why, "matches: deny (monitor mode: recorded, let through)");

  EXPECT_FALSE(parse_flow_spec("tcp 10.77.0.2 -> 10.20.0.9:445", error));
  EXPECT_EQ(error, "expected ADDR:PORT on both sides of '->', got 'tcp 10.77.0.2 -> 10.20.0.9:445'");
  EXPECT_FALSE(parse_flow_spec("sctp 10.77.0.2:1 -> 10.20.0.9:2", error));
  EXPECT_FALSE(parse_flow_spec("tcp 10.77.0.2:1 => 10.20.0.9:2", error));
  EXPECT_FALSE(parse_flow_spec("tcp 10.77.0.2:70000 -> 10.20.0.9:2", error));
  EXPECT_FALSE(facts_for(p, *parse_flow_spec("tcp 10.1.1.1:1 -> 10.20.0.9:2", error), error));
  EXPECT_EQ(error, "neither end is the guest (10.77.0.2): netmon never sees this flow");
  EXPECT_TRUE(parse_flow_spec("icmp 10.77.0.2 -> 10.20.0.9", error));
}

namespace {
constexpr const char* kBaseline = R"(apiVersion: vitrine/v1
name: baseline
defaultAction: deny
sets:
  console: []
  management: [10.9.0.0/24]
rules:
  - name: smb-to-console
    direction: egress
    peers: [console]
    ports: [445]
    action: allow
  - name: no-smb
    direction: egress
    ports: [445]
    action: deny
)";
}  // namespace

TEST(PolicyExtends, ASiteFillsTheBaselinesSetsAndAddsRulesAfterIt) {
  vitrine::testing::TempDir dir;
  dir.write("baseline.yaml", kBaseline);
  const auto site = dir.write("site.yaml", std::string(R"(apiVersion: vitrine/v1
name: site
extends: baseline.yaml
guest: {mac: "52:54:00:77:00:02", ipv4: 10.77.0.2}
sets:
  console: [10.20.1.10]
rules:
  - name: smb-anywhere
    direction: egress
    ports: [445]
    action: allow
  - name: to-management
    direction: egress
    peers: [management]
    action: allow
)"));
  const Policy p = load_policy_file(site, kCatalog);
  EXPECT_EQ(p.name, "site");
  EXPECT_EQ(p.default_action, Action::Deny) << "inherited";
  ASSERT_EQ(p.rules.size(), 4u);
  EXPECT_EQ(p.rules[0].name, "smb-to-console");
  EXPECT_EQ(p.rules[3].name, "to-management");
  EXPECT_EQ(evaluate(p, egress_tcp("10.20.1.10", 445)).rule, 0) << "the site filled 'console'";
  EXPECT_EQ(evaluate(p, egress_tcp("10.20.1.11", 445)).rule, 1)
      << "the baseline's deny comes before the site's allow";
  EXPECT_EQ(evaluate(p, egress_tcp("10.9.0.7", 22)).rule, 3) << "a baseline set used by a site rule";
  // Messages about a rule name the file it is written in.
  EXPECT_EQ(p.rules[2].source, site);
  EXPECT_NE(p.rules[0].source.find("baseline.yaml"), std::string::npos);
  const auto warnings = lint(p);
  ASSERT_FALSE(warnings.empty());
  EXPECT_EQ(warnings[0].source, site) << warnings[0].message;
}

TEST(PolicyExtends, MistakesNameTheFileTheyAreIn) {
  vitrine::testing::TempDir dir;
  auto error_in = [&](const std::string& site_text) {
    try {
      load_policy_file(dir.write("site.yaml", site_text), kCatalog);
    } catch (const PolicyError& e) {
      return std::string(e.what()).substr(dir.path.string().size() + 1);
    }
    return std::string("no error");
  };
  const std::string head = "apiVersion: vitrine/v1\nname: site\nguest: {mac: \"52:54:00:77:00:02\", ipv4: 10.77.0.2}\n";
  dir.write("baseline.yaml", kBaseline);
  EXPECT_EQ(error_in(head + "extends: baseline.yaml\nrules:\n  - name: no-smb\n    direction: egress\n    action: deny\n"),
            "site.yaml:6:5: rule name 'no-smb' is already a rule of the baseline");
  EXPECT_EQ(error_in(head + "extends: missing.yaml\n"),
            "missing.yaml: cannot open the baseline policy file");
  dir.write("chained.yaml", std::string(kBaseline) + "extends: other.yaml\n");
  EXPECT_EQ(error_in(head + "extends: chained.yaml\n"),
            "chained.yaml:17:10: extends: a baseline cannot extend another policy (one level only)");
  dir.write("broken.yaml", "apiVersion: vitrine/v1\ndefaultAction: deny\nrules:\n  - name: x\n    direction: out\n    action: deny\n");
  EXPECT_EQ(error_in(head + "extends: broken.yaml\n"),
            "broken.yaml:5:16: rules[0].direction: expected one of egress, ingress, got 'out'");
  EXPECT_NE(error_in("apiVersion: vitrine/v1\ndefaultAction: deny\n").find("missing 'guest'"), std::string::npos);
}

TEST(Evaluate, ARiskRuleWaitsForTheClassifierAndMatchesAnyOfItsRisks) {
  const Policy p = load(R"(rules:
  - name: insecure-smb
    direction: egress
    ports: [445]
    risks: [SMB Insecure Version, Unsafe Protocol]
    action: deny
  - name: smb
    direction: egress
    ports: [445]
    action: allow
)");
  FlowFacts f = egress_tcp("10.0.0.1", 445);
  EXPECT_FALSE(evaluate(p, f).definitive) << "the risks are not known before inspection";
  f.l7 = L7Facts{0, 16, uint64_t{1} << 10};
  EXPECT_EQ(evaluate(p, f).rule, 0);
  f.l7->risks = uint64_t{1} << 3;
  EXPECT_EQ(evaluate(p, f).rule, 1) << "a risk the rule does not name";
  f.l7->risks = 0;
  EXPECT_EQ(evaluate(p, f).rule, 1);
}

TEST(PolicyLoad, NamesAreUtf8TextWithoutControlCharacters) {
  // A rule's name is a metric label value (Prometheus takes UTF-8 only) and an event field: a
  // byte that is not UTF-8, or an escape sequence, is refused where it is written.
  const std::string header = kHeader;
  // (Raw bytes in the file: YAML's own "\xe9" is the character U+00E9, in UTF-8.)
  // And the characters that move or reorder what is shown: an 8-bit CSI (U+009B), NEL, the line
  // separator, a right-to-left override.
  for (const std::string& bad : {std::string("caf\xe9"), std::string("\"a\\eb\""), std::string("\xc0\xaf"),
                                 std::string("\"a\\u009b2J\""), std::string("\"a\\u0085b\""),
                                 std::string("\"a\\u2028b\""), std::string("\"a\\u202eb\"")}) {
    const std::string err = error_of(header + "rules:\n  - name: " + bad + "\n    direction: egress\n    action: deny\n");
    EXPECT_EQ(err.rfind("8:11: p.yaml:8:11: rules[0].name: a rule's name is UTF-8 text without control characters", 0), 0u)
        << bad << ": " << err;
  }
  EXPECT_EQ(load("rules:\n  - name: \"caf\\u00e9 \\u2014 ward 3\"\n    direction: egress\n    action: deny\n").rules[0].name,
            "caf\xc3\xa9 \xe2\x80\x94 ward 3");
  const std::string policy_name = error_of(std::string(kHeader).replace(std::string(kHeader).find("name: test"), 10, "name: \"x\\ty\""));
  EXPECT_NE(policy_name.find("a policy's name is UTF-8 text without control characters"), std::string::npos) << policy_name;
}
