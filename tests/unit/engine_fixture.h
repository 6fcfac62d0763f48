// An engine wired to recording sinks and a real nDPI classifier, for tests that drive it
// frame by frame with a fake clock.
#pragma once

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <vector>

#include "frames.h"
#include "vitrine/netmon/engine.h"
#include "vitrine/policy/load.h"

namespace vitrine::testing {

struct SentFrame {
  netmon::Side to;
  Bytes bytes;
};

class RecordingSink : public netmon::FrameSink {
 public:
  bool send(netmon::Side to, const uint8_t* data, size_t len) override {
    sent.push_back({to, Bytes(data, data + len)});
    return true;
  }
  std::vector<Bytes> to(netmon::Side side) const {
    std::vector<Bytes> out;
    for (const auto& s : sent)
      if (s.to == side) out.push_back(s.bytes);
    return out;
  }
  std::vector<SentFrame> sent;
};

class RecordingEvents : public netmon::EventSink {
 public:
  bool emit(const netmon::Event& e) override {
    events.push_back(e);
    return !failing;
  }
  bool failing = false;  // pretend the events file cannot be written
  size_t count(netmon::Event::Kind k) const {
    size_t n = 0;
    for (const auto& e : events) n += e.kind == k;
    return n;
  }
  std::vector<netmon::Event> events;
};

// The value of one time series in a registry, or -1 when it does not exist.
inline double metric_value(prometheus::Registry& registry, const std::string& name,
                           const std::map<std::string, std::string>& labels = {}) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& m : family.metric) {
      bool match = true;
      for (const auto& [k, v] : labels) {
        bool found = false;
        for (const auto& l : m.label) found |= (l.name == k && l.value == v);
        match &= found;
      }
      if (!match) continue;
      if (family.type == prometheus::MetricType::Counter) return m.counter.value;
      if (family.type == prometheus::MetricType::Gauge) return m.gauge.value;
      if (family.type == prometheus::MetricType::Histogram)
        return static_cast<double>(m.histogram.sample_count);
    }
  }
  return -1;
}

inline const MacAddr kGuestMac = mac("52:54:00:77:00:02");
inline const MacAddr kGatewayMac = mac("52:54:00:77:00:01");
inline const IpAddr kGuestIp = ip("10.77.0.2");
inline const IpAddr kServerIp = ip("10.77.0.1");

inline const char* kPolicyHeader = R"(apiVersion: vitrine/v1
name: unit
guest:
  mac: "52:54:00:77:00:02"
  ipv4: 10.77.0.2
defaultAction: deny
)";

class EngineTest : public ::testing::Test {
 protected:
  void start(const std::string& policy_rest) {
    policy_ = std::make_shared<const policy::Policy>(
        policy::load_policy_text(std::string(kPolicyHeader) + policy_rest, "unit.yaml", classifier_));
    engine_ = std::make_unique<netmon::Engine>(policy_, classifier_, sink_, events_, metrics_,
                                               netmon::LinkType::Ethernet);
  }

  void from_guest(const Bytes& frame) { engine_->on_frame(netmon::Side::Guest, frame.data(), frame.size(), frame.size(), now_us_); }
  void from_uplink(const Bytes& frame) { engine_->on_frame(netmon::Side::Uplink, frame.data(), frame.size(), frame.size(), now_us_); }

  Bytes guest_tcp(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                  const std::string& payload = {}) {
    return ethernet(kGuestMac, kGatewayMac, 0x0800,
                    ipv4(kGuestIp, kServerIp, 6, tcp(sport, dport, seq, ack, flags, payload)));
  }
  Bytes server_tcp(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                   const std::string& payload = {}) {
    return ethernet(kGatewayMac, kGuestMac, 0x0800,
                    ipv4(kServerIp, kGuestIp, 6, tcp(sport, dport, seq, ack, flags, payload)));
  }
  // A connection the guest opens, its handshake complete (ISNs 1 and 100).
  void connect(uint16_t sport, uint16_t dport) {
    from_guest(guest_tcp(sport, dport, 1, 0, netmon::tcp_flag::kSyn));
    from_uplink(server_tcp(dport, sport, 100, 2, netmon::tcp_flag::kSyn | netmon::tcp_flag::kAck));
    from_guest(guest_tcp(sport, dport, 2, 101, netmon::tcp_flag::kAck));
  }
  Bytes guest_udp(uint16_t sport, uint16_t dport, const Bytes& payload) {
    return ethernet(kGuestMac, kGatewayMac, 0x0800, ipv4(kGuestIp, kServerIp, 17, udp(sport, dport, payload)));
  }

  double metric(const std::string& name, const std::map<std::string, std::string>& labels = {}) {
    metrics_.publish();  // as the relay does after every batch
    return metric_value(*registry_, name, labels);
  }

  netmon::NdpiClassifier classifier_;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  netmon::NetmonMetrics metrics_{registry_};
  RecordingSink sink_;
  RecordingEvents events_;
  std::shared_ptr<const policy::Policy> policy_;
  std::unique_ptr<netmon::Engine> engine_;
  uint64_t now_us_ = 1'700'000'000'000'000;
};

}  // namespace vitrine::testing
