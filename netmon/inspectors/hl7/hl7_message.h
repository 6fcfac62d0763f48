// HL7 v2 messages as MLLP carries them. Pure: no I/O, no logging, no state beyond the framer's
// own buffer; every length is checked against the bytes given.
//
//   <VT 0x0B> MSH|^~\&|CABINET|WARD3|PHARMACY|MAIN|20261127||RDE^O11|MSG0001|P|2.5<CR> ... <FS 0x1C><CR 0x0D>
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "hl7/hl7_malformed.h"
#include "vitrine/netmon/parse_result.h"

namespace vitrine::netmon::hl7 {

// What a policy, a metric or an ACK match needs of one message. Patient data is never copied
// out except PID-3's first identifier, which the inspector only ever hashes with a key.
struct Message {
  std::string sending_application;    // MSH-3, components joined by '^' whatever the sender's separator
  std::string sending_facility;       // MSH-4
  std::string receiving_application;  // MSH-5
  std::string receiving_facility;     // MSH-6
  std::string message_type;           // MSH-9, e.g. "RDE^O11" or "ACK"
  std::string control_id;             // MSH-10
  std::string processing_id;          // MSH-11: P, T, D
  std::string version;                // MSH-12, e.g. "2.5"
  std::string ack_code;               // MSA-1 when the message acknowledges one: AA, AE, AR, CA, CE, CR
  std::string acked_control_id;       // MSA-2
  std::string patient_id;             // PID-3, first repetition, first component (hash it, never show it)
  bool is_ack() const { return !ack_code.empty(); }
  bool is_negative_ack() const { return is_ack() && ack_code != "AA" && ack_code != "CA"; }
};

// (Whole messages only: the framer waits for the rest.)

// One message's bytes (between VT and FS), or its head only (`whole` false: its last
// segment may be cut anywhere). Error: `error` says what is wrong.
ParseResult parse_message(const uint8_t* data, size_t len, Message& out, std::string& error, bool whole = true);

// Finds MLLP frames in a stream delivered in order, in pieces of any size.
class MllpFramer {
 public:
  // The start of a message kept for parsing: MSH, MSA and PID come first, and the rest (OBX
  // results, embedded documents) can be megabytes that need not be held.
  static constexpr size_t kMaxHeadBytes = 16 * 1024;

  struct Frame {
    std::vector<uint8_t> head;  // the message's first kMaxHeadBytes at most
    size_t length = 0;          // its whole length
    size_t msh_segments = 0;    // segments that start with MSH, anywhere in it (a batch has several)
  };
  struct FramingError {
    const MalformedReason* what;
  };

  // Feeds bytes; returns the frames the bytes completed, and the framing errors they caused.
  void feed(const uint8_t* data, size_t len, std::vector<Frame>& frames, std::vector<FramingError>& errors);
  // Between a frame's start and its FS (the CR after the FS belongs to no message).
  bool inside_frame() const { return state_ == State::Inside; }

 private:
  enum class State : uint8_t { Outside, Inside, AfterFs };
  void take_inside(uint8_t b);

  State state_ = State::Outside;
  Frame current_;
  size_t segment_at_ = 0;    // bytes into the current segment
  bool segment_msh_ = true;  // its bytes so far are a prefix of "MSH"

};

}  // namespace vitrine::netmon::hl7
