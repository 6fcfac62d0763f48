// libFuzzer target: a sequence of frames from either side through the whole data path
// (layer-2 police, flow table, nDPI, verdicts, holds, resets) under a policy with every kind
// of rule, with time advancing. Input: records of [side:1][gap_ms:1][length:2][frame].
#include <prometheus/registry.h>

#include <cstddef>
#include <cstdint>
#include <memory>
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
layer2: {dhcpClient: true}
limits: {maxFlows: 32, holdPackets: 3, holdBytes: 3000, holdMilliseconds: 50, dpiMaxPacketsUdp: 4, dpiMaxPacketsTcp: 8, reassemblyPendingBytes: 2048}
outcomes: {onFlowTableFull: evictOldest}
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

struct World {
  vitrine::netmon::NdpiClassifier classifier;
  std::shared_ptr<const vitrine::policy::Policy> policy = std::make_shared<const vitrine::policy::Policy>(
      vitrine::policy::load_policy_text(kPolicy, "fuzz.yaml", classifier));
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  vitrine::netmon::NetmonMetrics metrics{registry};
  DiscardSink sink;
  vitrine::netmon::NullEventSink events;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World world;  // nDPI's module takes milliseconds to build: once per process
  vitrine::netmon::Engine engine(world.policy, world.classifier, world.sink, world.events,
                                 world.metrics, vitrine::netmon::LinkType::Ethernet);
  uint64_t now_us = 1'700'000'000'000'000;
  size_t at = 0;
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
