// The DICOM upper layer (PS3.8 section 9.3): PDUs as TCP carries them, and what an association
// request says — who calls whom (AE titles) and which SOP classes it proposes. Pure: no I/O, no
// logging; every length is checked against the bytes given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dicom/dicom_malformed.h"
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

// Cuts a stream delivered in order, in pieces of any size, into PDUs.
class PduFramer {
 public:
  // The biggest association PDU kept to be parsed: a request proposing every SOP class with
  // every transfer syntax stays well under it. P-DATA PDUs (up to the negotiated maximum,
  // often megabytes) are counted and skipped, never held.
  static constexpr uint32_t kMaxAssociationPduBytes = 64 * 1024;
  // A-ASSOCIATE-RJ, A-RELEASE-RQ/RP and A-ABORT have a fixed body of 4 bytes (PS3.8 9.3.4-9.3.8).
  static constexpr uint32_t kFixedPduBytes = 4;

  struct Pdu {
    PduType type;
    uint32_t length = 0;        // as its header says
    std::vector<uint8_t> body;  // association PDUs only
  };

  // Appends the PDUs the bytes completed; `error` is set (and the framer stops) when the
  // stream is not PDUs: an unknown type, an association PDU past its bound, a fixed-length PDU
  // of another length, or a P-DATA PDU longer than its receiver said it takes.
  void feed(const uint8_t* data, size_t len, std::vector<Pdu>& pdus, std::string& error);
  // The receiver's Maximum Length Received, once the association says it (0: no limit). A
  // longer P-DATA PDU is one the receiver aborts on: a length claim netmon does not wait out.
  void limit_pdata(uint32_t max_length) { max_pdata_ = max_length; }
  bool inside_pdu() const { return have_header_ > 0; }
  bool failed() const { return failure_ != nullptr; }
  const MalformedReason* failure() const { return failure_; }  // why it stopped

 private:
  uint8_t header_[6] = {};
  size_t have_header_ = 0;
  uint32_t remaining_ = 0;  // body bytes still to come
  bool keep_ = false;       // the body is kept (association PDUs)
  const MalformedReason* failure_ = nullptr;
  uint32_t max_pdata_ = 0;
  Pdu current_{};

  const MalformedReason* wrong_length(PduType type, uint32_t length) const;  // why a header's length is refused
};

}  // namespace vitrine::netmon::dicom
