// The ways crafted sessions once got the virtual patches' calls past the SMB reader, each read now
// as the server reads it: a transaction whose secondaries carry all its data, a chained or
// related write that names another file, a raw-mode pipe message in pieces, EternalRomance's
// FID-as-MID confusion, a PID that differs only in its high half, a context re-bound by
// ALTER_CONTEXT, a request flagged as a reply, an SMB_COM_WRITE with another buffer format, an
// undefined NDR integer representation, and a sealed stub (counted blind); and then
// a write under another TID or UID, a word count the server refuses, a write chained after a
// read, and a bind whose first write is too short to tell.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "dcerpc_bytes.h"
#include "packet_bytes.h"
#include "smb/smb_inspector.h"
#include "smb_bytes.h"

using namespace vitrine::netmon;
using namespace vitrine::netmon::smb;
using namespace vitrine::testing::smb_bytes;
using namespace vitrine::testing::dcerpc_bytes;
using vitrine::testing::append;
using vitrine::testing::Bytes;
using vitrine::testing::put_le16;
using vitrine::testing::put_le32;

namespace {

constexpr uint16_t kFid = 0x4001;

struct Seen {
  std::vector<std::string> signatures;
  std::vector<const vitrine::netmon::MalformedReason*> malformed;
  bool blind = false;
  bool has(const std::string& s) const { return std::find(signatures.begin(), signatures.end(), s) != signatures.end(); }
};

Seen inspect(const std::vector<Bytes>& messages) {
  SmbInspector inspector;
  InspectionOutput out;
  for (const auto& m : messages) {
    const Bytes framed = netbios(m);
    inspector.on_bytes(true, framed.data(), framed.size(), 0, out);
  }
  Seen seen;
  for (const auto& m : out.messages) {
    if (!m.signature.empty()) seen.signatures.push_back(m.signature);
    seen.blind |= m.blinds.has_value();
  }
  seen.malformed.assign(out.malformed.begin(), out.malformed.end());
  return seen;
}

const Bytes kBind = rpc_bind({kSrvsvcInterface});
Bytes traversal(uint32_t call_id = 2) { return rpc_request(0, 31, utf16("\\A\\..\\..\\x"), kFirstFrag | kLastFrag, call_id); }

// WRITE_ANDX words: FID, WriteMode, Remaining, DataLength, DataOffset (data right after).
Bytes write_andx(const Bytes& data, uint16_t fid = kFid, uint16_t mode = 0, uint16_t remaining = 0, uint16_t mid = 1,
                 uint8_t andx = 0xff, uint16_t andx_offset = 0) {
  Bytes w = {andx, 0};
  put_le16(w, andx_offset), put_le16(w, fid), put_le32(w, 0), put_le32(w, 0), put_le16(w, mode), put_le16(w, remaining);
  put_le16(w, 0), put_le16(w, static_cast<uint32_t>(data.size())), put_le16(w, 32 + 1 + 24 + 2);
  return smb1(0x2f, w, data, mid);
}

// TRANSACTION (TransactNmPipe on kFid) announcing `total` bytes and carrying `data`.
Bytes transact(uint16_t total, const Bytes& data, uint16_t mid) {
  Bytes w = trans_words({0x26, kFid});
  w[2] = static_cast<uint8_t>(total), w[3] = static_cast<uint8_t>(total >> 8);
  w[22] = static_cast<uint8_t>(data.size()), w[23] = static_cast<uint8_t>(data.size() >> 8);
  w[24] = static_cast<uint8_t>(32 + 1 + w.size() + 2);
  return smb1(0x25, w, data, mid);
}

// `first` (an AndX command, its AndXCommand already naming WRITE_ANDX) with `write`'s command
// block chained after it: the AndX offset pointed at the block, the block's DataOffset at its data.
Bytes chain_write(Bytes first, const Bytes& write) {
  const size_t andx_at = first.size();
  first[32 + 3] = static_cast<uint8_t>(andx_at), first[32 + 4] = static_cast<uint8_t>(andx_at >> 8);
  append(first, Bytes(write.begin() + 32, write.end()));
  const size_t offset_at = andx_at + 1 + 22, data_at = andx_at + 1 + 24 + 2;
  first[offset_at] = static_cast<uint8_t>(data_at), first[offset_at + 1] = static_cast<uint8_t>(data_at >> 8);
  return first;
}

Bytes trans_secondary(uint16_t total, uint16_t disp, const Bytes& data, uint16_t mid) {
  Bytes w(16, 0);
  w[2] = static_cast<uint8_t>(total), w[3] = static_cast<uint8_t>(total >> 8);
  w[10] = static_cast<uint8_t>(data.size()), w[11] = static_cast<uint8_t>(data.size() >> 8);
  w[12] = static_cast<uint8_t>(32 + 1 + w.size() + 2);
  w[14] = static_cast<uint8_t>(disp), w[15] = static_cast<uint8_t>(disp >> 8);
  return smb1(0x26, w, data, mid);
}

}  // namespace

TEST(SmbEvasions, APrimaryWithNoDataLeavesThePipeToItsSecondaries) {
  Bytes call = kBind;
  append(call, traversal());
  const auto seen = inspect({transact(static_cast<uint16_t>(call.size()), {}, 7),
                             trans_secondary(static_cast<uint16_t>(call.size()), 0, call, 7)});
  EXPECT_TRUE(seen.has(kSignaturePathCanonicalize));
}

TEST(SmbEvasions, AChainedWriteActsOnTheChainsFile) {
  // WRITE_ANDX(kFid, the bind) with a WRITE_ANDX(0x7777, the call) chained to it: the server
  // writes both to kFid.
  const Bytes chain = chain_write(write_andx(kBind, kFid, 0, 0, 1, 0x2f, 0), write_andx(traversal(), 0x7777));
  EXPECT_TRUE(inspect({chain}).has(kSignaturePathCanonicalize));
}

TEST(SmbEvasions, AWriteChainedToAnOpenIsMalformed) {
  // NT_CREATE_ANDX opening the pipe, a WRITE_ANDX chained to it: the file's FID is the answer's.
  Bytes create_words = {0x2f, 0};
  put_le16(create_words, 0);  // AndXOffset, set below
  create_words.resize(48, 0);
  const auto seen = inspect({chain_write(smb1(0xa2, create_words, {}), write_andx(kBind))});
  ASSERT_FALSE(seen.malformed.empty());
  EXPECT_EQ(seen.malformed[0], &vitrine::netmon::smb::malformed::kChainedToOpen);
}

TEST(SmbEvasions, PiecesOfARawModeMessageAreJoinedBeforeThePipeHasThem) {
  Bytes call = kBind;
  append(call, traversal());
  Bytes first = {0xff, 0xff};
  append(first, Bytes(call.begin(), call.begin() + 30));
  const Bytes rest(call.begin() + 30, call.end());
  const auto whole = static_cast<uint16_t>(call.size());
  // In order: the message, once joined, carries the call.
  EXPECT_TRUE(inspect({write_andx(first, kFid, 0x000c, whole), write_andx(rest, kFid, 0x0004)}).has(kSignaturePathCanonicalize));
  // An ordinary write between the pieces: the server gives the pipe that write first; netmon
  // cannot read the pipe as the server will, which is a fault.
  const auto seen = inspect({write_andx(first, kFid, 0x000c, whole), write_andx(kBind), write_andx(rest, kFid, 0x0004)});
  ASSERT_FALSE(seen.malformed.empty());
  EXPECT_EQ(seen.malformed[0], &vitrine::netmon::smb::malformed::kPieceInMessage);
}

TEST(SmbEvasions, ARawModePieceOnTheMidOfAPendingTransactionIsEternalRomances) {
  // A TRANSACTION waiting for data with MID == the pipe's FID, then a raw-mode piece on that FID
  // (under another MID): srv.sys joins the piece to the transaction.
  EXPECT_TRUE(inspect({transact(400, Bytes(16, 0), kFid), write_andx(Bytes(64, 0x41), kFid, 0x000c, 200, 99)})
                  .has(kSignatureCommandOnPendingTransaction));
  EXPECT_TRUE(inspect({transact(400, Bytes(16, 0), kFid), write_andx(Bytes(64, 0x41), kFid, 0x0004, 0, 99)})
                  .has(kSignatureCommandOnPendingTransaction));
}

TEST(SmbEvasions, TransactionsAreMatchedByThePidsLowHalfAlone) {
  // A second primary whose PID differs only in PIDHigh is, to the server, on the same
  // transaction: another command on a pending one.
  Bytes second = transact(400, Bytes(16, 0), 9);
  second[12] = 1;  // PIDHigh
  EXPECT_TRUE(inspect({transact(400, Bytes(16, 0), 9), second}).has(kSignatureCommandOnPendingTransaction));
}

TEST(SmbEvasions, ARequestFlaggedAsAReplyIsReadAsARequestAndIsMalformed) {
  Bytes call = kBind;
  append(call, traversal());
  Bytes flagged = write_andx(call);
  flagged[9] = 0x98;
  const auto seen2 = inspect({flagged});
  EXPECT_TRUE(seen2.has(kSignaturePathCanonicalize));
  ASSERT_FALSE(seen2.malformed.empty());
  EXPECT_EQ(seen2.malformed[0], &vitrine::netmon::smb::malformed::kReplyFlag);
}

TEST(SmbEvasions, SmbWriteIsReadWhateverItsBufferFormatByte) {
  Bytes call = kBind;
  append(call, traversal());
  Bytes w;
  put_le16(w, kFid), put_le16(w, static_cast<uint32_t>(call.size())), put_le32(w, 0), put_le16(w, 0);
  Bytes b = {0x00};  // not the 0x01 a data block should carry
  put_le16(b, static_cast<uint32_t>(call.size()));
  append(b, call);
  EXPECT_TRUE(inspect({smb1(0x0b, w, b)}).has(kSignaturePathCanonicalize));
}

TEST(SmbEvasions, AContextReboundByAlterContextKeepsWhatItWasBoundTo) {
  // ctx 0 = dssetup, then an alter_context offering lsarpc for ctx 0: the server keeps
  // dssetup, so DsRolerUpgradeDownlevelServer on ctx 0 is still Sasser's call.
  const Uuid lsarpc = {0x78, 0x57, 0x34, 0x12, 0x34, 0x12, 0xcd, 0xab, 0xef, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab};
  Bytes stream = rpc_bind({kDssetupInterface});
  append(stream, rpc_bind({lsarpc}, 14));
  append(stream, rpc_request(0, kOpnumDsRolerUpgradeDownlevelServer, Bytes(32, 0x41)));
  EXPECT_TRUE(inspect({write_andx(stream)}).has(kSignatureDsRoleUpgrade));
}

TEST(SmbEvasions, AnUndefinedIntegerRepresentationIsAFault) {
  Bytes stream = kBind;
  Bytes call = traversal();
  call[4] = 0x30;  // neither 0 (big-endian) nor 1 (little-endian) in the high nibble
  append(stream, call);
  const auto seen = inspect({write_andx(stream)});
  ASSERT_FALSE(seen.malformed.empty());
  EXPECT_EQ(seen.malformed[0], &vitrine::netmon::smb::malformed::kIntegerRepresentation);
}

TEST(SmbEvasions, ASealedSrvsvcPathCallIsCountedBlind) {
  // auth_length 16 and a sec_trailer with auth_level 6 (packet privacy): the stub is encrypted.
  Bytes call = traversal();
  Bytes trailer = {10, 6, 0, 0};
  put_le32(trailer, 0);
  append(call, trailer);
  append(call, Bytes(16, 0));
  call[8] = static_cast<uint8_t>(call.size()), call[9] = static_cast<uint8_t>(call.size() >> 8);
  call[10] = 16;
  Bytes stream = kBind;
  append(stream, call);
  const auto seen = inspect({write_andx(stream)});
  EXPECT_TRUE(seen.blind);
  EXPECT_TRUE(seen.signatures.empty()) << "a sealed stub is not read";
}

TEST(SmbEvasions, AWriteUnderAnotherTreeOrUserIsNotThePipes) {
  // A write naming the pipe's FID under another TID (or UID) is refused by the server: its
  // bytes (a header whose length would swallow the next writes) must not reach the pipe netmon reads.
  Bytes fake = rpc_pdu(11, kFirstFrag | kLastFrag, 1, Bytes(12, 0));
  fake[8] = 0xff, fake[9] = 0x0f;  // frag_length 4095
  fake.resize(28);
  for (const size_t field : {size_t{24}, size_t{28}}) {  // TID, UID
    Bytes other = write_andx(fake);
    other[field] = 5;
    Bytes call = kBind;
    append(call, traversal());
    EXPECT_TRUE(inspect({other, write_andx(call)}).has(kSignaturePathCanonicalize)) << field;
  }
}

TEST(SmbEvasions, AWriteWithAWordCountTheServerRefusesIsMalformed) {
  Bytes w = write_andx(kBind);
  Bytes words(w.begin() + 33, w.begin() + 33 + 24);
  words.resize(26, 0);  // 13 words: neither 12 nor 14
  const auto seen = inspect({smb1(0x2f, words, kBind)});
  ASSERT_FALSE(seen.malformed.empty());
  EXPECT_EQ(seen.malformed[0], &vitrine::netmon::smb::malformed::kRefusedShape);
}

TEST(SmbEvasions, AReadNamesTheChainsFileAndAWriteChainedAfterItIsMalformed) {
  // READ_ANDX(kFid) then WRITE_ANDX(0x7777): the write would act on kFid, if it ran at all (a
  // read of an empty pipe holds the chain): netmon cannot know what the pipe gets.
  Bytes read_words = {0x2f, 0};
  put_le16(read_words, 0);
  put_le16(read_words, kFid);
  read_words.resize(20, 0);
  const Bytes chain = chain_write(smb1(0x2e, read_words, {}), write_andx(traversal(), 0x7777));
  const auto seen = inspect({write_andx(kBind), chain});
  ASSERT_FALSE(seen.malformed.empty());
  EXPECT_EQ(seen.malformed[0], &vitrine::netmon::smb::malformed::kChainedAfterWait);
}

TEST(SmbEvasions, ABindWhoseFirstWriteIsTooShortToTellStillOpensThePipe) {
  // The pipe is first written with something that is no PDU (so not read as RPC), then a bind
  // in two writes, the first of two bytes: the bind opens the conversation all the same.
  Bytes rest(kBind.begin() + 2, kBind.end());
  append(rest, traversal());
  const auto seen = inspect({write_andx(Bytes{0x41, 0x42, 0x43, 0x44}), write_andx(Bytes(kBind.begin(), kBind.begin() + 2)),
                             write_andx(rest)});
  EXPECT_TRUE(seen.has(kSignaturePathCanonicalize));
}

TEST(SmbEvasions, AWriteThePipeNeverHadIsMalformedOnceTheServerRefusesIt) {
  // A write netmon read into an RPC pipe, then the server's refusal of it (an error status, for
  // whatever reason netmon cannot see): the pipe never had those bytes, netmon's view is out of
  // step. A refused write to a file not read as RPC (a full disk) is nothing of the kind.
  SmbInspector inspector;
  InspectionOutput out;
  auto client = [&](const Bytes& m) {
    const Bytes framed = netbios(m);
    inspector.on_bytes(true, framed.data(), framed.size(), 0, out);
  };
  auto server = [&](uint16_t mid, uint32_t status) {
    Bytes reply = smb1(0x2f, Bytes(12, 0), {}, mid, true);
    reply[5] = static_cast<uint8_t>(status), reply[6] = static_cast<uint8_t>(status >> 8);
    reply[7] = static_cast<uint8_t>(status >> 16), reply[8] = static_cast<uint8_t>(status >> 24);
    const Bytes framed = netbios(reply);
    inspector.on_bytes(false, framed.data(), framed.size(), 0, out);
  };
  client(write_andx(kBind, kFid, 0, 0, 4));
  server(4, 0);
  client(write_andx(Bytes{0x41, 0x42, 0x43, 0x44}, 0x5555, 0, 0, 5));  // a file's write
  server(5, 0xc000007f);  // STATUS_DISK_FULL
  client(write_andx(rpc_pdu(0, kFirstFrag, 9, Bytes(8, 0)), kFid, 0, 0, 6));
  server(6, 0x80000005);  // STATUS_BUFFER_OVERFLOW: a warning, not a refusal
  EXPECT_TRUE(out.malformed.empty());
  client(write_andx(rpc_pdu(0, kFirstFrag, 10, Bytes(8, 0)), kFid, 0, 0, 7));
  server(7, 0xc000000d);  // STATUS_INVALID_PARAMETER
  ASSERT_EQ(out.malformed.size(), 1u);
  EXPECT_EQ(out.malformed[0], &vitrine::netmon::smb::malformed::kRefusedPipeWrite);
}
