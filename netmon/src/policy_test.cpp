#include "vitrine/netmon/policy_test.h"

#include <netinet/in.h>

#include <stdexcept>

#include <nlohmann/json.hpp>
#include <prometheus/registry.h>

#include "vitrine/common/yaml_reader.h"
#include "vitrine/netmon/classifier.h"
#include "vitrine/netmon/replay.h"

namespace vitrine::netmon {

ObservedFlow observed_flow(const nlohmann::json& j, const std::string& verdict) {
  ObservedFlow f{j.value("l4", ""), j.value("src", ""), j.value("dst", ""), j.value("sport", uint16_t{0}),
                 j.value("dport", uint16_t{0}), j.value("protocol", "Unknown"), j.value("verdict", verdict),
                 j.value("rule", ""), j.value("packets", uint64_t{0}), "", {}};
  if (j.contains("messages") && j["messages"].is_array())
    for (const auto& m : j["messages"])
      if (m.is_object())
        f.messages.push_back(m.value("direction", "") + " " + m.value("type", "") + " " +
                             (m.value("judged", false) ? m.value("verdict", "") : "read") +
                             (m.contains("signature") ? " [" + m.value("signature", "") + "]" : ""));
  if (j.contains("attributes") && j["attributes"].is_object())
    for (const auto& [name, value] : j["attributes"].items())
      if (value.is_string()) f.attributes += (f.attributes.empty() ? "" : " ") + name + "=" + value.get<std::string>();
  return f;
}

std::vector<ObservedFlow> observe_flows(const policy::Policy& policy, const std::string& pcap_path,
                                        bool verify_checksums) {
  NdpiClassifier classifier;
  NullEventSink events;
  NetmonMetrics metrics(std::make_shared<prometheus::Registry>());
  std::vector<ObservedFlow> out;
  replay_capture(pcap_path, std::make_shared<const policy::Policy>(policy), classifier, events, metrics,
                 [&](const std::string& record) { out.push_back(observed_flow(nlohmann::json::parse(record), "")); },
                 EngineOptions{verify_checksums});
  return out;
}

std::vector<FlowExpectation> load_expectations(const std::string& path) {
  const std::string text = YamlReader::read_file(path, "expectation");
  const YAML::Node root = YamlReader::parse(text, path, "expectation");
  return YamlReader::guarded(path, [&] {
    const YamlReader r(path);
    std::vector<FlowExpectation> out;
    r.map(root, "", {{"flows", [&](const YAML::Node& v, const std::string& p) {
                        r.list(v, p, [&](const YAML::Node& item, const std::string& ip) {
                          FlowExpectation e;
                          e.line = item.Mark().line + 1;
                          e.column = item.Mark().column + 1;
                          r.map(item, ip,
                                {{"flow", [&](const YAML::Node& x, const std::string& xp) {
                                    e.flow = r.scalar(x, xp);
                                    std::string error;
                                    const auto spec = policy::parse_flow_spec(e.flow, error);
                                    if (!spec) r.fail(x, xp, error);
                                    e.spec = *spec;
                                  }},
                                 {"verdict", [&](const YAML::Node& x, const std::string& xp) {
                                    e.verdict = r.choice<std::string>(x, xp, {{"allow", "allow"}, {"deny", "deny"}});
                                  }},
                                 {"rule", [&](const YAML::Node& x, const std::string& xp) { e.rule = r.scalar(x, xp); }},
                                 {"protocol", [&](const YAML::Node& x, const std::string& xp) {
                                    e.protocol = r.scalar(x, xp);
                                  }}});
                          if (e.flow.empty()) r.fail(item, ip, "missing 'flow'");
                          if (e.verdict.empty()) r.fail(item, ip, "missing 'verdict' (allow or deny)");
                          out.push_back(std::move(e));
                        });
                      }}});
    return out;
  });
}

std::vector<std::string> compare(const std::vector<FlowExpectation>& expected,
                                 const std::vector<ObservedFlow>& observed, const std::string& expect_path) {
  std::vector<std::string> differences;
  for (const auto& e : expected) {
    const std::string where = expect_path + ":" + std::to_string(e.line) + ":" + std::to_string(e.column) + ": " + e.flow;
    const std::string l4 = e.spec.ip_protocol == IPPROTO_TCP ? "TCP" : e.spec.ip_protocol == IPPROTO_UDP ? "UDP" : "ICMP";
    const ObservedFlow* found = nullptr;
    for (const auto& o : observed) {
      if (o.l4 == l4 && o.src == e.spec.src.str() && o.dst == e.spec.dst.str() &&
          (l4 == "ICMP" || (o.sport == e.spec.sport && o.dport == e.spec.dport))) {
        found = &o;
        break;
      }
    }
    if (!found) {
      differences.push_back(where + ": no such flow in the capture");
      continue;
    }
    std::string got = found->verdict + " by rule '" + found->rule + "' (" + found->protocol + ")";
    if (found->verdict != e.verdict) differences.push_back(where + ": expected " + e.verdict + ", got " + got);
    else if (e.rule && found->rule != *e.rule) differences.push_back(where + ": expected rule '" + *e.rule + "', got " + got);
    else if (e.protocol && found->protocol != *e.protocol)
      differences.push_back(where + ": expected protocol " + *e.protocol + ", got " + got);
  }
  return differences;
}

}  // namespace vitrine::netmon
