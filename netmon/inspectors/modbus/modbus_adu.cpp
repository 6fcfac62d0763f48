#include "modbus/modbus_adu.h"

#include <string_view>

#include "vitrine/netmon/byte_order.h"

namespace vitrine::netmon::modbus {

namespace {

constexpr uint8_t kExceptionBit = 0x80;

}  // namespace

FrameHeader MbapHeader::read(const uint8_t* h) const {
  if (be16(h + 2) != 0) return FrameHeader::refuse(&malformed::kNotModbus);
  const size_t length = be16(h + 4);
  if (length < kMinLength) return FrameHeader::refuse(&malformed::kTooShort);
  if (length > kMaxLength) return FrameHeader::refuse(&malformed::kTooLong);
  return FrameHeader::frame(length, length);
}

Message read_message(const Frame& frame) {
  Message out;
  out.transaction = be16(frame.bytes.data());
  out.unit = frame.body()[0];
  out.function = frame.body()[1];
  out.exception = (out.function & kExceptionBit) != 0;
  return out;
}

const char* function_name(uint8_t function) {
  // The public function codes of the application protocol (6.1-6.21) that a TCP server
  // serves; the serial-line-only diagnostics (7, 8, 11, 12, 17) are named too, as a client
  // may send them to a gateway.
  switch (function & 0x7f) {
    case 1: return "READ_COILS";
    case 2: return "READ_DISCRETE_INPUTS";
    case 3: return "READ_HOLDING_REGISTERS";
    case 4: return "READ_INPUT_REGISTERS";
    case 5: return "WRITE_SINGLE_COIL";
    case 6: return "WRITE_SINGLE_REGISTER";
    case 7: return "READ_EXCEPTION_STATUS";
    case 8: return "DIAGNOSTICS";
    case 11: return "GET_COMM_EVENT_COUNTER";
    case 12: return "GET_COMM_EVENT_LOG";
    case 15: return "WRITE_MULTIPLE_COILS";
    case 16: return "WRITE_MULTIPLE_REGISTERS";
    case 17: return "REPORT_SERVER_ID";
    case 20: return "READ_FILE_RECORD";
    case 21: return "WRITE_FILE_RECORD";
    case 22: return "MASK_WRITE_REGISTER";
    case 23: return "READ_WRITE_MULTIPLE_REGISTERS";
    case 24: return "READ_FIFO_QUEUE";
    case 43: return "ENCAPSULATED_INTERFACE_TRANSPORT";
    default: return "OTHER";
  }
}

Recognition looks_like_request(const uint8_t* data, size_t len) {
  // Transaction id (any), protocol id 0, a length a request can have, the unit id (any), and
  // a public function code: seven bytes of structure before a name is given.
  if (len > 2 && data[2] != 0) return Recognition::No;
  if (len > 3 && data[3] != 0) return Recognition::No;
  if (len > 4 && data[4] != 0) return Recognition::No;  // a length of at most 254
  if (len > 5 && (data[5] < MbapHeader::kMinLength || data[5] > MbapHeader::kMaxLength)) return Recognition::No;
  if (len < 8) return Recognition::NeedMore;
  return std::string_view(function_name(data[7])) != "OTHER" && (data[7] & kExceptionBit) == 0 ? Recognition::Yes
                                                                                               : Recognition::No;
}

}  // namespace vitrine::netmon::modbus
