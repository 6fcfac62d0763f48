// The policy's per-protocol conditions: how they are written, refused, matched, linted and
// explained.
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <set>

#include "fake_catalog.h"
#include "dicom/dicom_attributes.h"
#include "hl7/hl7_attributes.h"
#include "smb/smb_attributes.h"
#include "vitrine/netmon/inspector.h"
#include "vitrine/policy/evaluate.h"
#include "vitrine/policy/explain.h"
#include "vitrine/policy/l7.h"
#include "vitrine/policy/lint.h"
#include "vitrine/policy/load.h"

using namespace vitrine;
using namespace vitrine::policy;

namespace {

const vitrine::testing::FakeCatalog kCatalog;
constexpr uint16_t kDns = 5, kHttp = 7, kSmbV1 = 16, kTls = 91;

constexpr const char* kHeader = R"(apiVersion: vitrine/v1
name: test
guest: {mac: "52:54:00:77:00:02", ipv4: 10.77.0.2}
defaultAction: deny
rules:
)";  // the first rule's text starts on line 6

Policy load(const std::string& rules) { return load_policy_text(kHeader + rules, "p.yaml", kCatalog); }

std::string error_of(const std::string& rules) {
  try {
    load(rules);
  } catch (const PolicyError& e) {
    return std::to_string(e.line()) + ":" + std::to_string(e.column()) + " " + e.what();
  }
  return "no error";
}

// A rule of the given block, written on lines 6-8 with its field on line 8.
std::string rule_with(const std::string& block_text) {
  return "  - name: r\n    direction: egress\n    action: allow\n" + block_text;
}

FlowFacts flow(uint16_t app, uint16_t port, const L7Attributes* attrs, bool final = true) {
  FlowFacts f;
  f.direction = Direction::Egress;
  f.ip_protocol = port == 53 ? IPPROTO_UDP : IPPROTO_TCP;
  f.peer = *IpAddr::parse("10.77.0.1");
  f.service_port = port;
  f.l7 = L7Facts{app, app};
  f.l7->attributes = attrs;
  f.l7->attributes_final = final;
  return f;
}

L7Attributes attrs(std::initializer_list<std::pair<Attr, std::string>> values) {
  L7Attributes a;
  for (const auto& [attr, v] : values) a.set(attr, v);
  return a;
}

TEST(Glob, StarsQuestionMarksAndCase) {
  EXPECT_TRUE(glob_match("*.ward3.local", "pharmacy.ward3.local", true));
  EXPECT_TRUE(glob_match("*.ward3.local", "a.b.ward3.local", true));  // '*' crosses dots
  EXPECT_FALSE(glob_match("*.ward3.local", "ward3.local", true));
  EXPECT_TRUE(glob_match("PHARMACY.*", "pharmacy.ward3.local", true));
  EXPECT_FALSE(glob_match("PHARMACY.*", "pharmacy.ward3.local", false));
  EXPECT_TRUE(glob_match("RDE^O1?", "RDE^O11", false));
  EXPECT_FALSE(glob_match("RDE^O1?", "RDE^O1", false));
  EXPECT_TRUE(glob_match("*", "", false));
  EXPECT_TRUE(glob_match("/api/*/orders", "/api/v2/x/orders", false));
  EXPECT_FALSE(glob_match("/api/*/orders", "/api/v2/orders/1", false));
  // A hostile value against many stars: answered without recursion or blow-up.
  EXPECT_FALSE(glob_match("*a*a*a*a*a*a*a*a*b", std::string(4096, 'a'), false));
}

TEST(PolicyL7, EveryBlockLoadsAndNamesTheProtocolThatCarriesIt) {
  const Policy p = load(R"(  - {name: dns, direction: egress, action: allow, dns: {names: ["*.ward3.local"]}}
  - {name: web, direction: egress, action: allow, http: {hosts: [console.ward3.local], methods: [get, POST], paths: ["/api/*"]}}
  - {name: tls, direction: egress, action: allow, tls: {sni: [console.ward3.local], minVersion: "1.2"}}
  - {name: smb, direction: egress, action: deny, protocols: [SMBv1], smb: {dialects: [SMB1], commands: [TRANSACTION2], shares: ["ADMIN$", "C$"]}}
  - {name: hl7, direction: egress, action: allow, hl7: {messageTypes: ["RDE^O11", "ADT^*"], sendingApplications: [CABINET], sendingFacilities: [WARD3], receivingApplications: [PHARMACY], receivingFacilities: [MAIN]}}
  - {name: dicom, direction: egress, action: allow, dicom: {calledAeTitles: ["PACS "], callingAeTitles: [CABINET*]}}
)");
  ASSERT_EQ(p.rules.size(), 6u);
  EXPECT_EQ(p.rules[0].protocol_names, std::vector<std::string>{"DNS"});
  EXPECT_EQ(p.rules[1].protocol_names, std::vector<std::string>{"HTTP"});
  EXPECT_EQ(p.rules[1].l7.size(), 3u);
  EXPECT_EQ(p.rules[2].l7[1].attr, &netmon::ndpi_attr::kTlsVersion);
  EXPECT_EQ(p.rules[3].protocol_names, std::vector<std::string>{"SMBv1"});  // as narrowed by the author
  EXPECT_EQ(p.rules[3].l7[2].patterns, (std::vector<std::string>{"ADMIN$", "C$"}));
  EXPECT_EQ(p.rules[4].protocol_names, std::vector<std::string>{"HL7"});
  EXPECT_EQ(p.rules[4].l7.size(), 5u);
  EXPECT_EQ(p.rules[5].l7[0].patterns, std::vector<std::string>{"PACS"});  // DICOM pads with spaces
  const Policy types = load(rule_with("    hl7: {messageTypes: [ACK, \"ADT^A01^ADT_A01\", \"*^*\", \"RDE^O11\"]}\n"));
  EXPECT_EQ(types.rules[0].l7[0].patterns.size(), 4u);
  const Policy smb = load(rule_with("    smb: {shares: [IPC$]}\n"));
  EXPECT_EQ(smb.rules[0].protocol_names, (std::vector<std::string>{"SMBv1", "SMBv23"}));
}

TEST(PolicyL7, MistakesAreRefusedWithTheirPlace) {
  struct Case {
    const char* block;
    const char* expected;  // "line:column" then a part of the message
  };
  const Case cases[] = {
      {"    dns: {names: [ward3..local]}\n", "9:19 'ward3..local' has an empty label"},
      {"    dns: {names: [ward3.local.]}\n", "9:19 without the trailing dot"},
      {"    dns: {names: [\"ward 3.local\"]}\n", "9:19 a name has letters"},
      {"    dns: {names: []}\n", "9:18 an empty list matches nothing"},
      {"    dns: {name: [a.local]}\n", "9:11 unknown key 'name' (expected one of: names)"},
      {"    dns: {}\n", "9:10 an empty 'dns' block"},
      {"    http: {methods: [GTE]}\n", "9:22 'GTE' is not a known http.method (GET, HEAD, POST, PUT, DELETE, "
                                      "CONNECT, OPTIONS, TRACE, PATCH)"},
      {"    http: {paths: [api/orders]}\n", "9:20 a path starts with '/'"},
      {"    tls: {minVersion: \"1.4\"}\n", "9:23 '1.4' is not a known tls.version (1.0, 1.1, 1.2, 1.3)"},
      {"    tls: {minVersion: [\"1.2\"]}\n", "9:23 expected a single value"},
      {"    smb: {dialects: [\"2.2\"]}\n", "9:22 '2.2' is not a known smb.dialect"},
      {"    smb: {commands: [TRANSACTON2]}\n", "9:22 'TRANSACTON2' is not a known smb.command; did you mean 'TRANSACTION2'?"},
      {"    smb: {shares: [\"C:/\"]}\n", "9:20 a share name has no control characters"},
      {"    hl7: {messageTypes: [rde^o11]}\n", "9:26 a message type is CODE, CODE^EVENT"},
      {"    hl7: {messageTypes: [\"ADT^A01^ADT_A01^X\"]}\n", "9:26 a message type is CODE"},
      {"    hl7: {messageTypes: [\"RD^O11\"]}\n", "9:26 a message type is CODE"},
      {"    hl7: {messageTypes: [\"RDE^\"]}\n", "9:26 a message type is CODE"},
      {"    hl7: {sendingFacilities: [\"WARD|3\"]}\n", "9:31 an MSH application or facility"},
      {"    dicom: {calledAeTitles: [ABCDEFGHIJKLMNOPQ]}\n", "9:30 an AE title is at most 16 characters"},
      {"    dicom: {callingAeTitles: [\"   \"]}\n", "9:31 an AE title is not all spaces"},
      {"    dns: {names: [a.local]}\n    tls: {sni: [a.local]}\n", "6:5 one rule judges one protocol: its 'dns' and 'tls'"},
      {"    protocols: [DNS, HTTP]\n    dns: {names: [a.local]}\n", "9:22 'HTTP' flows never carry the rule's 'dns' conditions (DNS flows do)"},
  };
  for (const auto& c : cases) {
    const std::string got = error_of(rule_with(c.block));
    const std::string want = c.expected;
    const std::string place = want.substr(0, want.find(' '));
    EXPECT_EQ(got.substr(0, got.find(' ')), place) << c.block << got;
    EXPECT_NE(got.find(want.substr(want.find(' ') + 1)), std::string::npos) << c.block << got;
  }
  // A pattern longer than any value kept (100,000 stars: no literal character too many for an
  // AE title, and a glob whose match time grows with its length) is refused whatever its field.
  for (const char* field : {"    dicom: {calledAeTitles: [\"", "    dns: {names: [\""}) {
    const std::string got = error_of(rule_with(field + std::string(100000, '*') + "\"]}\n"));
    EXPECT_NE(got.find("a pattern is at most 4096 characters"), std::string::npos) << got.substr(0, 300);
  }
}

TEST(PolicyL7, ARuleMatchesWhenEveryConditionHoldsAndWaitsForWhatIsNotReportedYet) {
  const Policy p = load(R"(  - {name: ward-dns, direction: egress, action: allow, dns: {names: ["*.ward3.local", ntp.hospital.org]}}
  - {name: console-tls, direction: egress, action: allow, tls: {sni: [console.ward3.local], minVersion: "1.2"}}
)");
  const auto ward = attrs({{&netmon::ndpi_attr::kDnsName, "Pharmacy.Ward3.local"}});
  const auto outside = attrs({{&netmon::ndpi_attr::kDnsName, "tunnel.example.com"}});
  Decision d = evaluate(p, flow(kDns, 53, &ward));
  EXPECT_TRUE(d.definitive);
  EXPECT_EQ(d.rule, 0);
  d = evaluate(p, flow(kDns, 53, &outside));
  EXPECT_EQ(d.rule, kDefaultRule);
  EXPECT_EQ(d.action, Action::Deny);
  // Nothing reported: once final, the rule does not match; before, the flow waits.
  EXPECT_EQ(evaluate(p, flow(kDns, 53, nullptr)).rule, kDefaultRule);
  EXPECT_FALSE(evaluate(p, flow(kDns, 53, nullptr, false)).definitive);
  // The protocol still has to be the one that carries the conditions.
  EXPECT_EQ(evaluate(p, flow(kHttp, 53, &ward)).rule, kDefaultRule);

  const auto tls10 = attrs({{&netmon::ndpi_attr::kTlsSni, "console.ward3.local"}, {&netmon::ndpi_attr::kTlsVersion, "1.0"}});
  const auto tls12 = attrs({{&netmon::ndpi_attr::kTlsSni, "console.ward3.local"}, {&netmon::ndpi_attr::kTlsVersion, "1.2"}});
  const auto tls13 = attrs({{&netmon::ndpi_attr::kTlsSni, "console.ward3.local"}, {&netmon::ndpi_attr::kTlsVersion, "1.3"}});
  const auto other = attrs({{&netmon::ndpi_attr::kTlsSni, "update.vendor.com"}, {&netmon::ndpi_attr::kTlsVersion, "1.3"}});
  EXPECT_EQ(evaluate(p, flow(kTls, 443, &tls10)).rule, kDefaultRule);
  EXPECT_EQ(evaluate(p, flow(kTls, 443, &tls12)).rule, 1);
  EXPECT_EQ(evaluate(p, flow(kTls, 443, &tls13)).rule, 1);
  EXPECT_EQ(evaluate(p, flow(kTls, 443, &other)).rule, kDefaultRule);
  // The index and the linear walk agree on L7 rules too.
  for (const auto* a : {&tls10, &tls12, &other})
    EXPECT_EQ(evaluate(p, flow(kTls, 443, a)).rule, evaluate_linear(p, flow(kTls, 443, a)).rule);
}

TEST(PolicyL7, SmbConditionsMatchTheMessageBeingJudged) {
  const Policy p = load(R"(  - {name: no-admin-shares, direction: egress, action: deny, smb: {shares: ["ADMIN$", "?$"]}}
  - {name: smb, direction: egress, action: allow, protocols: [SMBv1]}
)");
  const auto admin = attrs({{&netmon::smb::kShare, "admin$"}});
  const auto c_drive = attrs({{&netmon::smb::kShare, "C$"}});
  const auto data = attrs({{&netmon::smb::kShare, "CABINETDATA"}});
  EXPECT_EQ(evaluate(p, flow(kSmbV1, 445, &admin)).rule, 0);
  EXPECT_EQ(evaluate(p, flow(kSmbV1, 445, &c_drive)).rule, 0);
  EXPECT_EQ(evaluate(p, flow(kSmbV1, 445, &data)).rule, 1);
  // An inspector still reading the session: the deny rule may yet match, the allow disagrees.
  EXPECT_FALSE(evaluate(p, flow(kSmbV1, 445, nullptr, false)).definitive);
}

TEST(PolicyL7, AMessageTypePatternNamesTheComponentsItCaresAbout) {
  const Policy p = load(R"(  - {name: orders, direction: egress, action: allow, hl7: {messageTypes: ["RDE^O11", ADT, "ORM^O01^ORM_O01"]}}
)");
  const uint16_t hl7 = 0xF001;
  for (const char* allowed : {"RDE^O11", "RDE^O11^RDE_O11", "ADT^A01", "ADT^A08^ADT_A01", "ORM^O01^ORM_O01"}) {
    const auto a = attrs({{&netmon::hl7::kMessageType, allowed}});
    EXPECT_EQ(evaluate(p, flow(hl7, 2575, &a)).rule, 0) << allowed;
  }
  for (const char* refused : {"RDE^O25", "RDE", "ADTX^A01", "ORM^O01", "ORM^O01^OML_O21", "RDS^O13"}) {
    const auto a = attrs({{&netmon::hl7::kMessageType, refused}});
    EXPECT_EQ(evaluate(p, flow(hl7, 2575, &a)).rule, kDefaultRule) << refused;
  }
}

TEST(PolicyL7, AStructureThePatternDoesNotNameMustBeOneOfTheMessagesOwnCode) {
  // A receiver that reads MSH-9.3 parses ORM^O01^ADT_A01 as an ADT: not an order.
  const Policy p = load(R"(  - {name: orders, direction: egress, action: allow, hl7: {messageTypes: ["ORM^O01", ADT, ACK, "RDE^*"]}}
)");
  const uint16_t hl7 = 0xF001;
  for (const char* allowed : {"ORM^O01^ORM_O01", "ADT^A04^ADT_A01", "ACK^O01^ACK", "ACK^O01", "RDE^O25^RDE_O25"}) {
    const auto a = attrs({{&netmon::hl7::kMessageType, allowed}});
    EXPECT_EQ(evaluate(p, flow(hl7, 2575, &a)).rule, 0) << allowed;
  }
  for (const char* refused : {"ORM^O01^ADT_A01", "ORM^O01^ORM", "ORM^O01^ORMX_O01", "ADT^A04^ORM_O01",
                              "ORM^O01^ORM_O01^X", "RDE^O11^ADT_A01", "ACK^O01^ADT_A01"}) {
    const auto a = attrs({{&netmon::hl7::kMessageType, refused}});
    EXPECT_EQ(evaluate(p, flow(hl7, 2575, &a)).rule, kDefaultRule) << refused;
  }
}

TEST(PolicyL7, ARiskRuleWaitsWhileTheClassifierMayStillReportIt) {
  // A flow an inspector named ahead of nDPI (SMB1): its risks are not final until nDPI is done.
  const Policy p = load(R"(  - {name: no-insecure-smb, direction: egress, risks: [SMB Insecure Version], action: deny}
  - {name: smb, direction: egress, protocols: [SMBv1], action: allow}
)");
  FlowFacts f = flow(kSmbV1, 445, nullptr);
  f.l7->risks_final = false;
  EXPECT_FALSE(evaluate(p, f).definitive) << "the risk rule may still match";
  f.l7->risks_final = true;
  EXPECT_EQ(evaluate(p, f).rule, 1);
  f.l7->risks = uint64_t{1} << 10;  // the fake catalogue's bit for SMB Insecure Version
  f.l7->risks_final = false;
  EXPECT_EQ(evaluate(p, f).rule, 0) << "a risk reported is final for the rule that asks for it";
}

TEST(PolicyL7, AnAssociationMayProposeOnlyTheSopClassesARuleNames) {
  const Policy p = load(R"(  - {name: verify-and-worklist, direction: egress, action: allow, dicom: {sopClasses: ["1.2.840.10008.1.1", "1.2.840.10008.5.1.4.31"]}}
)");
  const uint16_t dicom = 0xF002;
  const auto verification = attrs({{&netmon::dicom::kSopClasses, "1.2.840.10008.1.1"}});
  const auto both = attrs({{&netmon::dicom::kSopClasses, "1.2.840.10008.5.1.4.31 1.2.840.10008.1.1"}});
  const auto with_ct = attrs({{&netmon::dicom::kSopClasses, "1.2.840.10008.1.1 1.2.840.10008.5.1.4.1.1.2"}});
  const auto none = attrs({{&netmon::dicom::kSopClasses, ""}});
  EXPECT_EQ(evaluate(p, flow(dicom, 104, &verification)).rule, 0);
  EXPECT_EQ(evaluate(p, flow(dicom, 104, &both)).rule, 0);
  EXPECT_EQ(evaluate(p, flow(dicom, 104, &with_ct)).rule, kDefaultRule) << "one SOP class the rule does not name";
  EXPECT_EQ(evaluate(p, flow(dicom, 104, &none)).rule, kDefaultRule);
  EXPECT_NE(error_of(rule_with("    dicom: {sopClasses: [CT-IMAGE]}\n")).find("a SOP class is a UID"), std::string::npos);
}

TEST(PolicyL7, LintSeesShadowingByConditions) {
  const Policy p = load(R"(  - {name: any-ward, direction: egress, action: allow, dns: {names: ["*"]}}
  - {name: pharmacy, direction: egress, action: deny, dns: {names: [pharmacy.ward3.local]}}
  - {name: tls12, direction: egress, action: allow, tls: {sni: [a.local], minVersion: "1.2"}}
  - {name: tls13, direction: egress, action: deny, tls: {sni: [a.local], minVersion: "1.3"}}
  - {name: tls10, direction: egress, action: deny, tls: {sni: [a.local], minVersion: "1.0"}}
  - {name: orders, direction: egress, action: allow, hl7: {messageTypes: ["RDE^O11"]}}
)");
  std::vector<std::string> messages;
  for (const auto& w : lint(p)) messages.push_back(w.message);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_NE(messages[0].find("rule 'pharmacy' is never reached: rule 'any-ward'"), std::string::npos);
  EXPECT_NE(messages[1].find("rule 'tls13' is never reached: rule 'tls12'"), std::string::npos);
}

// The loader knows the blocks and fields from the attributes declared beside what reports
// them, and nothing else: one nothing declares is refused, with what is declared.
TEST(PolicyL7, ABlockOrFieldNothingDeclaresIsRefused) {
  EXPECT_NE(error_of(rule_with("    ntp: {servers: [a.local]}\n")).find("ntp"), std::string::npos);
  const std::string field = error_of(rule_with("    hl7: {messageType: [\"RDE^O11\"]}\n"));
  EXPECT_NE(field.find("messageTypes"), std::string::npos) << field;
  const std::string unknown = error_of(rule_with("    smb: {commands: [TREE_CONECT]}\n"));
  EXPECT_NE(unknown.find("did you mean 'TREE_CONNECT'"), std::string::npos) << unknown;
}

// Every declared attribute is one of a kind (its name, and its block and field, are its own);
// a block's attributes are carried by the same protocols; a block is no key a rule already has;
// and an inspector's block is the one its registration judges messages by, both ways (else its
// messages would report nothing and the rule never hold).
TEST(PolicyL7, DeclaredAttributesAgreeWithEachOtherAndWithTheRegistry) {
  const auto& all = netmon::declared_attributes();
  const auto carriers = [](Attr a) { return std::string(a->protocols[0]) + "," + (a->protocols[1] ? a->protocols[1] : ""); };
  for (size_t i = 0; i < all.size(); ++i)
    for (size_t j = i + 1; j < all.size(); ++j) {
      EXPECT_STRNE(all[i]->name, all[j]->name);
      if (std::string(all[i]->block) != all[j]->block) continue;
      EXPECT_STRNE(all[i]->field, all[j]->field) << all[i]->name;
      EXPECT_EQ(carriers(all[i]), carriers(all[j])) << all[i]->name << " and " << all[j]->name;
    }
  const std::set<std::string> rule_keys = {"name", "direction", "peers", "ports", "transport", "protocols", "risks", "action", "mode"};
  const std::set<std::string> read_by_ndpi = {"dns", "http", "tls"};
  std::set<std::string> blocks, registered;
  for (const Attr a : all) blocks.insert(a->block);
  for (const auto& r : netmon::inspector_registry())
    if (r.block[0] != '\0') registered.insert(r.block);
  for (const auto& b : blocks) {
    EXPECT_EQ(rule_keys.count(b), 0u) << b;
    EXPECT_TRUE(read_by_ndpi.count(b) || registered.count(b)) << "no inspector registered for block " << b;
  }
  for (const auto& b : registered) EXPECT_TRUE(blocks.count(b)) << "inspector block " << b << " declares no attribute";
}

TEST(PolicyL7, ExplainSaysWhichConditionFailed) {
  const Policy p = load(R"(  - {name: console-tls, direction: egress, action: allow, tls: {sni: ["*.ward3.local"], minVersion: "1.2"}}
)");
  std::string error;
  const auto spec = parse_flow_spec("tcp 10.77.0.2:1025 -> 10.77.0.1:443", error);
  ASSERT_TRUE(spec) << error;
  FlowFacts f = *facts_for(p, *spec, error);
  auto lines = explain(p, f);
  EXPECT_NE(lines[0].why.find("would match if the classifier names TLS and tls.sni matches one of *.ward3.local "
                              "and tls.version is at least 1.2"),
            std::string::npos)
      << lines[0].why;
  const auto old_tls = attrs({{&netmon::ndpi_attr::kTlsSni, "console.ward3.local"}, {&netmon::ndpi_attr::kTlsVersion, "1.0"}});
  f.l7 = L7Facts{kTls, kTls};
  f.l7->attributes = &old_tls;
  lines = explain(p, f);
  EXPECT_EQ(lines[0].why, "tls.version '1.0' fails its condition (tls.version is at least 1.2)");
  f.l7->attributes = nullptr;
  EXPECT_EQ(explain(p, f)[0].why, "the flow reports no tls.sni");
}

}  // namespace
