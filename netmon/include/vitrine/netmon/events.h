// What netmon reports beyond counters: one event per denied or alerted flow, per layer-2
// violation, and per limit hit. The sink is an interface so that tests can collect events.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vitrine/common/jsonl_writer.h"
#include "vitrine/common/syslog_forwarder.h"
#include "vitrine/common/net_types.h"

namespace vitrine::netmon {

struct Event {
  // FlowWouldDeny: a rule in monitor mode would have denied the flow; it passed.
  // PolicyReloaded / PolicyRefused: a reload (SIGHUP) took effect, or was refused and the
  // running policy stayed in force.
  enum class Kind : uint8_t {
    FlowDenied, FlowAlert, FlowWouldDeny, Layer2Violation, LimitReached, PolicyReloaded, PolicyRefused,
    Malformed,    // bytes of a recognised protocol that do not follow it
    VirtualPatch,   // an attack a virtual patch stops (its signature says which)
    NormaliserDrop  // the first frame of a flow the normaliser dropped: its host would have read it otherwise
  };
  Kind kind = Kind::FlowDenied;
  uint64_t time_us = 0;
  // The flow (or the frame, for layer-2 violations), oriented as its initiator sent it.
  std::string l4;  // "TCP", "UDP", "ICMP", "ARP", ...
  IpAddr src;
  uint16_t sport = 0;
  IpAddr dst;
  uint16_t dport = 0;
  std::string direction;  // "egress" or "ingress"
  std::string protocol;   // nDPI label, "Unknown" when not known (yet)
  // What the flow's messages said, as far as read: {"tls.sni", "..."}, ...
  std::vector<std::pair<std::string, std::string>> attributes;
  // The message judged, when an inspector read one: a keyed hash of its patient identifier
  // (never the identifier: events leave the host).
  std::string patient_ref;
  std::string signature;  // VirtualPatch: a stable id, e.g. vitrine.rdp.cve-2019-0708.ms_t120-channel
  std::string rule;
  std::string reason;
  // LimitReached: which named limit, the value that hit it, and the limit.
  std::string limit;
  uint64_t value = 0;
  uint64_t limit_value = 0;
  // PolicyReloaded: the policy now enforced, and what became of the flows it found.
  std::string policy_name;
  std::string policy_sha256;
  uint64_t flows_rejudged = 0;
  uint64_t flows_cut = 0;
};

const char* to_string(Event::Kind k);

class EventSink {
 public:
  virtual ~EventSink() = default;
  // False when the event could not be recorded (disk full, say): the caller counts it.
  virtual bool emit(const Event& e) = 0;
};

// JSON lines, one object per event, flushed per line; each also queued to `forward` (syslog)
// when given. The file is the record: an event the forwarder cannot send is still written.
class JsonEventSink : public EventSink {
 public:
  explicit JsonEventSink(const std::string& path, JsonLinesWriter::Mode mode = JsonLinesWriter::Mode::Append,
                         SyslogForwarder* forward = nullptr);
  bool emit(const Event& e) override;
  // The relay opens its file while it may (before it drops its privileges) and starts the
  // forwarder's thread after (so that no thread keeps them): nothing is emitted in between.
  void forward_to(SyslogForwarder* forward) { forward_ = forward; }

 private:
  JsonLinesWriter writer_;
  SyslogForwarder* forward_;
};

class NullEventSink : public EventSink {
 public:
  bool emit(const Event&) override { return true; }
};

}  // namespace vitrine::netmon
