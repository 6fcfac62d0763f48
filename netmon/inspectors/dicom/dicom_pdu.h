// The DICOM upper layer (PS3.8 section 9.3): PDUs as TCP carries them, and what an association
// request says — who calls whom (AE titles) and which SOP classes it proposes. Pure: no I/O, no
// logging; every length is checked against the bytes given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dicom/dicom_malformed.h"
#include "vitrine/netmon/length_prefixed.h"
#include "vitrine/netmon/parse_result.h"
#include "vitrine/netmon/recognition.h"

namespace vitrine::netmon::dicom {

enum class PduType : uint8_t {
  AssociateRq = 0x01,
  AssociateAc = 0x02,
  AssociateRj = 0x03,
  PData = 0x04,
  ReleaseRq = 0x05,
  ReleaseRp = 0x06,
  Abort = 0x07,
};
const char* to_string(PduType t);  // "A-ASSOCIATE-RQ", ...; "?" for others

struct Association {  // A-ASSOCIATE-RQ (or -AC, which echoes the titles)
  uint16_t protocol_version = 0;
  std::string called_ae;   // trailing and leading spaces removed
  std::string calling_ae;
  std::string application_context;             // UID
  std::vector<std::string> abstract_syntaxes;  // the SOP classes proposed, as UIDs
  // The sender's Maximum Length Received (user information sub-item 0x51): the longest P-DATA
  // PDU it takes. 0: no limit, or none said.
  uint32_t max_length_received = 0;
};


// The body of an A-ASSOCIATE-RQ or -AC PDU (the bytes after its 6-byte header).
ParseResult parse_association(const uint8_t* body, size_t len, Association& out, std::string& error);

// Whether bytes can start an association request: the initiator's first payload.
Recognition looks_like_associate_rq(const uint8_t* data, size_t len);

// The upper layer's PDU framing (PS3.8 9.3) for the shared framer. A stream that is not PDUs
// stops the framer with a fault: an unknown type, an association PDU past its bound, a
// fixed-length PDU of another length, or a P-DATA PDU longer than its receiver said it takes.
struct PduHeader {
  static constexpr size_t kHeaderBytes = 6;
  // The biggest association PDU kept to be parsed: a request proposing every SOP class with
  // every transfer syntax stays well under it. P-DATA PDUs (up to the negotiated maximum,
  // often megabytes) are counted and skipped, never held.
  static constexpr uint32_t kMaxAssociationPduBytes = 64 * 1024;
  // A-ASSOCIATE-RJ, A-RELEASE-RQ/RP and A-ABORT have a fixed body of 4 bytes (PS3.8 9.3.4-9.3.8).
  static constexpr uint32_t kFixedPduBytes = 4;
  // The receiver's Maximum Length Received, once the association says it (0: no limit). A
  // longer P-DATA PDU is one the receiver aborts on: a length claim netmon does not wait out.
  uint32_t max_pdata = 0;
  FrameHeader read(const uint8_t* header) const;
};
// A frame's body() is an association PDU's (kept whole); other PDUs keep none of theirs.
using PduFramer = LengthPrefixedFramer<PduHeader>;
inline PduType pdu_type(const Frame& f) { return static_cast<PduType>(f.bytes[0]); }

}  // namespace vitrine::netmon::dicom
