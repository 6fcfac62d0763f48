// libFuzzer target: a sequence of frames from either side through the whole data path
// (layer-2 police, normaliser, admission, flow table, nDPI, verdicts, holds, resets) under a
// policy with every kind of rule and small limits, with time advancing.
// Input: [mode:1], then records of [side:1][gap_ms:1][length:2][frame]. Mode's bit 0 on:
// checksums are verified, as live (a mutated frame then mostly stops at the normaliser); off:
// they are not, as replay --checksums ignore, so mutations reach the stream and the parsers.
// Bit 1 on: onMidstream allow, so that flows picked up midway are tracked, not cut.
#include <prometheus/registry.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vitrine/netmon/engine.h"
#include "vitrine/policy/load.h"

namespace {

constexpr const char* kPolicy = R"(apiVersion: vitrine/v1
name: fuzz
guest:
  mac: "52:54:00:77:00:02"
  ipv4: 10.77.0.2
  ipv6: ["fe80::2"]
defaultAction: deny
layer2: {dhcpClient: true, dhcpServers: [10.77.0.1]}
limits: {maxFlows: 32, holdPackets: 3, holdBytes: 3000, holdMilliseconds: 50, dpiMaxPacketsUdp: 4, dpiMaxPacketsTcp: 8,
         reassemblyPendingBytes: 2048, tcpHalfOpenTimeoutSeconds: 2, maxUnansweredFlows: 8, maxUnansweredFlowsPerSource: 4}
outcomes: {onFlowTableFull: evictOldest, onMidstream: MIDSTREAM}
rules:
  - {name: ward-dns, direction: egress, ports: [53], dns: {names: ["*.ward3.local"]}, action: allow}
  - {name: api, direction: egress, http: {hosts: [pharmacy], methods: [GET], paths: ["/api/*"]}, action: allow}
  - {name: console-tls, direction: egress, tls: {sni: [console.ward3.local], minVersion: "1.2"}, action: allow}
  - {name: orders, direction: egress, hl7: {messageTypes: ["RDS^O13"], sendingApplications: [CAB]}, action: allow}
  - {name: pacs, direction: egress, dicom: {calledAeTitles: [PACS], callingAeTitles: [CABINET]}, action: allow}
  - {name: dns, direction: egress, transport: udp, ports: [53], protocols: [DNS], action: allow}
  - {name: web, direction: egress, ports: [80, 8080], protocols: [HTTP], action: alert}
  - {name: smb2, direction: egress, ports: [445], protocols: [SMBv23], action: allow}
  - {name: lan, direction: egress, peers: [10.77.0.0/24], transport: tcp, ports: [1-1024], action: allow}
  - {name: rdp-in, direction: ingress, ports: [3389], action: alert}
)";

class DiscardSink : public vitrine::netmon::FrameSink {
 public:
  bool send(vitrine::netmon::Side, const uint8_t*, size_t) override { return true; }
};

std::shared_ptr<const vitrine::policy::Policy> load(const vitrine::netmon::NdpiClassifier& classifier,
                                                    const std::string& midstream) {
  std::string text = kPolicy;
  text.replace(text.find("MIDSTREAM"), 9, midstream);
  return std::make_shared<const vitrine::policy::Policy>(vitrine::policy::load_policy_text(text, "fuzz.yaml", classifier));
}

struct World {
  vitrine::netmon::NdpiClassifier classifier;
  std::shared_ptr<const vitrine::policy::Policy> policies[2] = {load(classifier, "deny"), load(classifier, "allow")};
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  vitrine::netmon::NetmonMetrics metrics{registry};
  DiscardSink sink;
  vitrine::netmon::NullEventSink events;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World world;  // nDPI's module takes milliseconds to build: once per process
  if (size == 0) return 0;
  vitrine::netmon::EngineOptions options;
  options.verify_checksums = data[0] & 1;
  vitrine::netmon::Engine engine(world.policies[(data[0] >> 1) & 1], world.classifier, world.sink, world.events,
                                 world.metrics, vitrine::netmon::LinkType::Ethernet, options);
  uint64_t now_us = 1'700'000'000'000'000;
  size_t at = 1;
  while (at + 4 <= size) {
    const auto side = (data[at] & 1) ? vitrine::netmon::Side::Uplink : vitrine::netmon::Side::Guest;
    now_us += uint64_t{data[at + 1]} * 1000;
    const size_t len = (size_t{data[at + 2]} << 8) | data[at + 3];
    at += 4;
    const size_t take = len < size - at ? len : size - at;
    const std::vector<uint8_t> frame(data + at, data + at + take);
    at += take;
    engine.on_tick(now_us);
    engine.on_frame(side, frame.data(), frame.size(), frame.size(), now_us);
  }
  engine.on_tick(now_us + 10'000'000'000ull);  // everything expires
  engine.finish();
  world.metrics.publish();
  return 0;
}
