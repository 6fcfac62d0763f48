// Modbus/TCP on byte arrays: requests judged by their function however the stream is cut,
// answers counted (an exception as a refusal), and every malformed reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "modbus/modbus_attributes.h"
#include "modbus/modbus_inspector.h"

using namespace vitrine::netmon::modbus;
using vitrine::netmon::InspectionOutput;
using vitrine::netmon::Recognition;

namespace {

using Bytes = std::vector<uint8_t>;

// An MBAP header (transaction, protocol 0, length, unit 1) and the PDU.
Bytes adu(uint16_t transaction, const Bytes& pdu, uint16_t protocol = 0) {
  const size_t length = pdu.size() + 1;
  Bytes b = {static_cast<uint8_t>(transaction >> 8), static_cast<uint8_t>(transaction),
             static_cast<uint8_t>(protocol >> 8),    static_cast<uint8_t>(protocol),
             static_cast<uint8_t>(length >> 8),      static_cast<uint8_t>(length),
             0x01};
  b.insert(b.end(), pdu.begin(), pdu.end());
  return b;
}

const Bytes kReadHolding = adu(1, {0x03, 0x00, 0x00, 0x00, 0x02});   // 2 registers from 0
const Bytes kWriteRegister = adu(2, {0x06, 0x00, 0x10, 0x00, 0x2a});  // register 16 := 42

InspectionOutput feed(ModbusInspector& inspector, bool client, const Bytes& bytes, size_t piece = 0) {
  InspectionOutput out;
  if (piece == 0) piece = bytes.size();
  for (size_t at = 0; at < bytes.size(); at += piece)
    inspector.on_bytes(client, bytes.data() + at, std::min(piece, bytes.size() - at), 0, out);
  return out;
}

TEST(Modbus, EachRequestIsAMessageJudgedByItsFunctionHoweverTheStreamIsCut) {
  Bytes stream = kReadHolding;
  stream.insert(stream.end(), kWriteRegister.begin(), kWriteRegister.end());
  for (size_t piece = 1; piece <= stream.size(); ++piece) {
    ModbusInspector inspector;
    const auto out = feed(inspector, true, stream, piece);
    ASSERT_EQ(out.messages.size(), 2u) << piece;
    EXPECT_TRUE(out.malformed.empty());
    EXPECT_TRUE(out.messages[0].judge);
    EXPECT_EQ(out.messages[0].attributes.get(&kFunction), "READ_HOLDING_REGISTERS");
    EXPECT_EQ(out.messages[1].attributes.get(&kFunction), "WRITE_SINGLE_REGISTER");
    EXPECT_EQ(out.messages[1].type, "WRITE_SINGLE_REGISTER");
  }
}

TEST(Modbus, AnswersAreCountedAndAnExceptionIsARefusal) {
  ModbusInspector inspector;
  const auto ok = feed(inspector, false, adu(1, {0x03, 0x04, 0x00, 0x01, 0x00, 0x02}));
  ASSERT_EQ(ok.messages.size(), 1u);
  EXPECT_FALSE(ok.messages[0].judge);
  EXPECT_FALSE(ok.messages[0].negative_ack);
  const auto refused = feed(inspector, false, adu(2, {0x86, 0x02}));  // illegal data address
  ASSERT_EQ(refused.messages.size(), 1u);
  EXPECT_TRUE(refused.messages[0].negative_ack);
  EXPECT_TRUE(refused.malformed.empty());
}

TEST(Modbus, EveryMalformedReasonIsReported) {
  struct Case {
    Bytes bytes;
    const vitrine::netmon::MalformedReason* reason;
    size_t messages;
  };
  Bytes too_long = adu(3, Bytes(254, 0x10));  // length 255
  Bytes no_function = {0, 4, 0, 0, 0, 1, 0x01};
  const std::vector<Case> cases = {
      {adu(3, {0x03, 0, 0, 0, 1}, 0x1234), &malformed::kNotModbus, 0},
      {no_function, &malformed::kTooShort, 0},
      {too_long, &malformed::kTooLong, 0},
      {adu(3, {0x00}), &malformed::kBadRequest, 1},
      {adu(3, {0x83, 0x02}), &malformed::kBadRequest, 1},
  };
  for (const auto& c : cases) {
    ModbusInspector inspector;
    const auto out = feed(inspector, true, c.bytes, 1);
    ASSERT_EQ(out.malformed.size(), 1u) << c.reason->id;
    EXPECT_EQ(out.malformed[0], c.reason);
    EXPECT_EQ(out.messages.size(), c.messages) << c.reason->id;
  }
  // A header refused stops the direction: a good request after it is not read.
  ModbusInspector inspector;
  feed(inspector, true, adu(3, {0x03, 0, 0, 0, 1}, 7));
  const auto after = feed(inspector, true, kReadHolding);
  EXPECT_TRUE(after.messages.empty());
  EXPECT_TRUE(after.malformed.empty()) << "said once";
}

TEST(Modbus, RecognisedOnARequestOfAPublicFunctionWhoseLengthAgreesAndOnPort502Only) {
  for (size_t n = 1; n < 8; ++n)
    EXPECT_EQ(recognises(kReadHolding.data(), n), Recognition::NeedMore) << n;
  EXPECT_EQ(recognises(kReadHolding.data(), kReadHolding.size()), Recognition::Yes);
  EXPECT_EQ(recognises(kReadHolding.data(), 8), Recognition::Yes) << "a fixed-size function needs no more";
  // A flow's first byte or two could start a request: asked on any port, the recogniser would
  // hold an instrument's one-byte ENQ on its own port. The engine asks it on 502 only.
  EXPECT_EQ(registration().responder_port, 502);
  // A length other than its function's: a proprietary header that happens to start alike.
  const Bytes lookalike = {0x12, 0x34, 0, 0, 0, 0x10, 0x07, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(recognises(lookalike.data(), lookalike.size()), Recognition::No);
  // A write of many registers: its byte count, once there, must agree.
  const Bytes write_many = adu(4, {0x10, 0x00, 0x10, 0x00, 0x02, 0x04, 0, 1, 0, 2});
  EXPECT_EQ(recognises(write_many.data(), 12), Recognition::NeedMore) << "the byte count is still to come";
  EXPECT_EQ(recognises(write_many.data(), write_many.size()), Recognition::Yes);
  const Bytes user_defined = adu(1, {0x41, 0x00});
  EXPECT_EQ(recognises(user_defined.data(), user_defined.size()), Recognition::No);
  const Bytes exception = adu(1, {0x83, 0x02});
  EXPECT_EQ(recognises(exception.data(), exception.size()), Recognition::No);
  for (const std::string& other : {std::string("GET / HTTP/1.1\r\n"), std::string("\x16\x03\x01\x02\x00\x01\x00\x01", 8),
                                  std::string("\x00\x00\x00\x85\xffSMB", 8)})
    EXPECT_EQ(recognises(reinterpret_cast<const uint8_t*>(other.data()), other.size()), Recognition::No) << other;
}

TEST(Modbus, AWriteHiddenInAReadsLengthIsMalformed) {
  // A read whose header claims 18 bytes, the write in the rest: a server that sizes requests by
  // their function (libmodbus) reads the write as a second request, which netmon never judged.
  Bytes hidden = {0x00, 0x01, 0x00, 0x00, 0x00, 0x12, 0x01, 0x03, 0x00, 0x00, 0x00, 0x03};
  const Bytes write = adu(2, {0x06, 0x00, 0x10, 0xbe, 0xef});
  hidden.insert(hidden.end(), write.begin(), write.end());
  ModbusInspector inspector;
  const auto out = feed(inspector, true, hidden);
  ASSERT_EQ(out.malformed.size(), 1u);
  EXPECT_EQ(out.malformed[0], &malformed::kLengthMismatch);
  // Too short for its own fields (a write of registers whose byte count runs past the length).
  ModbusInspector short_one;
  const auto cut = feed(short_one, true, adu(3, {0x10, 0x00, 0x10, 0x00, 0x02, 0x04, 0x00}));
  ASSERT_EQ(cut.malformed.size(), 1u);
  EXPECT_EQ(cut.malformed[0], &malformed::kLengthMismatch);
  // Functions whose size the specification leaves open are not held to one.
  ModbusInspector open;
  EXPECT_TRUE(feed(open, true, adu(5, {0x2b, 0x0e, 0x01, 0x00})).malformed.empty());
}

TEST(Modbus, AnExceptionBitInARequestNamesNoFunctionAndAnAnswersIsItsRequests) {
  ModbusInspector inspector;
  const auto request = feed(inspector, true, adu(3, {0x83, 0x02}));
  ASSERT_EQ(request.messages.size(), 1u);
  EXPECT_EQ(request.messages[0].type, "OTHER");
  const auto answer = feed(inspector, false, adu(3, {0x83, 0x02}));
  ASSERT_EQ(answer.messages.size(), 1u);
  EXPECT_EQ(answer.messages[0].type, "READ_HOLDING_REGISTERS");
}

TEST(Modbus, AfterAHeaderItRefusesNoMessageIsSaidToBeHalfRead) {
  // The engine holds a client's segments while a message is half read: a stopped framer must
  // not keep it so, or every later segment waits out the hold bounds.
  ModbusInspector inspector;
  feed(inspector, true, adu(3, {0x03, 0, 0, 0, 1}, 1));
  EXPECT_FALSE(inspector.reading_message());
}

TEST(Modbus, TheFunctionNamesAreTheAttributesClosedList) {
  const auto& names = kFunction.values();
  for (int code = 0; code < 256; ++code) {
    const std::string name = function_name(static_cast<uint8_t>(code));
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << code << " " << name;
  }
}

}  // namespace
