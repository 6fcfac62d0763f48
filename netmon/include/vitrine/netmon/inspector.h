// The seam between the engine and netmon's own protocol inspectors (netmon/inspectors/<name>/):
// a flow whose first bytes (its initiator's stream, reassembled from the handshake on) an
// inspector recognises is named its protocol, and, when the policy judges that protocol's
// messages or a virtual patch needs them, both its TCP streams are handed to the inspector in
// order, which reports each message it completes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vitrine/netmon/classifier.h"
#include "vitrine/netmon/malformed_reason.h"
#include "vitrine/netmon/recognition.h"
#include "vitrine/policy/evaluate.h"
#include "vitrine/policy/l7.h"
#include "vitrine/policy/policy.h"

namespace vitrine::netmon {

struct InspectedMessage {
  bool from_initiator = true;  // the initiator's messages are judged; answers are counted
  bool judge = true;           // it carries what the policy judges (a DICOM P-DATA does not)
  policy::L7Attributes attributes;
  std::string type;            // for metrics and events: the message type as sent (bounded, printable)
  bool negative_ack = false;   // an answer that refuses a message (HL7 AE/AR/CE/CR)
  std::optional<double> ack_latency_seconds;  // an answer matched to the message it answers
  std::string patient_ref;     // a keyed hash of the patient identifier; never the identifier
  // The message is an attack a virtual patch stops: which, and its stable signature id.
  std::optional<policy::VirtualPatch> patch;
  std::string signature;
  // What follows this message is hidden from a virtual patch (encrypted): which, and why (a
  // short fixed label). Counted, so that a security team sees where a patch is blind.
  std::optional<policy::VirtualPatch> blinds;
  const char* blind_reason = "";
};

struct InspectionOutput {
  std::vector<InspectedMessage> messages;
  std::vector<const MalformedReason*> malformed;  // what was not the protocol, from the inspector's set
};

class Inspector {
 public:
  virtual ~Inspector() = default;
  // Bytes of one direction, in order.
  virtual void on_bytes(bool from_initiator, const uint8_t* data, size_t len, uint64_t time_us,
                        InspectionOutput& out) = 0;
  // The initiator has begun a message that is not complete: what it says is still to come.
  virtual bool reading_message() const = 0;
};

// What recognising a flow's first payload says of its protocol.
enum class Naming : uint8_t {
  Own,          // a protocol nDPI does not know (HL7, DICOM): the inspector names it, nDPI stops
  Provisional,  // nDPI knows it but names it late (SMB1: only after the negotiation, which a
                // held request never completes): named now, nDPI goes on, and its name and
                // risks, when they come, are the flow's
  None,         // nDPI names it from the same packet (RDP): the inspector only reads
};

// What the engine knows of an inspector, declared beside it (<name>::registration()).
struct InspectorRegistration {
  const char* protocol;  // its name in metrics: "HL7", "SMB"
  const char* block;     // the policy block its messages are judged by: "hl7" ("" for none)
  Naming naming;
  // The protocol the first payload shows, for Own and Provisional naming.
  policy::L7Facts (*protocol_of)(const uint8_t* payload, size_t len);
  std::vector<policy::VirtualPatch> patches;  // the virtual patches it enforces
  // The initiator's first bytes, as reassembled: whether they are this inspector's protocol
  // (null: it reads no streams, only what `reads_responder` says).
  Recognition (*recognises)(const uint8_t* payload, size_t len);
  std::unique_ptr<Inspector> (*create)(std::string_view patient_key);
  // Each TCP segment of the responder's, as it passes and before nDPI has it: for what nDPI
  // leaves out of a protocol it names itself (TLS: the version the server chose). Cheap when
  // it has nothing to do: it sees every such segment of every flow until it has read its part.
  void (*reads_responder)(Classification& c, const uint8_t* payload, size_t len) = nullptr;
  // Every way it reports bytes as not its protocol (its <name>_malformed.h): metric labels.
  MalformedReasons malformed = {};
  // Its answers can refuse a message (InspectedMessage::negative_ack): the refusals' series is
  // there from the start, at 0, so that the first refusal counts as an increase.
  bool refusals = false;
  // For a protocol whose first bytes are too loose a sign to read it on any port (Modbus): only
  // flows to this port are recognised, so that it never names, holds or reads another (0: any).
  uint16_t responder_port = 0;
};

// Every inspector, one line each (netmon/inspectors/registry.cpp).
const std::vector<InspectorRegistration>& inspector_registry();
// The registrations that read responder segments (reads_responder), in registry order.
const std::vector<const InspectorRegistration*>& responder_readers();
// Whether an inspector of this build enforces the virtual patch.
bool virtual_patch_enforced(policy::VirtualPatch p);

}  // namespace vitrine::netmon
