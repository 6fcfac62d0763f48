// HL7 v2 over MLLP on byte arrays: the MSH, MSA and PID fields a policy and a metric need, and
// the framer on pieces of any size, stray bytes, broken ends and lost bytes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hl7/hl7_inspector.h"
#include "hl7/hl7_message.h"

using namespace vitrine::netmon::hl7;
using vitrine::netmon::ParseStatus;

namespace {

const std::string kOrder =
    "MSH|^~\\&|CABINET|WARD3|PHARMACY|MAIN|20261127083000||RDE^O11^RDE_O11|MSG0001|P|2.5\r"
    "PID|1||PAT123^^^HOSP^MR~OTHER9||DOE^JANE\r"
    "RXE|1|AMOX500^Amoxicillin 500mg|500||mg\r";
const std::string kAck = "MSH|^~\\&|PHARMACY|MAIN|CABINET|WARD3|20261127083001||ACK^O11|ACK0001|P|2.5\r"
                         "MSA|AE|MSG0001|unknown drug code\r";

vitrine::netmon::ParseResult parse(const std::string& text, Message& m, std::string& error) {
  return parse_message(reinterpret_cast<const uint8_t*>(text.data()), text.size(), m, error);
}

std::string framed(const std::string& body) { return "\x0b" + body + "\x1c\r"; }

struct Fed {
  std::vector<MllpFramer::Frame> frames;
  std::vector<MllpFramer::FramingError> errors;
};

Fed feed(MllpFramer& f, const std::string& bytes) {
  Fed out;
  f.feed(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), out.frames, out.errors);
  return out;
}

TEST(Hl7Message, TheHeaderFieldsAPolicyJudges) {
  Message m;
  std::string error;
  ASSERT_EQ(parse(kOrder, m, error), ParseStatus::Ok) << error;
  EXPECT_EQ(m.sending_application, "CABINET");
  EXPECT_EQ(m.sending_facility, "WARD3");
  EXPECT_EQ(m.receiving_application, "PHARMACY");
  EXPECT_EQ(m.receiving_facility, "MAIN");
  EXPECT_EQ(m.message_type, "RDE^O11^RDE_O11");
  EXPECT_EQ(m.control_id, "MSG0001");
  EXPECT_EQ(m.processing_id, "P");
  EXPECT_EQ(m.version, "2.5");
  EXPECT_FALSE(m.is_ack());
  EXPECT_EQ(m.patient_id, "PAT123");  // for a keyed hash only
}

TEST(Hl7Message, AcknowledgementsNameTheMessageTheyAnswer) {
  Message m;
  std::string error;
  ASSERT_EQ(parse(kAck, m, error), ParseStatus::Ok) << error;
  EXPECT_EQ(m.message_type, "ACK^O11");
  EXPECT_EQ(m.ack_code, "AE");
  EXPECT_EQ(m.acked_control_id, "MSG0001");
  EXPECT_TRUE(m.is_negative_ack());
}

TEST(Hl7Message, OtherSeparatorsAndLineEndsReadAlike) {
  Message m;
  std::string error;
  const std::string odd = "MSH#*~\\&#CAB*X#W3#PH#MAIN#2026##ADT*A01#9#P#2.3\nPID#1##ID7\n";
  ASSERT_EQ(parse(odd, m, error), ParseStatus::Ok) << error;
  EXPECT_EQ(m.sending_application, "CAB^X");
  EXPECT_EQ(m.message_type, "ADT^A01");
  EXPECT_EQ(m.patient_id, "ID7");
}

TEST(Hl7Message, WhatIsNotAMessageIsAnError) {
  Message m;
  std::string error;
  for (const std::string& bad : {std::string(""), std::string("PID|1||X\r"), std::string("MSH|"),
                                 std::string("MSHA^~\\&|X|Y|Z|W|T||ADT^A01\r"), std::string("MSH|^~\\&|A|B|C|D|T||\r"),
                                 std::string("MSH||A|B\r")}) {
    EXPECT_EQ(parse(bad, m, error), ParseStatus::Error) << bad;
    EXPECT_FALSE(error.empty());
  }
  // Control characters in a field never reach a metric label or an event as they are.
  ASSERT_EQ(parse("MSH|^~\\&|CA\x01" "B|W|P|M|T||ADT^A01|1|P|2.5\r", m, error), ParseStatus::Ok);
  EXPECT_EQ(m.sending_application, "CA?B");
}

TEST(MllpFramer, FramesArriveInPiecesOfAnySize) {
  const std::string stream = framed(kOrder) + framed(kAck);
  for (size_t piece = 1; piece <= stream.size(); piece += 7) {
    MllpFramer f;
    std::vector<MllpFramer::Frame> frames;
    for (size_t at = 0; at < stream.size(); at += piece) {
      const Fed fed = feed(f, stream.substr(at, piece));
      EXPECT_TRUE(fed.errors.empty());
      frames.insert(frames.end(), fed.frames.begin(), fed.frames.end());
    }
    ASSERT_EQ(frames.size(), 2u) << piece;
    EXPECT_EQ(std::string(frames[0].head.begin(), frames[0].head.end()), kOrder);
    EXPECT_EQ(frames[1].length, kAck.size());
  }
}

TEST(MllpFramer, BrokenFramingIsReportedAndReadingGoesOn) {
  MllpFramer f;
  Fed fed = feed(f, "GET / HTTP/1.1\r\n" + framed(kOrder));
  EXPECT_EQ(fed.errors.size(), 1u);
  EXPECT_EQ(fed.errors[0].what, &vitrine::netmon::hl7::malformed::kOutsideFrame);
  EXPECT_EQ(fed.frames.size(), 1u);
  // A message ends at its FS: read there, as a receiver that does not wait for the CR acts on
  // it; the missing CR is reported.
  fed = feed(f, "\x0bMSH|^~\\&|A\x1cX" + framed(kAck));
  ASSERT_EQ(fed.errors.size(), 1u);
  EXPECT_EQ(fed.errors[0].what, &vitrine::netmon::hl7::malformed::kEndWithoutCr);
  ASSERT_EQ(fed.frames.size(), 2u);
  EXPECT_EQ(std::string(fed.frames[0].head.begin(), fed.frames[0].head.end()), "MSH|^~\\&|A");
  fed = feed(f, "\x0bMSH|half" + framed(kAck));
  ASSERT_EQ(fed.errors.size(), 1u);
  EXPECT_EQ(fed.errors[0].what, &vitrine::netmon::hl7::malformed::kFrameInFrame);
  EXPECT_EQ(fed.frames.size(), 1u);
}

TEST(MllpFramer, OnlyTheHeadOfAHugeMessageIsKept) {
  MllpFramer f;
  const std::string body = kOrder + "OBX|1|ED|PDF||" + std::string(200000, 'A') + "\r";
  const Fed fed = feed(f, framed(body));
  ASSERT_EQ(fed.frames.size(), 1u);
  EXPECT_EQ(fed.frames[0].head.size(), MllpFramer::kMaxHeadBytes);
  EXPECT_EQ(fed.frames[0].length, body.size());
}

TEST(MllpFramer, EverySegmentThatStartsWithMshIsCountedWhereverItIs) {
  MllpFramer f;
  const std::string second = "MSH|^~\\&|X|Y|Z|W|20261201||ADT^A04|2|P|2.5\r";
  const std::string far = kOrder + "OBX|1|ED|PDF||" + std::string(20000, 'A') + "\r" + second;
  // An MSH inside a field, or not at a segment's start, is data; "MSX" is another segment.
  const std::string inside = kOrder + "NTE|1||MSH|not a segment\rMSX|1\r";
  std::string stream = framed(kOrder) + framed(kOrder + second) + framed(far) + framed(inside);
  std::vector<size_t> counts;
  for (size_t at = 0; at < stream.size(); at += 7)  // in pieces that split "MSH" itself
    for (const auto& frame : feed(f, stream.substr(at, 7)).frames) counts.push_back(frame.msh_segments);
  EXPECT_EQ(counts, (std::vector<size_t>{1, 2, 2, 1}));
}

TEST(Hl7Recognition, LineBreaksBeforeTheFirstFrameAreSkipped) {
  auto recognises = [](const std::string& s) {
    return vitrine::netmon::hl7::recognises(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  using vitrine::netmon::Recognition;
  EXPECT_EQ(recognises("\r\n" + framed(kOrder)), Recognition::Yes);
  EXPECT_EQ(recognises("\r\n\r\n"), Recognition::NeedMore);
  EXPECT_EQ(recognises("\r\n\x0bMS"), Recognition::NeedMore);
  EXPECT_EQ(recognises("\r\nGET / HTTP/1.1\r\n"), Recognition::No);
  EXPECT_EQ(recognises(" " + framed(kOrder)), Recognition::No);
  // Empty frames (an engine's keepalive) before the first message are skipped as well.
  EXPECT_EQ(recognises("\x0b\x1c\r" + framed(kOrder)), Recognition::Yes);
  EXPECT_EQ(recognises("\x0b\x1c\r\x0b\x1c\n\x0b"), Recognition::NeedMore);
  EXPECT_EQ(recognises("\x0b\x1c\rGET /"), Recognition::No);
}

TEST(Hl7Message, ASegmentMustStartWithItsName) {
  // An LF inside MSH-9, or a space before a segment: a receiver that ends segments at CR only,
  // or strips the space, reads another message than the one split here.
  Message m;
  std::string error;
  for (const std::string& odd : std::vector<std::string>{"MSH|^~\\&|A|B|C|D|2026||ORM^O01\n^ADT_A01|1|P|2.5\r",
                                 "MSH|^~\\&|A|B|C|D|2026||ORM^O01|1|P|2.5\r MSH|^~\\&|A|B|C|D|2026||ADT^A01|2|P|2.5\r",
                                 "MSH|^~\\&|A|B|C|D|2026||ORM^O01|1|P|2.5\rpid|1\r"}) {
    EXPECT_EQ(parse(odd, m, error), ParseStatus::Error) << odd;
    EXPECT_EQ(error, "a segment that does not start with a segment name");
  }
  EXPECT_EQ(parse(kOrder + "ZPI|1\rNTE\r", m, error), ParseStatus::Ok) << "Z-segments and a bare name are segments";
}

TEST(Hl7Inspector, AnMshSegmentCutByTheKeptHeadIsMalformed) {
  // MSH-8 padded so that the 16 KiB kept end right after ORM^O01, its structure beyond.
  const std::string msh = "MSH|^~\\&|A|B|C|D|2026|" + std::string(MllpFramer::kMaxHeadBytes - 30, 'x') + "|ORM^O01";
  ASSERT_EQ(msh.size(), MllpFramer::kMaxHeadBytes);
  const std::string frame = "\x0b" + msh + "^ADT_A01|1|P|2.5\r\x1c\r";
  Hl7Inspector inspector("key");
  vitrine::netmon::InspectionOutput out;
  inspector.on_bytes(true, reinterpret_cast<const uint8_t*>(frame.data()), frame.size(), 0, out);
  ASSERT_EQ(out.malformed.size(), 1u);
  EXPECT_EQ(out.malformed[0], &vitrine::netmon::hl7::malformed::kMshTooLong);
  EXPECT_TRUE(out.messages.empty());
}

TEST(MllpFramer, AnEndBlockFollowedByLfIsAnEnd) {
  MllpFramer f;
  const Fed fed = feed(f, "\x0b" + kOrder + "\x1c\n\x0b" + kOrder + "\x1c\r");
  EXPECT_EQ(fed.frames.size(), 2u);
  EXPECT_TRUE(fed.errors.empty());
}

}  // namespace

TEST(MllpFramer, AnEmptyFrameIsNoMessageAndNoError) {
  MllpFramer framer;
  std::vector<MllpFramer::Frame> frames;
  std::vector<MllpFramer::FramingError> errors;
  const std::string stream = "\x0b\x1c\r" + framed(kOrder) + "\x0b\x1c\r";
  framer.feed(reinterpret_cast<const uint8_t*>(stream.data()), stream.size(), frames, errors);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(std::string(frames[0].head.begin(), frames[0].head.begin() + 3), "MSH");
  EXPECT_TRUE(errors.empty());
}
