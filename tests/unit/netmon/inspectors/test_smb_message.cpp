// SMB on byte arrays: SMB1 and SMB2 headers, dialects offered and chosen, tree-connect shares,
// the transaction subcommands and DCE/RPC that the virtual patches look at, and the inspector
// turning them into messages and signatures.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <ndpi/ndpi_protocol_ids.h>

#include "packet_bytes.h"
#include "smb_bytes.h"
#include "smb/smb_attributes.h"
#include "smb/smb_inspector.h"
#include "smb/smb_message.h"

using namespace vitrine::netmon;
using namespace vitrine::netmon::smb;

namespace {

using vitrine::testing::append;
using vitrine::testing::Bytes;
using vitrine::testing::put_le16;
using vitrine::testing::put_le32;
using namespace vitrine::testing::smb_bytes;

// Null `fault`: the frame parses; else it is refused for that reason.
std::vector<SmbMessage> parse_all(const Bytes& m, const MalformedReason* fault = nullptr) {
  std::vector<SmbMessage> out;
  const ParseResult r = parse_frame(m.data(), m.size(), out);
  EXPECT_EQ(r.status, fault ? ParseStatus::Error : ParseStatus::Ok);
  EXPECT_EQ(r.reason, fault);
  return out;
}

SmbMessage parse(const Bytes& m) {
  const auto all = parse_all(m);
  EXPECT_EQ(all.size(), 1u);
  return all.empty() ? SmbMessage{} : all[0];
}

// Words of an AndX command: the chained command and where its parameter block starts.
Bytes andx_words(uint8_t next_command, uint16_t next_offset, size_t more_words) {
  Bytes w = {next_command, 0};
  put_le16(w, next_offset);
  for (size_t i = 0; i < more_words; ++i) put_le16(w, 0);
  return w;
}

// A chained command's parameter block: word count, words, byte count, bytes.
Bytes andx_block(const Bytes& words, const Bytes& bytes) {
  Bytes b = {static_cast<uint8_t>(words.size() / 2)};
  append(b, words);
  put_le16(b, static_cast<uint32_t>(bytes.size()));
  append(b, bytes);
  return b;
}

TEST(SmbMessage, Smb1NegotiateOffersDialectsAndTheAnswerPicksOne) {
  const std::string dialects = std::string("\x02PC NETWORK PROGRAM 1.0\0\x02NT LM 0.12\0\x02SMB 2.002\0", 47);
  const SmbMessage rq = parse(smb1(0x72, {}, Bytes(dialects.begin(), dialects.end())));
  EXPECT_EQ(rq.command, "NEGOTIATE");
  EXPECT_EQ(rq.offered_dialects, (std::vector<std::string>{"PC NETWORK PROGRAM 1.0", "NT LM 0.12", "SMB 2.002"}));
  Bytes words;
  put_le16(words, 1);
  const SmbMessage rsp = parse(smb1(0x72, words, {}, 1, true));
  EXPECT_TRUE(rsp.response);
  EXPECT_EQ(rsp.dialect_index, 1);
}

TEST(SmbMessage, TreeConnectNamesItsShareInUnicodeOrNot) {
  Bytes words = {0xff, 0, 0, 0, 0, 0};
  put_le16(words, 1);  // password length
  // The password (one byte) ends at offset 44 from the SMB header: the UTF-16 path needs no pad.
  Bytes bytes = {0};
  append(bytes, utf16("\\\\10.77.0.10\\ADMIN$"));
  append(bytes, {'?', '?', '?', '?', '?', 0});
  EXPECT_EQ(parse(smb1(0x75, words, bytes)).share, "ADMIN$");
  Bytes ascii = {0};
  const std::string path = "\\\\PHARMACY\\CABINETDATA";
  append(ascii, Bytes(path.begin(), path.end()));
  append(ascii, {0, 'A', ':', 0});
  EXPECT_EQ(parse(smb1(0x75, words, ascii, 1, false, false)).share, "CABINETDATA");
}

TEST(SmbMessage, TransactionSubcommandsAndTheirPipe) {
  const SmbMessage peek = parse(smb1(0x25, trans_words({0x0023, 0x0000}), {0}));
  EXPECT_TRUE(peek.has_trans_setup);
  EXPECT_EQ(peek.trans_subcommand, 0x0023);
  EXPECT_EQ(peek.trans_fid, 0);
  const SmbMessage trans2 = parse(smb1(0x32, trans_words({0x000e}), {0}, 65));
  EXPECT_EQ(trans2.trans_subcommand, 0x000e);
  EXPECT_EQ(trans2.message_id, 65u);
}

TEST(SmbMessage, Smb2DialectShareAndCompounds) {
  auto smb2 = [](uint16_t cmd, bool response, const Bytes& body, uint32_t next = 0) {
    Bytes m = {0xfe, 'S', 'M', 'B'};
    put_le16(m, 64);
    put_le16(m, 0);
    put_le32(m, 0);
    put_le16(m, cmd);
    put_le16(m, 1);
    put_le32(m, response ? 1 : 0);
    put_le32(m, next);
    for (int i = 0; i < 40; ++i) m.push_back(0);
    append(m, body);
    return m;
  };
  Bytes neg = {65, 0, 1, 0};
  put_le16(neg, 0x0210);
  EXPECT_EQ(parse(smb2(0, true, neg)).dialect, "2.1");
  Bytes tree = {9, 0, 0, 0};
  put_le16(tree, 72);
  const Bytes path = utf16("\\\\console\\C$");
  put_le16(tree, static_cast<uint32_t>(path.size() - 2));
  append(tree, path);
  const SmbMessage tc = parse(smb2(3, false, tree));
  EXPECT_EQ(tc.command, "TREE_CONNECT");
  EXPECT_EQ(tc.share, "C$");
  // Two compounded requests: the first says where the second starts.
  Bytes first = smb2(5, false, {57, 0, 0, 0, 0, 0, 0, 0}, 0);
  first.resize(72, 0);
  Bytes compound = smb2(5, false, Bytes(first.begin() + 64, first.end()), 72);
  append(compound, smb2(6, false, {24, 0, 0, 0}));
  const auto both = parse_all(compound);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0].command, "CREATE");
  EXPECT_EQ(both[1].command, "CLOSE");
  // A NextCommand inside the header (it once made the body's length wrap: a heap over-read)
  // or unaligned is a broken chain, read no further; one past what was read is not followed.
  Bytes beyond = smb2(3, false, tree, 4096);
  const auto one = parse_all(beyond);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].share, "C$");
  for (uint32_t next : {8u, 60u, 68u, 73u}) {
    Bytes tree_compound = smb2(3, false, tree, next);
    append(tree_compound, smb2(6, false, {24, 0, 0, 0}));
    std::vector<SmbMessage> messages;
    EXPECT_EQ(parse_frame(tree_compound.data(), tree_compound.size(), messages).reason, &malformed::kBadChain) << next;
    ASSERT_EQ(messages.size(), 1u) << next;
    EXPECT_EQ(messages[0].share, "") << "its body is not read: " << next;
  }
}

// XP sends SESSION_SETUP_ANDX with TREE_CONNECT_ANDX chained to it: the share is in the second.
TEST(SmbMessage, AndXChainsAreReadToTheirEnd) {
  const Bytes tree_words = {0xff, 0, 0, 0, 0, 0, 1, 0};  // no further AndX; password length 1
  // The session setup's block: 13 words, no bytes; the chained block follows at 32+1+26+2 = 61,
  // its bytes at 72, the 1-byte password ends at 73: a pad byte aligns the UTF-16 path to 74.
  Bytes tree_bytes = {0, 0};
  append(tree_bytes, utf16("\\\\console\\ADMIN$"));
  Bytes chain = smb1(0x73, andx_words(0x75, 61, 11), {});
  ASSERT_EQ(chain.size(), 61u);
  append(chain, andx_block(tree_words, tree_bytes));
  const auto messages = parse_all(chain);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].command, "SESSION_SETUP_ANDX");
  EXPECT_EQ(messages[1].command, "TREE_CONNECT_ANDX");
  EXPECT_EQ(messages[1].share, "ADMIN$");
  EXPECT_EQ(messages[1].message_id, messages[0].message_id);

  // A chain that points back at itself, before itself, or out of the message is refused;
  // what came before the bad link is still returned.
  for (uint16_t offset : {uint16_t{32}, uint16_t{10}, uint16_t{5000}}) {
    Bytes bad = smb1(0x73, andx_words(0x75, offset, 11), {});
    append(bad, andx_block(tree_words, tree_bytes));
    EXPECT_EQ(parse_all(bad, &malformed::kBadChain).size(), 1u) << offset;
  }
  // A chained command cut short.
  Bytes cut = smb1(0x73, andx_words(0x75, 61, 11), {});
  cut.push_back(4);
  EXPECT_EQ(parse_all(cut, &malformed::kBadChain).size(), 1u);
  // More links than kMaxCommandsPerFrame: each READ_ANDX (12 words) chains the next.
  // Each block is 1 + 24 + 2 = 27 bytes; the first starts after the header's at 59.
  Bytes longest = smb1(0x2e, andx_words(0x2e, 59, 10), {});
  for (size_t i = 1; i <= kMaxCommandsPerFrame; ++i)
    append(longest, andx_block(andx_words(0x2e, static_cast<uint16_t>(59 + 27 * i), 10), {}));
  EXPECT_EQ(parse_all(longest, &malformed::kBadChain).size(), kMaxCommandsPerFrame);
}

TEST(SmbMessage, Smb3EncryptedMessagesAreLegitimateAndUnread) {
  Bytes transform = {0xfd, 'S', 'M', 'B'};
  for (int i = 0; i < 48; ++i) transform.push_back(0x5a);
  const SmbMessage m = parse(transform);
  EXPECT_EQ(m.version, 3);
  EXPECT_EQ(m.command, "ENCRYPTED");
  SmbInspector inspector;
  InspectionOutput out;
  const Bytes framed = netbios(transform);
  inspector.on_bytes(true, framed.data(), framed.size(), 0, out);
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_FALSE(out.messages[0].judge);
  EXPECT_TRUE(out.malformed.empty());
}

TEST(SmbMessage, WhatIsNotSmbIsRefused) {
  const Bytes text = {'H', 'E', 'L', 'L', 'O', ' ', 'n', 'o', 't', ' ', 's', 'm', 'b'};
  EXPECT_TRUE(parse_all(text, &malformed::kNotSmb).empty());
  EXPECT_EQ(looks_like_smb(text.data(), text.size()), Recognition::No);
  EXPECT_EQ(looks_like_smb(text.data(), 1), Recognition::No) << "its first byte is enough";
  // A negotiation split anywhere before its "SMB" is not yet told either way.
  const Bytes negotiate = netbios(smb1(0x72, {}, {2, 'N', 'T', 0}));
  for (size_t n = 0; n < 8; ++n) EXPECT_EQ(looks_like_smb(negotiate.data(), n), Recognition::NeedMore) << n;
  EXPECT_EQ(looks_like_smb(negotiate.data(), 8), Recognition::Yes);
  Bytes not_smb = negotiate;
  not_smb[6] = 'X';
  EXPECT_EQ(looks_like_smb(not_smb.data(), 7), Recognition::No);
  Bytes cut = smb1(0x72, {}, {2, 'N', 'T', 0});
  cut.resize(20);
  EXPECT_TRUE(parse_all(cut, &malformed::kNotSmb).empty());
}

TEST(SmbMessage, KeepalivesBeforeTheFirstMessageAreSkippedAsTheHostSkipsThem) {
  const Bytes negotiate = netbios(smb1(0x72, {}, {2, 'N', 'T', 0}));
  Bytes stream = {0x85, 0, 0, 0, 0x85, 0, 0, 2, 'x', 'y'};  // one empty, one carrying two bytes
  append(stream, negotiate);
  for (size_t n = 0; n < 10 + 8; ++n) EXPECT_EQ(looks_like_smb(stream.data(), n), Recognition::NeedMore) << n;
  EXPECT_EQ(looks_like_smb(stream.data(), stream.size()), Recognition::Yes);
  EXPECT_EQ(protocol_of(stream.data(), stream.size()).app, NDPI_PROTOCOL_SMBV1);
  Bytes then_text = {0x85, 0, 0, 0};
  append(then_text, Bytes{'H', 'E', 'L', 'L', 'O'});
  EXPECT_EQ(looks_like_smb(then_text.data(), then_text.size()), Recognition::No);
}

TEST(NetbiosFramer, AMessageOfTheLongestLengthIsReadAndALongerClaimIsAFault) {
  auto header = [](size_t length) {
    return Bytes{0x00, static_cast<uint8_t>(length >> 16), static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length)};
  };
  const Bytes body(NetbiosHeader::kMaxMessageBytes, 0x41);
  NetbiosFramer framer;
  std::vector<vitrine::netmon::Frame> frames;
  Bytes longest = header(body.size());
  append(longest, body);
  framer.feed(longest.data(), longest.size(), frames);
  ASSERT_FALSE(framer.stopped());
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].body_bytes, NetbiosHeader::kMaxMessageBytes);
  EXPECT_EQ(frames[0].kept(), NetbiosHeader::kMaxKeptBytes);

  // One byte more, or the 16 MiB a direct-TCP header can claim: the framer stops at the header
  // and reads nothing after it, not even a well-formed message.
  for (size_t claim : {NetbiosHeader::kMaxMessageBytes + 1, size_t{0xffffff}}) {
    NetbiosFramer f;
    frames.clear();
    Bytes stream = header(claim);
    const Bytes then = netbios(smb1(0x72, {}, {2, 'N', 'T', 0}));
    append(stream, then);
    for (uint8_t b : stream) f.feed(&b, 1, frames);  // byte by byte: nowhere to hide
    ASSERT_TRUE(f.stopped()) << claim;
    EXPECT_EQ(f.fault(), &vitrine::netmon::smb::malformed::kNetbiosTooLong) << claim;
    EXPECT_TRUE(frames.empty()) << claim;
  }
}

TEST(SmbInspector, AnOversizedNetbiosClaimIsMalformedAndEndsTheReading) {
  SmbInspector inspector;
  InspectionOutput out;
  const Bytes claim = {0x00, 0xff, 0xff, 0xff};
  inspector.on_bytes(true, claim.data(), claim.size(), 0, out);
  ASSERT_EQ(out.malformed.size(), 1u);
  const Bytes negotiate = netbios(smb1(0x72, {}, {2, 'N', 'T', 0}));
  InspectionOutput later;
  inspector.on_bytes(true, negotiate.data(), negotiate.size(), 0, later);
  EXPECT_TRUE(later.messages.empty());
  EXPECT_TRUE(later.malformed.empty()) << "reported once";
}

TEST(SmbInspector, VirtualPatchSignatures) {
  auto run = [](const std::vector<Bytes>& requests) {
    SmbInspector inspector;
    InspectionOutput out;
    for (const auto& r : requests) {
      const Bytes framed = netbios(r);
      inspector.on_bytes(true, framed.data(), framed.size(), 0, out);
    }
    return out;
  };
  auto signature_of = [](const InspectionOutput& out) { return out.messages.empty() ? std::string() : out.messages.back().signature; };
  EXPECT_EQ(signature_of(run({smb1(0x25, trans_words({0x0023, 0}), {0})})), kSignaturePeekNamedPipe);
  EXPECT_EQ(signature_of(run({smb1(0x25, trans_words({0x0023, 0x4001}), {0})})), "") << "a real pipe is not the probe";
  EXPECT_EQ(signature_of(run({smb1(0x32, trans_words({0x000e}), {0}, 65)})), kSignatureTrans2SessionSetup);
  Bytes nt_words;
  for (int i = 0; i < 19; ++i) put_le16(nt_words, 0);
  nt_words[36] = 1;  // NT_TRANSACT_CREATE
  Bytes nt_pending = nt_words;
  nt_pending[7] = 100;  // TotalDataCount: the rest in secondaries
  EXPECT_EQ(signature_of(run({smb1(0xa0, nt_pending, {0}, 7), smb1(0x33, trans_words({}), {0}, 7)})), kSignatureNtTransByTrans2);
  EXPECT_EQ(signature_of(run({smb1(0xa0, nt_pending, {0}, 7), smb1(0x33, trans_words({}), {0}, 8)})),
            kSignatureSecondaryWithoutPending);
  // EternalBlue's NT_TRANSACT announces 66,512 bytes of data; 64 KiB is still a client's.
  Bytes oversized = nt_words;
  oversized[7] = 0xd0, oversized[8] = 0x03, oversized[9] = 0x01;  // TotalDataCount 0x103d0
  EXPECT_EQ(signature_of(run({smb1(0xa0, oversized, {0}, 7)})), kSignatureNtTransOversized);
  Bytes largest = nt_words;
  largest[7] = 0xff, largest[8] = 0xff;
  EXPECT_EQ(signature_of(run({smb1(0xa0, largest, {0}, 7)})), "");
  // DoublePulsar's ping chained behind a session setup is seen all the same.
  Bytes chained = smb1(0x73, andx_words(0x32, 61, 11), {});
  append(chained, andx_block(trans_words({0x000e}), {0}));
  EXPECT_EQ(signature_of(run({chained})), kSignatureTrans2SessionSetup);
  // An infected server answering DoublePulsar's ping: multiplex ID 81 on a TRANSACTION2 reply.
  {
    SmbInspector inspector;
    InspectionOutput out;
    const Bytes answer = netbios(smb1(0x32, {}, {}, 81, true));
    inspector.on_bytes(false, answer.data(), answer.size(), 0, out);
    ASSERT_EQ(out.messages.size(), 1u);
    EXPECT_EQ(out.messages[0].signature, kSignatureDoublePulsarAnswer);
    const Bytes ordinary = netbios(smb1(0x32, {}, {}, 80, true));
    InspectionOutput out2;
    inspector.on_bytes(false, ordinary.data(), ordinary.size(), 0, out2);
    EXPECT_EQ(out2.messages[0].signature, "");
  }
  // MS08-067: a srvsvc bind, then a call that reaches the flawed canonicalisation with a path
  // that climbs out, written to the pipe with WRITE_ANDX (12 words: the data starts at 59).
  auto pipe_write = [](const Bytes& rpc) {
    Bytes w = {0xff, 0, 0, 0};
    for (int i = 0; i < 8; ++i) put_le16(w, 0);
    put_le16(w, static_cast<uint32_t>(rpc.size()));
    put_le16(w, 59);
    return smb1(0x2f, w, rpc);
  };
  // Whole PDUs (frag_length set): a bind of context 0 to `iface`, a request on context 0.
  auto with_length = [](Bytes pdu) {
    pdu[8] = static_cast<uint8_t>(pdu.size());
    pdu[9] = static_cast<uint8_t>(pdu.size() >> 8);
    return pdu;
  };
  auto bind_to = [&](const Bytes& iface) {
    Bytes b = {5, 0, 0x0b, 3, 0x10, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0xb8, 0x10, 0xb8, 0x10, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0};
    append(b, iface);
    append(b, Bytes(24, 0));
    return with_length(b);
  };
  const Bytes bind = bind_to({0xc8, 0x4f, 0x32, 0x4b, 0x70, 0x16, 0xd3, 0x01, 0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88});
  auto call = [&](uint16_t opnum, const std::string& path) {
    Bytes rq = {5, 0, 0, 3, 0x10, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0};
    for (int i = 0; i < 6; ++i) rq.push_back(0);
    put_le16(rq, opnum);
    append(rq, utf16(path));
    return with_length(rq);
  };
  const std::string climbs = "\\AAAAAAAA\\..\\n";
  EXPECT_EQ(signature_of(run({pipe_write(bind), pipe_write(call(31, climbs))})), kSignaturePathCanonicalize);
  EXPECT_EQ(signature_of(run({pipe_write(bind), pipe_write(call(32, climbs))})), kSignaturePathCompare);
  EXPECT_EQ(signature_of(run({pipe_write(bind), pipe_write(call(32, "\\n"))})), "") << "a path that stays";
  EXPECT_EQ(signature_of(run({pipe_write(bind), pipe_write(call(15, climbs))})), "") << "another operation";
  EXPECT_EQ(signature_of(run({pipe_write(bind_to(Bytes(16, 7))), pipe_write(call(31, climbs))})), "") << "another interface";
  // A request on a context no bind named may be srvsvc's: it is read as srvsvc's.
  EXPECT_EQ(signature_of(run({pipe_write(call(32, climbs))})), kSignaturePathCompare) << "no bind seen";
  // A normal session's requests carry command, dialect and share, and no signature.
  Bytes words = {0xff, 0, 0, 0, 0, 0, 1, 0};
  Bytes bytes = {0};
  append(bytes, utf16("\\\\console\\CABINETDATA"));
  const InspectionOutput session = run({smb1(0x75, words, bytes)});
  ASSERT_EQ(session.messages.size(), 1u);
  EXPECT_EQ(session.messages[0].attributes.get(&vitrine::netmon::smb::kShare), "CABINETDATA");
  EXPECT_EQ(session.messages[0].attributes.get(&vitrine::netmon::smb::kCommand), "TREE_CONNECT_ANDX");
  EXPECT_EQ(session.messages[0].attributes.get(&vitrine::netmon::smb::kDialect), "SMB1");
  EXPECT_EQ(session.messages[0].signature, "");
}

}  // namespace
