#include "hl7/hl7_inspector.h"

#include <algorithm>
#include <cstring>

#include "hl7/hl7_attributes.h"
#include "vitrine/common/sha256.h"

namespace vitrine::netmon::hl7 {

namespace {
// Enough of a patient reference to tell two patients apart in one netmon's events.
constexpr size_t kPatientRefHexChars = 16;
// HL7 2.5 gives MSH-10 199 characters: longer ones are cut to bound what waits for an ACK.
constexpr size_t kMaxControlIdChars = 199;
}  // namespace

Recognition recognises(const uint8_t* payload, size_t len) {
  // Line breaks before the first frame, as some senders write them, and empty frames (VT FS),
  // which some interface engines send to keep a connection open: the framer skips both too.
  size_t skip = 0;
  while (skip < len) {
    if (payload[skip] == '\r' || payload[skip] == '\n') {
      ++skip;
    } else if (payload[skip] == 0x0b && skip + 1 < len && payload[skip + 1] == 0x1c) {
      skip += 2;
    } else {
      break;
    }
  }
  if (skip == len || (skip + 1 == len && payload[skip] == 0x0b)) return Recognition::NeedMore;
  // MLLP's start byte and MSH, then its field separator.
  static const uint8_t kStart[] = {0x0b, 'M', 'S', 'H'};
  const Recognition r = starts_with(payload + skip, len - skip, kStart, sizeof kStart);
  return r == Recognition::Yes && len - skip < 5 ? Recognition::NeedMore : r;
}

std::unique_ptr<Inspector> create(std::string_view patient_key) {
  return std::make_unique<Hl7Inspector>(std::string(patient_key));
}

InspectorRegistration registration() {
  return {.protocol = "HL7", .block = "hl7", .naming = Naming::Own,
          .protocol_of = [](const uint8_t*, size_t) { return policy::L7Facts{0, kProtocolHl7}; },
          .patches = {}, .recognises = &recognises, .create = &create, .malformed = malformed::kAll, .refusals = true};
}

void Hl7Inspector::on_bytes(bool from_initiator, const uint8_t* data, size_t len, uint64_t time_us,
                            InspectionOutput& out) {
  std::vector<MllpFramer::Frame> frames;
  std::vector<MllpFramer::FramingError> errors;
  framer_[from_initiator ? 0 : 1].feed(data, len, frames, errors);
  for (const auto& e : errors) out.malformed.push_back(e.what);
  for (const auto& f : frames) message(from_initiator, f, time_us, out);
}

void Hl7Inspector::message(bool from_initiator, const MllpFramer::Frame& frame, uint64_t time_us,
                           InspectionOutput& out) {
  // A batch, or a message hidden in one: the receiver would act on messages netmon does not
  // judge one by one. Malformed; its first message is judged all the same.
  if (frame.msh_segments > 1) out.malformed.push_back(&malformed::kSecondMsh);
  Message m;
  std::string error;
  const bool whole = frame.length == frame.head.size();
  // The MSH segment must end inside what is kept: cut, its MSH-9 could go on unread.
  const auto msh_end = std::find_if(frame.head.begin(), frame.head.end(), [](uint8_t b) { return b == '\r' || b == '\n'; });
  if (!whole && msh_end == frame.head.end()) {
    out.malformed.push_back(&malformed::kMshTooLong);
    return;
  }
  if (parse_message(frame.head.data(), frame.head.size(), m, error, whole) != ParseStatus::Ok) {
    out.malformed.push_back(&malformed::kNoMsh);
    return;
  }
  InspectedMessage im;
  im.from_initiator = from_initiator;
  im.type = m.message_type.substr(0, m.message_type.find('^', m.message_type.find('^') + 1));
  im.attributes.set(&kMessageType, m.message_type);
  im.attributes.set(&kSendingApplication, m.sending_application);
  im.attributes.set(&kSendingFacility, m.sending_facility);
  im.attributes.set(&kReceivingApplication, m.receiving_application);
  im.attributes.set(&kReceivingFacility, m.receiving_facility);
  if (!m.patient_id.empty())
    im.patient_ref = hmac_sha256_hex(patient_key_, m.patient_id).substr(0, kPatientRefHexChars);
  const size_t sender = from_initiator ? 0 : 1;
  if (m.is_ack()) {
    im.negative_ack = m.is_negative_ack();
    auto& awaiting = awaiting_ack_[1 - sender];
    const auto it = awaiting.find(m.acked_control_id.substr(0, kMaxControlIdChars));
    if (it != awaiting.end()) {
      im.ack_latency_seconds = static_cast<double>(time_us - it->second) * 1e-6;
      awaiting.erase(it);
    }
  } else if (!m.control_id.empty()) {
    auto& awaiting = awaiting_ack_[sender];
    if (awaiting.size() >= kMaxAwaitingAck) {
      // Forget the one waiting longest.
      auto oldest = awaiting.begin();
      for (auto it = awaiting.begin(); it != awaiting.end(); ++it)
        if (it->second < oldest->second) oldest = it;
      awaiting.erase(oldest);
    }
    awaiting[m.control_id.substr(0, kMaxControlIdChars)] = time_us;
  }
  out.messages.push_back(std::move(im));
}

}  // namespace vitrine::netmon::hl7
