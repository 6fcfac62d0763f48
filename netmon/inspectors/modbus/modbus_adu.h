// Modbus/TCP (Modbus Messaging on TCP/IP Implementation Guide v1.0b; Modbus Application
// Protocol v1.1b3): each message is an MBAP header (transaction id, protocol id 0, the length
// of what follows, the unit id) and a PDU whose first byte is the function code. Requests and
// answers have the same framing; an answer with bit 7 of its function code set is an exception
// (the server refused the request). Pure: no I/O, no logging, bounded reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "modbus/modbus_malformed.h"
#include "vitrine/netmon/length_prefixed.h"
#include "vitrine/netmon/recognition.h"

namespace vitrine::netmon::modbus {

// Modbus/TCP's registered port, the one nDPI names the protocol on.
inline constexpr uint16_t kModbusPort = 502;

// The MBAP header up to its length field, for the shared framer; the unit id is the body's
// first byte, so the length (which counts it) is the body's.
struct MbapHeader {
  static constexpr size_t kHeaderBytes = 6;
  // A PDU is at most 253 bytes (the RS-485 ADU limit the TCP mapping inherits), so the length
  // field, which adds the unit id, is at most 254: a longer claim is not Modbus to wait for.
  static constexpr size_t kMaxLength = 254;
  // The unit id and the function code, at least.
  static constexpr size_t kMinLength = 2;
  FrameHeader read(const uint8_t* header) const;
};
using MbapFramer = LengthPrefixedFramer<MbapHeader>;

struct Message {
  uint16_t transaction = 0;
  uint8_t unit = 0;
  uint8_t function = 0;    // as sent, the exception bit included
  bool exception = false;  // an answer refusing its request
};

// One frame of the framer, which refused any whose length leaves out the unit id or the
// function code: every frame it gives is a message.
Message read_message(const Frame& frame);

// How many bytes a request's PDU (function code included) has by its function's own fields,
// read from the `available` bytes of it: a fixed size (READ_HOLDING_REGISTERS: 5) or one its
// byte count says (WRITE_MULTIPLE_REGISTERS: 6 + N); or the count is not among those bytes; or
// the specification leaves the size open (DIAGNOSTICS, ENCAPSULATED_INTERFACE_TRANSPORT, the
// codes it does not define).
struct RequestSize {
  enum class Kind : uint8_t { Known, CountNotYet, Open };
  Kind kind = Kind::Open;
  size_t pdu_bytes = 0;  // Known
};
RequestSize request_size(const uint8_t* pdu, size_t available);

// The function code's name as the specification gives it, upper case ("READ_HOLDING_REGISTERS"),
// for a code the specification defines for TCP; "OTHER" for the rest (user-defined, reserved,
// and any with the exception bit: an answer's is named by its code without it).
const char* function_name(uint8_t function);

// Whether a client's first bytes start with a Modbus/TCP request of a public function code whose
// header's length is what its fields say (NeedMore while they are consistent and too few to
// tell: a request cut into one-byte segments is read as one sent whole). Asked on port 502 only.
Recognition looks_like_request(const uint8_t* data, size_t len);

}  // namespace vitrine::netmon::modbus
