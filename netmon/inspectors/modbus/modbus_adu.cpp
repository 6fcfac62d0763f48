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

RequestSize request_size(const uint8_t* pdu, size_t available) {
  using Kind = RequestSize::Kind;
  const auto fixed = [](size_t n) { return RequestSize{Kind::Known, n}; };
  // A size fixed by the function plus the byte count at `count_at` (the Modbus Application
  // Protocol's request layouts, 6.1-6.19).
  const auto counted = [&](size_t fixed_part, size_t count_at) {
    return available > count_at ? RequestSize{Kind::Known, fixed_part + pdu[count_at]} : RequestSize{Kind::CountNotYet, 0};
  };
  switch (pdu[0]) {
    case 1: case 2: case 3: case 4: case 5: case 6: return fixed(5);
    case 7: case 11: case 12: case 17: return fixed(1);
    case 15: case 16: return counted(6, 5);
    case 20: case 21: return counted(2, 1);
    case 22: return fixed(7);
    case 23: return counted(10, 9);
    case 24: return fixed(3);
    default: return {};
  }
}

const char* function_name(uint8_t function) {
  // The public function codes of the application protocol (6.1-6.21) that a TCP server
  // serves; the serial-line-only diagnostics (7, 8, 11, 12, 17) are named too, as a client
  // may send them to a gateway. An exception answer's code is its request's with bit 7 set.
  switch (function) {
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
  // a public function code whose fields agree with the length.
  if (len > 2 && data[2] != 0) return Recognition::No;
  if (len > 3 && data[3] != 0) return Recognition::No;
  if (len > 4 && data[4] != 0) return Recognition::No;  // a length of at most 254
  if (len > 5 && (data[5] < MbapHeader::kMinLength || data[5] > MbapHeader::kMaxLength)) return Recognition::No;
  if (len < MbapHeader::kHeaderBytes + 2) return Recognition::NeedMore;
  const size_t length = data[5];
  if (std::string_view(function_name(data[7])) == "OTHER") return Recognition::No;
  const RequestSize size = request_size(data + 7, len - 7);
  switch (size.kind) {
    case RequestSize::Kind::Open: return Recognition::Yes;  // the structure so far holds
    case RequestSize::Kind::CountNotYet: return len - 6 < length ? Recognition::NeedMore : Recognition::No;
    case RequestSize::Kind::Known: break;
  }
  return 1 + size.pdu_bytes == length ? Recognition::Yes : Recognition::No;
}

}  // namespace vitrine::netmon::modbus
