// SMB1 transactions and the DCE/RPC they carry, through the SMB inspector: the MS17-010
// family's set-up requests each break one of the server's rules; a client's transactions with
// secondaries break none.
#include <gtest/gtest.h>

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

// NDR conformant varying strings, as NetprPathCanonicalize's stub carries them.
Bytes ndr_string(const std::string& s) {
  Bytes b;
  const auto n = static_cast<uint32_t>(s.size() + 1);
  put_le32(b, n), put_le32(b, 0), put_le32(b, n);
  append(b, utf16(s));
  while (b.size() % 4) b.push_back(0);
  return b;
}

std::string signature_after(const std::vector<Bytes>& messages) {
  SmbInspector inspector;
  InspectionOutput out;
  for (const auto& m : messages) {
    const Bytes framed = netbios(m);
    inspector.on_bytes(true, framed.data(), framed.size(), 0, out);
  }
  return out.messages.empty() ? std::string() : out.messages.back().signature;
}

TEST(SmbInspector, TransactionsAreTrackedAsTheServerTracksThem) {
  const auto run = signature_after;
  // TRANSACTION words: totals, counts, the data's offset (2 setup words: data at 67).
  auto trans = [](uint16_t total_data, const Bytes& data, uint16_t mid, std::vector<uint16_t> setup = {0x26, 0x4001}) {
    Bytes w = trans_words(setup);
    w[2] = static_cast<uint8_t>(total_data), w[3] = static_cast<uint8_t>(total_data >> 8);
    w[22] = static_cast<uint8_t>(data.size()), w[23] = static_cast<uint8_t>(data.size() >> 8);
    w[24] = static_cast<uint8_t>(32 + 1 + w.size() + 2);
    return smb1(0x25, w, data, mid);
  };
  // TRANSACTION_SECONDARY (8 words: data at 51), or TRANSACTION2_SECONDARY (9).
  auto secondary = [](uint8_t cmd, uint16_t total_data, uint16_t disp, const Bytes& data, uint16_t mid) {
    Bytes w(cmd == 0x26 ? 16 : 18, 0);
    w[2] = static_cast<uint8_t>(total_data), w[3] = static_cast<uint8_t>(total_data >> 8);
    w[10] = static_cast<uint8_t>(data.size());
    w[12] = static_cast<uint8_t>(32 + 1 + w.size() + 2);
    w[14] = static_cast<uint8_t>(disp), w[15] = static_cast<uint8_t>(disp >> 8);
    return smb1(cmd, w, data, mid);
  };
  const Bytes half(50, 'a');
  // A client's: a primary with half its data, the secondary with the rest.
  EXPECT_EQ(run({trans(100, half, 9), secondary(0x26, 100, 50, half, 9)}), "");
  // Past the totals, after the transaction is whole, or of another kind.
  EXPECT_EQ(run({trans(100, half, 9), secondary(0x26, 100, 80, Bytes(40, 'b'), 9)}), kSignatureSecondaryBeyondTotal);
  EXPECT_EQ(run({trans(100, half, 9), secondary(0x26, 120, 50, half, 9)}), kSignatureSecondaryBeyondTotal) << "totals raised";
  EXPECT_EQ(run({trans(50, half, 9), secondary(0x26, 50, 0, half, 9)}), kSignatureSecondaryWithoutPending);
  EXPECT_EQ(run({trans(100, half, 9, {0x01}), secondary(0x33, 100, 50, half, 9)}), kSignatureSecondaryOtherKind);
  // EternalRomance: a WRITE_ANDX on the MID of a pending transaction; the same on another MID is a client's.
  Bytes write_words = {0xff, 0, 0, 0};
  for (int i = 0; i < 10; ++i) put_le16(write_words, 0);
  EXPECT_EQ(run({trans(100, half, 9), smb1(0x2f, write_words, {}, 9)}), kSignatureCommandOnPendingTransaction);
  EXPECT_EQ(run({trans(100, half, 9), smb1(0x2f, write_words, {}, 10)}), "");
  // Grooming: more transactions left waiting than a client leaves.
  std::vector<Bytes> spray;
  for (uint16_t mid = 1; mid <= TransactionTable::kMaxPending + 1; ++mid) spray.push_back(trans(100, half, mid));
  EXPECT_EQ(run(spray), kSignaturePendingTransactionsOverBound);
  spray.pop_back();
  EXPECT_EQ(run(spray), "");
  // EternalChampion: NT_TRANSACT_RENAME, which Windows does not implement; and the secondary
  // of an NT_TRANSACT already whole (the race on a transaction the server is executing).
  Bytes nt(38, 0);
  nt[36] = 5;
  EXPECT_EQ(run({smb1(0xa0, nt, {0}, 7)}), kSignatureNtTransUnimplemented);
  nt[36] = 1;
  EXPECT_EQ(run({smb1(0xa0, nt, {0}, 7)}), "");
  EXPECT_EQ(run({smb1(0xa0, nt, {0}, 7), smb1(0xa1, Bytes(36, 0), {}, 7)}), kSignatureSecondaryWithoutPending);
}

TEST(SmbInspector, APipeTransactionIsReadAsDceRpcOnceWhole) {
  // A srvsvc bind through TransactNmPipe, then a NetprPathCanonicalize whose PDU is split
  // between a TRANSACTION and its TRANSACTION_SECONDARY: the signature comes with the secondary.
  const Bytes bind = rpc_bind({kSrvsvcInterface}), request = rpc_request(0, 31, utf16("\\A\\..\\..\\n"));
  auto trans = [](uint16_t total_data, const Bytes& data, uint16_t mid) {
    Bytes w = trans_words({0x26, 0x4001});
    w[2] = static_cast<uint8_t>(total_data), w[3] = static_cast<uint8_t>(total_data >> 8);
    w[22] = static_cast<uint8_t>(data.size());
    w[24] = 67;
    return smb1(0x25, w, data, mid);
  };
  const Bytes head(request.begin(), request.begin() + 20), tail(request.begin() + 20, request.end());
  Bytes second(16, 0);
  second[2] = static_cast<uint8_t>(request.size());
  second[10] = static_cast<uint8_t>(tail.size());
  second[12] = 51;
  second[14] = static_cast<uint8_t>(head.size());
  SmbInspector inspector;
  InspectionOutput out;
  for (const Bytes& m : {trans(static_cast<uint16_t>(bind.size()), bind, 3),
                         trans(static_cast<uint16_t>(request.size()), head, 4), smb1(0x26, second, tail, 4)}) {
    const Bytes framed = netbios(m);
    inspector.on_bytes(true, framed.data(), framed.size(), 0, out);
  }
  ASSERT_EQ(out.messages.size(), 3u);
  EXPECT_EQ(out.messages[1].signature, "") << "nothing to read until the transaction is whole";
  EXPECT_EQ(out.messages[2].signature, kSignaturePathCanonicalize);
  EXPECT_TRUE(out.malformed.empty());
}

TEST(SmbInspector, EveryWayOfWritingToAPipeIsRead) {
  const Bytes bind = rpc_bind({kSrvsvcInterface});
  const Bytes call = rpc_request(0, 31, utf16("\\A\\..\\..\\n"));
  // SMB_COM_WRITE: FID, count, offset, remaining; bytes: format 1, length, data.
  auto core_write = [](const Bytes& data) {
    Bytes w;
    put_le16(w, 0x4001), put_le16(w, static_cast<uint32_t>(data.size())), put_le32(w, 0), put_le16(w, 0);
    Bytes b = {0x01};
    put_le16(b, static_cast<uint32_t>(data.size()));
    append(b, data);
    return smb1(0x0b, w, b);
  };
  EXPECT_EQ(signature_after({core_write(bind), core_write(call)}), kSignaturePathCanonicalize);
  // WRITE_ANDX in raw mode at a message's start, as impacket writes one: Remaining is the
  // message's length, and the data's first two bytes (0xffff) are dropped by the server.
  auto raw_write = [](const Bytes& data) {
    Bytes prefixed;
    put_le16(prefixed, 0xffff);
    append(prefixed, data);
    Bytes w = {0xff, 0, 0, 0};
    put_le16(w, 0x4001), put_le32(w, 0), put_le32(w, 0), put_le16(w, 0x000c), put_le16(w, static_cast<uint32_t>(data.size())),
        put_le16(w, 0);
    put_le16(w, static_cast<uint32_t>(prefixed.size())), put_le16(w, 59);
    return smb1(0x2f, w, prefixed);
  };
  EXPECT_EQ(signature_after({raw_write(bind), raw_write(call)}), kSignaturePathCanonicalize);
}

TEST(SmbInspector, AContextBoundToSrvsvcStaysSrvsvcs) {
  // A later bind entry, or an alter_context, naming context 0 with an interface the server
  // rejects: the server keeps srvsvc there, and so does the reader.
  const Uuid other = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};
  DceRpcPipes pipes;
  std::vector<RpcCall> calls;
  const vitrine::netmon::MalformedReason* fault = nullptr;
  const Bytes alter = rpc_bind({other}, 14);
  Bytes stream = rpc_bind({kSrvsvcInterface});
  append(stream, alter);
  append(stream, rpc_request(0, 31, utf16("\\A\\..\\n")));
  pipes.feed(1, stream.data(), stream.size(), false, calls, fault);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_STREQ(ms08_067_signature(calls[0]), kSignaturePathCanonicalize);
}

TEST(SmbInspector, APathLongerThanMaxPathIsMs06040) {
  auto stub = [](const std::string& path, const std::string& prefix) {
    Bytes s;
    put_le32(s, 0x20000);  // ServerName's referent
    append(s, ndr_string("\\\\console"));
    append(s, ndr_string(path));
    put_le32(s, 1000);  // OutbufLen
    append(s, ndr_string(prefix));
    put_le32(s, 0), put_le32(s, 0);
    return s;
  };
  RpcCall call;
  call.opnum = 31;
  call.stub = stub(std::string(kMaxPathChars + 1, 'A'), "\\");
  EXPECT_STREQ(ms06_040_signature(call), kSignatureLongPath);
  call.stub = stub("\\share\\dir", std::string(300, 'B'));
  EXPECT_STREQ(ms06_040_signature(call), kSignatureLongPath) << "a long prefix";
  call.stub = stub(std::string(kMaxPathChars - 1, 'A'), "\\");
  EXPECT_EQ(ms06_040_signature(call), nullptr);
  call.stub.resize(20);  // cut inside the path: nothing to tell, no guess
  EXPECT_EQ(ms06_040_signature(call), nullptr);
}

}  // namespace
