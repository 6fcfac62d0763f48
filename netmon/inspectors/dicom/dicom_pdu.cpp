#include "dicom/dicom_pdu.h"

#include "vitrine/netmon/byte_order.h"

#include <algorithm>

namespace vitrine::netmon::dicom {

namespace {

constexpr size_t kHeader = 6;
constexpr uint64_t kPdvItemHeader = 6;  // item length (4), context id, message control header
// Protocol version, reserved, called AE, calling AE, reserved: the fixed part of an
// association PDU's body (PS3.8 table 9-11).
constexpr size_t kFixedAssociation = 2 + 2 + 16 + 16 + 32;
constexpr size_t kAeTitle = 16;
constexpr uint8_t kApplicationContextItem = 0x10;
constexpr uint8_t kPresentationContextRqItem = 0x20;
// An acceptor's context item (PS3.8 9.3.3.2): in a request it has no business, but DCMTK's
// parser queues its abstract syntax as proposed all the same, so it is read as a proposal.
constexpr uint8_t kPresentationContextAcItem = 0x21;
constexpr uint8_t kAbstractSyntaxSubItem = 0x30;
constexpr uint8_t kUserInformationItem = 0x50;
constexpr uint8_t kMaximumLengthSubItem = 0x51;

// The Maximum Length Received of a user information item's sub-items, 0 if it has none.
uint32_t max_length_in(const uint8_t* item, size_t len) {
  for (size_t sub = 0; sub + 4 <= len;) {
    const size_t sub_len = be16(item + sub + 2);
    if (sub_len > len - sub - 4) break;
    if (item[sub] == kMaximumLengthSubItem && sub_len == 4) return be32(item + sub + 4);
    sub += 4 + sub_len;
  }
  return 0;
}

// An AE title: 16 bytes, padded with spaces; printable ASCII without backslash.
bool ae_title(const uint8_t* p, std::string& out) {
  std::string s(reinterpret_cast<const char*>(p), kAeTitle);
  for (unsigned char c : s)
    if ((c < 0x20 && c != 0) || c > 0x7e || c == '\\') return false;
  s.erase(std::find(s.begin(), s.end(), '\0'), s.end());
  const auto first = s.find_first_not_of(' ');
  out = first == std::string::npos ? "" : s.substr(first, s.find_last_not_of(' ') - first + 1);
  return true;
}

// A UID item's value: digits and dots, trailing NUL or space padding removed.
std::string uid(const uint8_t* p, size_t len) {
  std::string s;
  for (size_t i = 0; i < len; ++i) {
    const char c = static_cast<char>(p[i]);
    if ((c >= '0' && c <= '9') || c == '.') s += c;
    else if (c != '\0' && c != ' ') return "?";  // not a UID: never shown as it is
  }
  return s;
}

}  // namespace

const char* to_string(PduType t) {
  switch (t) {
    case PduType::AssociateRq: return "A-ASSOCIATE-RQ";
    case PduType::AssociateAc: return "A-ASSOCIATE-AC";
    case PduType::AssociateRj: return "A-ASSOCIATE-RJ";
    case PduType::PData: return "P-DATA-TF";
    case PduType::ReleaseRq: return "A-RELEASE-RQ";
    case PduType::ReleaseRp: return "A-RELEASE-RP";
    case PduType::Abort: return "A-ABORT";
  }
  return "?";
}

ParseResult parse_association(const uint8_t* body, size_t len, Association& out, std::string& error) {
  if (len < kFixedAssociation) {
    error = "an association PDU shorter than its fixed fields";
    return ParseResult::error();
  }
  out = Association{};
  out.protocol_version = be16(body);
  if (!ae_title(body + 4, out.called_ae) || !ae_title(body + 4 + kAeTitle, out.calling_ae)) {
    error = "an AE title with characters DICOM does not allow";
    return ParseResult::error();
  }
  size_t at = kFixedAssociation;
  while (at < len) {
    if (len - at < 4) {
      error = "a variable item cut short";
      return ParseResult::error();
    }
    const uint8_t type = body[at];
    const size_t item_len = be16(body + at + 2);
    const uint8_t* item = body + at + 4;
    if (item_len > len - at - 4) {
      error = "a variable item longer than its PDU";
      return ParseResult::error();
    }
    if (type == kApplicationContextItem) {
      out.application_context = uid(item, item_len);
    } else if ((type == kPresentationContextRqItem || type == kPresentationContextAcItem) && item_len >= 4) {
      // Context id, three reserved bytes, then sub-items: one abstract syntax, transfer syntaxes.
      size_t sub = 4;
      while (sub + 4 <= item_len) {
        const size_t sub_len = be16(item + sub + 2);
        if (sub_len > item_len - sub - 4) break;
        if (item[sub] == kAbstractSyntaxSubItem) out.abstract_syntaxes.push_back(uid(item + sub + 4, sub_len));
        sub += 4 + sub_len;
      }
    } else if (type == kUserInformationItem) {
      out.max_length_received = max_length_in(item, item_len);
    }
    at += 4 + item_len;
  }
  return ParseResult::ok();
}

Recognition looks_like_associate_rq(const uint8_t* data, size_t len) {
  static const uint8_t kType[] = {0x01, 0x00};  // A-ASSOCIATE-RQ, reserved
  if (starts_with(data, len, kType, sizeof kType) != Recognition::Yes) return starts_with(data, len, kType, sizeof kType);
  if (len < kHeader) return Recognition::NeedMore;
  const uint32_t length = be32(data + 2);
  if (length < kFixedAssociation || length > PduHeader::kMaxAssociationPduBytes) return Recognition::No;
  if (len < kHeader + 2) return Recognition::NeedMore;
  if ((be16(data + kHeader) & 1) == 0) return Recognition::No;  // protocol version 1 (bit 0)
  if (len < kHeader + kFixedAssociation) return Recognition::NeedMore;
  std::string ignored;  // and two titles DICOM allows
  return ae_title(data + kHeader + 4, ignored) && ae_title(data + kHeader + 4 + kAeTitle, ignored) ? Recognition::Yes
                                                                                                    : Recognition::No;
}

FrameHeader PduHeader::read(const uint8_t* h) const {
  const uint8_t type = h[0];
  if (type < 0x01 || type > 0x07) return FrameHeader::refuse(&malformed::kUnknownPdu);
  const uint32_t length = be32(h + 2);
  switch (static_cast<PduType>(type)) {
    case PduType::AssociateRq:
    case PduType::AssociateAc:
      if (length > kMaxAssociationPduBytes) return FrameHeader::refuse(&malformed::kAssociationTooLong);
      return FrameHeader::frame(length, length);  // kept whole, to be parsed
    case PduType::PData:
      // The maximum is of the PDU's variable field; an implementation that counts only a PDV's
      // data sends one PDV item header (6 bytes) more, which is let through.
      if (max_pdata != 0 && length > uint64_t{max_pdata} + kPdvItemHeader)
        return FrameHeader::refuse(&malformed::kPdataTooLong);
      return FrameHeader::frame(length, 0);
    default:
      if (length != kFixedPduBytes) return FrameHeader::refuse(&malformed::kFixedPduLength);
      return FrameHeader::frame(length, 0);
  }
}

}  // namespace vitrine::netmon::dicom
