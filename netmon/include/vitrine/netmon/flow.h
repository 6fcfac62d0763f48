// One flow's record and the bounded table that holds them. The table owns eviction: each
// flow sits on the recency list of its timeout class, so that expiry only ever looks at the
// oldest flow of each class; and a flow that its responder has not answered yet (a half-open
// TCP connection, a UDP datagram without reply) also sits on its opener's side's list of
// unanswered flows, which is bounded on its own, so that a flood from either side fills only
// that list and never the room kept for answered flows.
//
// A flow is kept small (DESIGN.md: 100,000 allowed flows in 64 MiB): what only some flows need
// (held frames, streams being read, what their messages said) hangs off it when needed.
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
#include "vitrine/netmon/tcp_tracker.h"
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

struct IpAddrHash {
  size_t operator()(const IpAddr& a) const noexcept;
};

enum class Verdict : uint8_t { Pending, Allow, Deny };
const char* to_string(Verdict v);

// TcpHalfOpen: the handshake is not complete; it lasts seconds (limits.tcpHalfOpenTimeout).
enum class TimeoutClass : uint8_t { TcpHalfOpen, Tcp, TcpClosed, Udp, Other, kCount };

// The sequence numbers a TCP segment takes, its first and one past its last (SYN and FIN count).
struct SeqSpan {
  uint32_t seq = 0;
  uint32_t end = 0;
};

// A frame held back while its flow's verdict, or its protocol, is still to be known.
struct HeldFrame {
  std::vector<uint8_t> bytes;
  Side to;
  uint8_t endpoint;  // 0: from the initiator, 1: from the responder
  SeqSpan tcp;
};

struct HeldFrames {
  std::vector<HeldFrame> frames;
  uint32_t bytes = 0;
  uint64_t deadline_us = 0;  // when the hold bound in time runs out
};

// A TCP flow's two byte streams while netmon reads them: first to recognise its protocol
// (inspector null), then, when the policy judges that protocol's messages or a virtual patch
// needs them, for its inspector.
struct FlowStreams {
  FlowStreams(uint32_t max_pending_bytes, uint32_t max_retained_bytes)
      : stream{StreamReassembler(max_pending_bytes, max_retained_bytes),
               StreamReassembler(max_pending_bytes, max_retained_bytes)} {}
  StreamReassembler stream[2];  // by endpoint: 0 initiator, 1 responder
  std::unique_ptr<Inspector> inspector;
  const InspectorRegistration* registration = nullptr;  // the inspector's (its block, its metrics)
  bool recognising = true;  // the initiator's first bytes do not yet tell its protocol
  bool backlog = false;     // the inspector is still to read what came before it was attached
  bool judged = false;      // a rule judges its messages: the initiator's wait until each is whole
  bool message_unheld = false;  // the message being read outgrew the hold bounds and was let go
  // The initiator's bytes now wait for the message they belong to. (Bytes ahead of a hole are
  // forwarded: the receiver cannot read them before the hole is filled, and what fills it is
  // judged first; a cut resets the receiver at the hole, so they are never read.)
  bool holds_message(bool message_open) const { return judged && message_open && !message_unheld; }
};

struct Flow {
  // Its endpoints: the table's key, and which of them is the initiator, who opened the flow
  // (its SYN; for other transports and for a TCP flow picked up midway, its first packet).
  const FlowKey* key = nullptr;  // the table's copy
  bool initiator_low = true;
  const IpAddr& initiator_ip() const { return initiator_low ? key->low_ip : key->high_ip; }
  const IpAddr& responder_ip() const { return initiator_low ? key->high_ip : key->low_ip; }
  uint16_t initiator_port() const { return initiator_low ? key->low_port : key->high_port; }
  uint16_t responder_port() const { return initiator_low ? key->high_port : key->low_port; }
  uint8_t ip_protocol = 0;
  policy::Direction direction = policy::Direction::Egress;
  Side opener = Side::Guest;  // the interface the initiator is on
  uint8_t vlan_tags = 0;      // the 802.1Q stack of its first frame
  uint16_t vlan_ids[2] = {0, 0};
  MacAddr guest_mac;
  MacAddr peer_mac;

  Verdict verdict = Verdict::Pending;
  policy::Action action = policy::Action::Deny;
  bool accounted = false;         // counted in the flows metric
  bool answered = false;          // its responder has replied (TCP: the handshake completed)
  bool recognition_done = false;  // its first bytes were offered to the inspectors
  bool normaliser_reported = false;  // an event said what the normaliser dropped
  TimeoutClass timeout_class = TimeoutClass::Other;
  // The rule, "default", or the outcome that decided: a name the engine keeps once (every flow
  // of a busy table has one).
  const std::string* rule = &kNoRule;
  static inline const std::string kNoRule;

  uint64_t first_us = 0;
  uint64_t last_us = 0;
  uint64_t packets[2] = {0, 0};  // by endpoint: 0 initiator, 1 responder
  uint64_t bytes[2] = {0, 0};
  uint64_t dropped_packets = 0;

  TcpState tcp;  // both directions' sequence spaces, as their hosts see them
  // What each endpoint's peer has received of it (forwarded by netmon), for resets the
  // receiver accepts.
  uint32_t forwarded_next[2] = {0, 0};    // past the furthest byte forwarded, by endpoint
  uint32_t forwarded_contig[2] = {0, 0};  // past the last byte forwarded in order (no hole before it)
  bool forwarded_known[2] = {false, false};

  Classification classification;
  std::unique_ptr<FlowStreams> streams;  // TCP flows whose bytes netmon reads
  std::unique_ptr<HeldFrames> held;      // only while frames are held

  // Its place on the recency list of its timeout class, oldest first (links in the flow
  // itself: no list node to allocate per flow).
  Flow* older = nullptr;
  Flow* younger = nullptr;
  std::list<Flow*>::iterator unanswered_pos;  // while !answered
  std::list<Flow*>::iterator source_pos;      // while !answered, opened from the network

  uint8_t endpoint_of(const IpAddr& src, uint16_t src_port) const {
    return (src == initiator_ip() && src_port == initiator_port()) ? 0 : 1;
  }
  size_t held_count() const { return held ? held->frames.size() : 0; }
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
  // nullptr when the table is full: the caller applies the policy's outcome. The new flow is
  // unanswered, on `opener`'s list (and, from the network, counted against `initiator`).
  Flow* insert(const FlowKey& key, TimeoutClass cls, uint64_t now_us, Side opener = Side::Guest,
               const IpAddr& initiator = {});
  // Marks activity and moves the flow to the young end of its (possibly new) class.
  void touch(Flow& flow, TimeoutClass cls, uint64_t now_us);
  // The flow's responder replied: it leaves its opener's list of unanswered flows.
  void answered(Flow& flow);
  // The least recently active flow of all classes, or nullptr when empty.
  Flow* oldest();
  // The least recently opened unanswered flow from `side`, or nullptr.
  Flow* oldest_unanswered(Side side);
  size_t unanswered(Side side) const { return unanswered_[static_cast<size_t>(side)].size(); }
  // Unanswered flows whose initiator is `ip` (counted for the network side only).
  uint32_t unanswered_from(const IpAddr& ip) const;
  // The least recently opened of them, or nullptr.
  Flow* oldest_unanswered_from(const IpAddr& ip);
  // Calls `on_end` for each flow idle past its class's timeout, then removes it.
  void expire(uint64_t now_us, const std::function<void(Flow&)>& on_end);
  void remove(Flow& flow);
  // Calls `on_end` for every flow and empties the table.
  void drain(const std::function<void(Flow&)>& on_end);
  // Calls `visit` for every flow; the table is not changed.
  void for_each(const std::function<void(Flow&)>& visit);
  void for_each(const std::function<void(const Flow&)>& visit) const;

  size_t size() const { return flows_.size(); }
  uint32_t capacity() const { return max_flows_; }

 private:
  void leave_unanswered(Flow& flow);

  uint32_t max_flows_;
  FlowTimeouts timeouts_;
  std::unordered_map<FlowKey, Flow, FlowKeyHash> flows_;
  struct Recency {
    Flow* oldest = nullptr;
    Flow* youngest = nullptr;
    void push(Flow& f);
    void unlink(Flow& f);
  };
  Recency recency_[static_cast<size_t>(TimeoutClass::kCount)];
  std::list<Flow*> unanswered_[2];  // by the opener's side, oldest first
  // Unanswered flows by initiator address, oldest first, for the network side's per-source
  // cap; bounded by that side's list.
  std::unordered_map<IpAddr, std::list<Flow*>, IpAddrHash> unanswered_by_source_;
};

}  // namespace vitrine::netmon
