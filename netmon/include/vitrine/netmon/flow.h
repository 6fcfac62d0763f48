// One flow's record and the bounded table that holds them. The table owns eviction: each
// flow sits on the recency list of its timeout class, so that expiry only ever looks at the
// oldest flow of each class.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <unordered_map>
#include <vector>

#include "vitrine/common/net_types.h"
#include "vitrine/netmon/classifier.h"
#include "vitrine/netmon/inspector.h"
#include "vitrine/netmon/reassembly.h"
#include "vitrine/policy/policy.h"

namespace vitrine::netmon {

// The two interfaces of the bump in the wire.
enum class Side : uint8_t { Guest = 0, Uplink = 1 };
inline Side other(Side s) { return s == Side::Guest ? Side::Uplink : Side::Guest; }

// The 5-tuple with its two endpoints in a fixed order, so both directions find one flow.
struct FlowKey {
  IpAddr low_ip;
  IpAddr high_ip;
  uint16_t low_port = 0;
  uint16_t high_port = 0;
  uint8_t ip_protocol = 0;

  static FlowKey of(const IpAddr& a, uint16_t a_port, const IpAddr& b, uint16_t b_port,
                    uint8_t ip_protocol);
  bool operator==(const FlowKey&) const = default;
};

struct FlowKeyHash {
  size_t operator()(const FlowKey& k) const noexcept;
};

enum class Verdict : uint8_t { Pending, Allow, Deny };
const char* to_string(Verdict v);

enum class TimeoutClass : uint8_t { Tcp, TcpClosed, Udp, Other, kCount };

// A frame held back while its flow's verdict is pending.
struct HeldFrame {
  std::vector<uint8_t> bytes;
  Side to;
  uint8_t endpoint;  // 0: from the initiator, 1: from the responder
  uint32_t tcp_seq_end;
};

// A flow whose messages an inspector reads: its two byte streams, back in order.
struct FlowInspection {
  FlowInspection(std::unique_ptr<Inspector> i, uint32_t max_pending_bytes)
      : inspector(std::move(i)), stream{StreamReassembler(max_pending_bytes), StreamReassembler(max_pending_bytes)} {}
  std::unique_ptr<Inspector> inspector;
  const char* block = "";       // the policy block its messages are judged by
  StreamReassembler stream[2];  // by endpoint: 0 initiator, 1 responder
};

struct Flow {
  FlowKey key;
  // Orientation, from the first packet: the initiator opened the flow.
  IpAddr initiator_ip;
  IpAddr responder_ip;
  uint16_t initiator_port = 0;
  uint16_t responder_port = 0;
  uint8_t ip_protocol = 0;
  policy::Direction direction = policy::Direction::Egress;
  MacAddr guest_mac;
  MacAddr peer_mac;

  Verdict verdict = Verdict::Pending;
  policy::Action action = policy::Action::Deny;
  std::string rule;  // the rule, "default", or the outcome that decided
  std::string reason;

  uint64_t first_us = 0;
  uint64_t last_us = 0;
  uint64_t packets[2] = {0, 0};  // by endpoint: 0 initiator, 1 responder
  uint64_t bytes[2] = {0, 0};
  uint64_t dropped_packets = 0;

  // TCP sequence space, by endpoint: as forwarded (what the other side has received) and as
  // seen (what the endpoint has sent), for resets that the receiver will accept.
  uint32_t next_seq[2] = {0, 0};
  bool seq_known[2] = {false, false};
  uint32_t seen_next_seq[2] = {0, 0};
  bool seen_seq_known[2] = {false, false};
  bool fin_seen[2] = {false, false};
  bool rst_seen = false;

  Classification classification;
  bool inspectors_tried = false;               // the first payload was offered to them
  std::unique_ptr<FlowInspection> inspection;  // only when the policy judges the protocol's messages
  bool accounted = false;  // counted in the flows metric

  std::vector<HeldFrame> held;
  uint32_t held_bytes = 0;
  uint64_t hold_deadline_us = 0;  // 0: nothing held

  TimeoutClass timeout_class = TimeoutClass::Other;
  std::list<Flow*>::iterator recency;

  uint8_t endpoint_of(const IpAddr& src, uint16_t src_port) const {
    return (src == initiator_ip && src_port == initiator_port) ? 0 : 1;
  }
};

// Timeouts in microseconds, one per TimeoutClass.
struct FlowTimeouts {
  uint64_t by_class[static_cast<size_t>(TimeoutClass::kCount)];
  static FlowTimeouts from(const policy::Limits& limits);
};

class FlowTable {
 public:
  FlowTable(uint32_t max_flows, FlowTimeouts timeouts);
  ~FlowTable();
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  Flow* find(const FlowKey& key);
  const Flow* find(const FlowKey& key) const;
  // nullptr when the table is full: the caller applies the policy's outcome.
  Flow* insert(const FlowKey& key, TimeoutClass cls, uint64_t now_us);
  // Marks activity and moves the flow to the young end of its (possibly new) class.
  void touch(Flow& flow, TimeoutClass cls, uint64_t now_us);
  // The least recently active flow of all classes, or nullptr when empty.
  Flow* oldest();
  // Calls `on_end` for each flow idle past its class's timeout, then removes it.
  void expire(uint64_t now_us, const std::function<void(Flow&)>& on_end);
  void remove(Flow& flow);
  // Calls `on_end` for every flow and empties the table.
  void drain(const std::function<void(Flow&)>& on_end);
  // Calls `visit` for every flow; the table is not changed.
  void for_each(const std::function<void(Flow&)>& visit);

  size_t size() const { return flows_.size(); }
  uint32_t capacity() const { return max_flows_; }

 private:
  uint32_t max_flows_;
  FlowTimeouts timeouts_;
  std::unordered_map<FlowKey, std::unique_ptr<Flow>, FlowKeyHash> flows_;
  std::list<Flow*> recency_[static_cast<size_t>(TimeoutClass::kCount)];
};

}  // namespace vitrine::netmon
