// The DICOM upper layer on byte arrays: association requests, the PDU framer on pieces of any
// size, and what is refused.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dicom/dicom_inspector.h"
#include "dicom/dicom_pdu.h"

using namespace vitrine::netmon::dicom;
using vitrine::netmon::ParseStatus;
using vitrine::netmon::Recognition;

namespace {

using Bytes = std::vector<uint8_t>;

void put16(Bytes& b, size_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}

Bytes item(uint8_t type, const Bytes& value) {
  Bytes b = {type, 0};
  put16(b, value.size());
  b.insert(b.end(), value.begin(), value.end());
  return b;
}

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

std::string padded(const std::string& title) { return title + std::string(16 - title.size(), ' '); }

// An A-ASSOCIATE-RQ PDU, whole: header, fixed fields, application context, one presentation
// context proposing `sop` with one transfer syntax.
Bytes associate_rq(const std::string& called, const std::string& calling, const std::string& sop) {
  Bytes body = {0x00, 0x01, 0x00, 0x00};
  const auto c = text(padded(called)), g = text(padded(calling));
  body.insert(body.end(), c.begin(), c.end());
  body.insert(body.end(), g.begin(), g.end());
  body.insert(body.end(), 32, 0);
  const auto ctx = item(0x10, text("1.2.840.10008.3.1.1.1"));
  body.insert(body.end(), ctx.begin(), ctx.end());
  Bytes pc = {0x01, 0, 0, 0};
  const auto as = item(0x30, text(sop)), ts = item(0x40, text("1.2.840.10008.1.2"));
  pc.insert(pc.end(), as.begin(), as.end());
  pc.insert(pc.end(), ts.begin(), ts.end());
  const auto pci = item(0x20, pc);
  body.insert(body.end(), pci.begin(), pci.end());
  Bytes pdu = {0x01, 0x00, 0, 0};
  put16(pdu, body.size());
  pdu.insert(pdu.end(), body.begin(), body.end());
  return pdu;
}

// The same request with a user information item saying the requestor takes P-DATA PDUs of at
// most `max_length` bytes.
Bytes associate_rq_taking(uint32_t max_length) {
  Bytes pdu = associate_rq("PACS", "CABINET", "1.2.840.10008.1.1");
  const Bytes max = item(0x51, {static_cast<uint8_t>(max_length >> 24), static_cast<uint8_t>(max_length >> 16),
                                static_cast<uint8_t>(max_length >> 8), static_cast<uint8_t>(max_length)});
  const Bytes user = item(0x50, max);
  pdu.insert(pdu.end(), user.begin(), user.end());
  const size_t body = pdu.size() - 6;
  pdu[4] = static_cast<uint8_t>(body >> 8);
  pdu[5] = static_cast<uint8_t>(body);
  return pdu;
}

Bytes pdata_header(uint32_t length) {
  return {0x04, 0, static_cast<uint8_t>(length >> 24), static_cast<uint8_t>(length >> 16),
          static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length)};
}

TEST(DicomPdu, AnAssociationRequestSaysWhoCallsWhomForWhat) {
  const Bytes pdu = associate_rq("PACS", "CABINET", "1.2.840.10008.1.1");
  EXPECT_EQ(looks_like_associate_rq(pdu.data(), pdu.size()), Recognition::Yes);
  // Recognised on the stream, not on one segment: a prefix says so or not as far as it goes.
  for (size_t n : {0, 1, 5, 7, 40, 73}) EXPECT_EQ(looks_like_associate_rq(pdu.data(), n), Recognition::NeedMore) << n;
  Association a;
  std::string error;
  ASSERT_EQ(parse_association(pdu.data() + 6, pdu.size() - 6, a, error), ParseStatus::Ok) << error;
  EXPECT_EQ(a.called_ae, "PACS");
  EXPECT_EQ(a.calling_ae, "CABINET");
  EXPECT_EQ(a.application_context, "1.2.840.10008.3.1.1.1");
  EXPECT_EQ(a.abstract_syntaxes, std::vector<std::string>{"1.2.840.10008.1.1"});
}

TEST(DicomPdu, WhatOnlyLooksLikeOneIsNotRecognised) {
  Bytes pdu = associate_rq("PACS", "CABINET", "1.2.840.10008.1.1");
  Bytes bad_title = pdu;
  bad_title[6 + 4 + 3] = 0x07;  // a control character in the called AE title
  EXPECT_EQ(looks_like_associate_rq(bad_title.data(), bad_title.size()), Recognition::No);
  Bytes other_type = pdu;
  other_type[0] = 0x04;
  EXPECT_EQ(looks_like_associate_rq(other_type.data(), other_type.size()), Recognition::No);
  EXPECT_EQ(looks_like_associate_rq(other_type.data(), 1), Recognition::No) << "one byte is enough to tell";
  Bytes huge = pdu;
  huge[2] = 0x7f;  // a length far past any association request
  EXPECT_EQ(looks_like_associate_rq(huge.data(), huge.size()), Recognition::No);
  EXPECT_EQ(looks_like_associate_rq(huge.data(), 6), Recognition::No);
  const std::string http = "GET / HTTP/1.1\r\nHost: pacs\r\n\r\n" + std::string(60, ' ');
  EXPECT_EQ(looks_like_associate_rq(reinterpret_cast<const uint8_t*>(http.data()), http.size()), Recognition::No);
}

TEST(DicomPdu, ItemsThatLieAboutTheirLengthAreErrors) {
  Bytes pdu = associate_rq("PACS", "CABINET", "1.2.840.10008.1.1");
  Bytes cut(pdu.begin(), pdu.begin() + 6 + 68 + 2);  // the first item's header cut short
  Association a;
  std::string error;
  EXPECT_EQ(parse_association(cut.data() + 6, cut.size() - 6, a, error), ParseStatus::Error);
  Bytes lying = pdu;
  lying[6 + 68 + 2] = 0xff;  // the application context item claims 65 KB
  EXPECT_EQ(parse_association(lying.data() + 6, lying.size() - 6, a, error), ParseStatus::Error);
  EXPECT_EQ(error, "a variable item longer than its PDU");
  EXPECT_EQ(parse_association(pdu.data() + 6, 20, a, error), ParseStatus::Error);
}

TEST(DicomPduFramer, PdusArriveInPiecesOfAnySize) {
  Bytes stream = associate_rq("PACS", "CABINET", "1.2.840.10008.1.1");
  const Bytes pdata = {0x04, 0, 0, 0, 0, 3, 'a', 'b', 'c'}, release = {0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0};
  stream.insert(stream.end(), pdata.begin(), pdata.end());
  stream.insert(stream.end(), release.begin(), release.end());
  for (size_t piece = 1; piece <= stream.size(); piece += 5) {
    PduFramer f;
    std::vector<vitrine::netmon::Frame> pdus;
    std::string error;
    for (size_t at = 0; at < stream.size(); at += piece)
      f.feed(stream.data() + at, std::min(piece, stream.size() - at), pdus);
    EXPECT_FALSE(f.stopped());
    ASSERT_EQ(pdus.size(), 3u) << piece;
    EXPECT_EQ(pdu_type(pdus[0]), PduType::AssociateRq);
    EXPECT_EQ(pdus[0].kept() + 6, stream.size() - pdata.size() - release.size());
    EXPECT_EQ(pdu_type(pdus[1]), PduType::PData);
    EXPECT_TRUE(pdus[1].kept() == 0) << "P-DATA is counted, not kept";
    EXPECT_EQ(pdu_type(pdus[2]), PduType::ReleaseRq);
  }
}

TEST(DicomPduFramer, NotPdusStopsTheFramer) {
  PduFramer f;
  std::vector<vitrine::netmon::Frame> pdus;
  std::string error;
  const Bytes junk = {0x42, 0, 0, 0, 0, 1, 0};
  f.feed(junk.data(), junk.size(), pdus);
  EXPECT_EQ(f.fault(), &vitrine::netmon::dicom::malformed::kUnknownPdu);
  EXPECT_TRUE(f.stopped());
  PduFramer g;
  const Bytes big_rq = {0x01, 0, 0x00, 0x10, 0x00, 0x01};  // an association PDU of 1 MiB
  g.feed(big_rq.data(), big_rq.size(), pdus);
  EXPECT_EQ(g.fault(), &vitrine::netmon::dicom::malformed::kAssociationTooLong);
  EXPECT_TRUE(pdus.empty());
}

TEST(DicomPdu, TheMaximumLengthReceivedIsReadFromTheUserInformation) {
  const Bytes pdu = associate_rq_taking(16384);
  Association a;
  std::string error;
  ASSERT_EQ(parse_association(pdu.data() + 6, pdu.size() - 6, a, error), ParseStatus::Ok) << error;
  EXPECT_EQ(a.max_length_received, 16384u);
  const Bytes without = associate_rq("PACS", "CABINET", "1.2.840.10008.1.1");
  ASSERT_EQ(parse_association(without.data() + 6, without.size() - 6, a, error), ParseStatus::Ok);
  EXPECT_EQ(a.max_length_received, 0u) << "none said: no limit";
}

TEST(DicomPduFramer, APdataLongerThanItsReceiverTakesIsRefusedAtItsHeader) {
  // Up to the maximum (and one PDV item header over it, as some implementations count) passes;
  // a longer claim stops the framer at the header, before a byte of its body is waited for.
  for (uint32_t length : {16384u, 16390u}) {
    PduFramer f;
    f.protocol().max_pdata = 16384;
    std::vector<vitrine::netmon::Frame> pdus;
    std::string error;
    Bytes stream = pdata_header(length);
    stream.insert(stream.end(), length, 0);
    f.feed(stream.data(), stream.size(), pdus);
    EXPECT_FALSE(f.stopped()) << length;
    EXPECT_EQ(pdus.size(), 1u) << length;
  }
  for (uint32_t length : {16391u, 0xffffffffu}) {
    PduFramer f;
    f.protocol().max_pdata = 16384;
    std::vector<vitrine::netmon::Frame> pdus;
    std::string error;
    const Bytes header = pdata_header(length);
    f.feed(header.data(), header.size(), pdus);
    EXPECT_EQ(f.fault(), &vitrine::netmon::dicom::malformed::kPdataTooLong) << length;
    EXPECT_TRUE(f.stopped());
  }
}

TEST(DicomPduFramer, AFixedLengthPduOfAnotherLengthIsRefused) {
  for (uint8_t type : {0x03, 0x05, 0x06, 0x07}) {
    PduFramer f;
    std::vector<vitrine::netmon::Frame> pdus;
    std::string error;
    const Bytes claim = {type, 0, 0, 0x01, 0x00, 0x00};  // 64 KiB where 4 bytes are due
    f.feed(claim.data(), claim.size(), pdus);
    EXPECT_EQ(f.fault(), &vitrine::netmon::dicom::malformed::kFixedPduLength) << int{type};
  }
}

TEST(DicomPdu, AnAcceptorsContextItemInARequestIsReadAsAProposal) {
  // DCMTK queues the abstract syntax of a 0x21 item in a request as proposed: so is it read.
  Bytes pdu = associate_rq("PACS", "CABINET", "1.2.840.10008.1.1");
  Bytes pc = {0x03, 0, 0, 0};
  const auto as = item(0x30, text("1.2.840.10008.5.1.4.1.1.2")), ts = item(0x40, text("1.2.840.10008.1.2.1"));
  pc.insert(pc.end(), as.begin(), as.end());
  pc.insert(pc.end(), ts.begin(), ts.end());
  const auto ac_item = item(0x21, pc);
  pdu.insert(pdu.end(), ac_item.begin(), ac_item.end());
  const size_t body = pdu.size() - 6;
  pdu[4] = static_cast<uint8_t>(body >> 8), pdu[5] = static_cast<uint8_t>(body);
  Association a;
  std::string error;
  ASSERT_EQ(parse_association(pdu.data() + 6, pdu.size() - 6, a, error), ParseStatus::Ok) << error;
  EXPECT_EQ(a.abstract_syntaxes, (std::vector<std::string>{"1.2.840.10008.1.1", "1.2.840.10008.5.1.4.1.1.2"}));
}

TEST(DicomInspector, ASecondAssociationRequestIsMalformed) {
  DicomInspector inspector;
  vitrine::netmon::InspectionOutput out;
  const Bytes rq = associate_rq("PACS", "CABINET", "1.2.840.10008.1.1");
  inspector.on_bytes(true, rq.data(), rq.size(), 0, out);
  EXPECT_TRUE(out.malformed.empty());
  const Bytes second = associate_rq("ARCHIVE", "INTRUDER", "1.2.840.10008.5.1.4.1.1.2");
  inspector.on_bytes(true, second.data(), second.size(), 10, out);
  ASSERT_EQ(out.malformed.size(), 1u);
  EXPECT_EQ(out.malformed[0], &vitrine::netmon::dicom::malformed::kSecondAssociation);
}

TEST(DicomInspector, EachSideIsHeldToWhatTheOtherSaidItTakes) {
  DicomInspector inspector;
  vitrine::netmon::InspectionOutput out;
  const Bytes rq = associate_rq_taking(16384);
  inspector.on_bytes(true, rq.data(), rq.size(), 0, out);
  Bytes ac = associate_rq_taking(32768);
  ac[0] = 0x02;  // the acceptor's answer: the same layout, its own maximum
  inspector.on_bytes(false, ac.data(), ac.size(), 1000, out);
  ASSERT_TRUE(out.malformed.empty());
  // The requestor may send 32 KiB, the acceptor 16 KiB.
  Bytes from_requestor = pdata_header(32768);
  from_requestor.insert(from_requestor.end(), 32768, 0);
  inspector.on_bytes(true, from_requestor.data(), from_requestor.size(), 2000, out);
  EXPECT_TRUE(out.malformed.empty());
  const Bytes from_acceptor = pdata_header(32768);
  inspector.on_bytes(false, from_acceptor.data(), from_acceptor.size(), 3000, out);
  ASSERT_EQ(out.malformed.size(), 1u);
  EXPECT_EQ(out.malformed[0], &vitrine::netmon::dicom::malformed::kPdataTooLong);
}

}  // namespace
