// DCE/RPC over a named pipe on byte arrays: PDUs joined across writes, requests joined across
// fragments, every context of a bind and an alter_context, and the MS08-067 signature on the
// joined stub; then what makes a pipe's stream unreadable, each a fault, never a silent pass.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dcerpc_bytes.h"
#include "packet_bytes.h"
#include "smb/dcerpc.h"
#include "smb/smb_inspector.h"

using namespace vitrine::netmon::smb;
using vitrine::testing::append;
using vitrine::testing::Bytes;
using vitrine::testing::put_le16;
using vitrine::testing::put_le32;
using namespace vitrine::testing::dcerpc_bytes;

namespace {

const Uuid kOther = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

Bytes utf16(const std::string& s) {
  Bytes b;
  for (char c : s) append(b, {static_cast<uint8_t>(c), 0});
  return b;
}

const Bytes kTraversal = utf16("\\AAAA\\..\\..\\n");

std::vector<RpcCall> feed(DceRpcPipes& pipes, const Bytes& stream, size_t piece, const vitrine::netmon::MalformedReason** fault = nullptr) {
  std::vector<RpcCall> calls;
  const vitrine::netmon::MalformedReason* f = nullptr;
  for (size_t at = 0; at < stream.size(); at += piece)
    pipes.feed(7, stream.data() + at, std::min(piece, stream.size() - at), false, calls, f);
  if (fault) *fault = f;
  return calls;
}

}  // namespace

TEST(DceRpcPipe, PdusAreJoinedAcrossWritesAndFragmentsAcrossPdus) {
  // srvsvc not first among the contexts, the request in two fragments, written in pieces of
  // every size: one call, on srvsvc, its stub whole.
  Bytes stream = rpc_bind({kOther, kSrvsvcInterface});
  const Bytes head(kTraversal.begin(), kTraversal.begin() + 9), tail(kTraversal.begin() + 9, kTraversal.end());
  append(stream, rpc_request(1, 31, head, kFirstFrag));
  append(stream, rpc_request(1, 31, tail, kLastFrag));
  for (size_t piece : {size_t{1}, size_t{3}, size_t{17}, stream.size()}) {
    DceRpcPipes pipes;
    const vitrine::netmon::MalformedReason* fault = nullptr;
    const auto calls = feed(pipes, stream, piece, &fault);
    EXPECT_EQ(fault, nullptr);
    ASSERT_EQ(calls.size(), 1u) << piece;
    EXPECT_EQ(calls[0].interfaces, std::vector<Uuid>{kSrvsvcInterface});
    EXPECT_EQ(calls[0].stub, kTraversal);
    EXPECT_STREQ(ms08_067_signature(calls[0]), kSignaturePathCanonicalize) << piece;
  }
}

TEST(DceRpcPipe, AnAlterContextNamesItsInterfacesToo) {
  Bytes stream = rpc_bind({kOther});
  append(stream, rpc_bind({kOther, kSrvsvcInterface}, 14));
  append(stream, rpc_request(1, 32, kTraversal));
  DceRpcPipes pipes;
  const auto calls = feed(pipes, stream, stream.size());
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_STREQ(ms08_067_signature(calls[0]), kSignaturePathCompare);
  // On another interface, or a path that does not climb out, no signature; a context no
  // bind named may be srvsvc, and is read as it.
  Bytes other = rpc_bind({kOther});
  append(other, rpc_request(0, 31, kTraversal));
  append(other, rpc_request(1, 31, utf16("\\AAAA\\x\\..n")));
  append(other, rpc_request(5, 31, utf16("/AAAA/../../n")));
  Bytes trailing = utf16("\\AAAA\\..");
  append(trailing, {0, 0});  // its NUL
  append(other, rpc_request(5, 31, trailing));
  DceRpcPipes fresh;
  const auto more = feed(fresh, other, 5);
  ASSERT_EQ(more.size(), 4u);
  EXPECT_EQ(ms08_067_signature(more[0]), nullptr);
  EXPECT_EQ(ms08_067_signature(more[1]), nullptr);
  EXPECT_STREQ(ms08_067_signature(more[2]), kSignaturePathCanonicalize);
  EXPECT_STREQ(ms08_067_signature(more[3]), kSignaturePathCanonicalize) << "a trailing \\.. climbs too";
}

TEST(DceRpcPipe, WhatCannotBeReadIsAFault) {
  struct Case {
    Bytes stream;
    const vitrine::netmon::MalformedReason* fault;
  };
  Bytes orphan = rpc_bind({kSrvsvcInterface});
  append(orphan, rpc_request(0, 31, kTraversal, kLastFrag));
  Bytes too_long = rpc_bind({kSrvsvcInterface});
  for (uint32_t i = 0; i * 60000 <= DceRpcPipe::kMaxStubBytes; ++i)
    append(too_long, rpc_request(0, 31, Bytes(60000, 'A'), i == 0 ? kFirstFrag : 0));
  Bytes open_calls = rpc_bind({kSrvsvcInterface});
  for (uint32_t i = 0; i <= DceRpcPipe::kMaxOpenCalls; ++i) append(open_calls, rpc_request(0, 31, {1}, kFirstFrag, i));
  Bytes junk = rpc_bind({kSrvsvcInterface});
  append(junk, Bytes(20, 0x41));
  Bytes short_bind = rpc_pdu(11, 3, 1, {0, 0});
  const std::vector<Case> cases = {
      {orphan, &vitrine::netmon::smb::malformed::kOrphanFragment},
      {too_long, &vitrine::netmon::smb::malformed::kRequestTooLong},
      {open_calls, &vitrine::netmon::smb::malformed::kCallsOverBound},
      {junk, &vitrine::netmon::smb::malformed::kNotDceRpc},
      {short_bind, &vitrine::netmon::smb::malformed::kBindShort},
  };
  for (const auto& c : cases) {
    DceRpcPipes pipes;
    const vitrine::netmon::MalformedReason* fault = nullptr;
    feed(pipes, c.stream, 1000, &fault);
    EXPECT_EQ(fault, c.fault);
  }
  // A write cut short on an RPC pipe; the same on a pipe that is not RPC (a file) is nothing.
  DceRpcPipes pipes;
  std::vector<RpcCall> calls;
  const vitrine::netmon::MalformedReason* fault = nullptr;
  const Bytes b = rpc_bind({kSrvsvcInterface}), text = {'f', 'i', 'l', 'e', ' ', 'd', 'a', 't', 'a'};
  pipes.feed(1, text.data(), text.size(), true, calls, fault);
  pipes.feed(1, text.data(), text.size(), false, calls, fault);
  EXPECT_EQ(fault, nullptr);
  pipes.feed(2, b.data(), b.size(), false, calls, fault);
  pipes.feed(2, b.data(), 10, true, calls, fault);
  EXPECT_EQ(fault, &vitrine::netmon::smb::malformed::kPipeWriteCut);
}

TEST(DceRpcPipe, ABindStartsAConversationOnAPipeThatWasNotRpc) {
  DceRpcPipes pipes;
  std::vector<RpcCall> calls;
  const vitrine::netmon::MalformedReason* fault = nullptr;
  const Bytes text = {'h', 'e', 'l', 'l', 'o'};
  Bytes stream = rpc_bind({kSrvsvcInterface});
  append(stream, rpc_request(0, 31, kTraversal));
  pipes.feed(9, text.data(), text.size(), false, calls, fault);
  pipes.feed(9, stream.data(), stream.size(), false, calls, fault);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_STREQ(ms08_067_signature(calls[0]), kSignaturePathCanonicalize);
}

TEST(DceRpcPipe, APipeOverTheBoundIsAFaultAndNoPipeIsForgotten) {
  // Forgetting a pipe would forget its binds: a later call on it would be read on no interface
  // (Sasser's and Zotob's signatures need theirs). One pipe too many is a fault instead.
  DceRpcPipes pipes;
  std::vector<RpcCall> calls;
  const vitrine::netmon::MalformedReason* fault = nullptr;
  Bytes first = rpc_bind({kDssetupInterface});
  append(first, rpc_request(0, kOpnumDsRolerUpgradeDownlevelServer, Bytes(8, 0x41), kFirstFrag));
  pipes.feed(1, first.data(), first.size(), false, calls, fault);
  const Bytes other = rpc_bind({kOther});
  for (uint64_t pipe = 2; pipe <= DceRpcPipes::kMaxPipes; ++pipe) pipes.feed(pipe, other.data(), other.size(), false, calls, fault);
  EXPECT_EQ(fault, nullptr);
  pipes.feed(DceRpcPipes::kMaxPipes + 1, other.data(), other.size(), false, calls, fault);
  EXPECT_EQ(fault, &vitrine::netmon::smb::malformed::kPipesOverBound);
  fault = nullptr;
  const Bytes rest = rpc_request(0, kOpnumDsRolerUpgradeDownlevelServer, Bytes(8, 0x41), kLastFrag);
  pipes.feed(1, rest.data(), rest.size(), false, calls, fault);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_STREQ(rpc_signature(calls[0]).signature, kSignatureDsRoleUpgrade);
}

TEST(RpcSignatures, SassersAndZotobsCallsAreKnownByInterfaceAndOperation) {
  // dssetup's DsRolerUpgradeDownlevelServer (MS04-011) and Plug and Play's
  // PNP_QueryResConfList (MS05-039), each on a context a bind named; the same operation number
  // on another interface, and another operation on theirs, are no attack.
  Bytes stream = rpc_bind({kOther, kDssetupInterface, kPnpInterface});
  append(stream, rpc_request(1, kOpnumDsRolerUpgradeDownlevelServer, utf16(std::string(2000, 'A')), kFirstFrag | kLastFrag, 2));
  append(stream, rpc_request(2, kOpnumPnpQueryResConfList, utf16("ROOT\\ACPI\\0000"), kFirstFrag | kLastFrag, 3));
  append(stream, rpc_request(0, kOpnumDsRolerUpgradeDownlevelServer, Bytes(16, 0), kFirstFrag | kLastFrag, 4));
  append(stream, rpc_request(1, 0, Bytes(16, 0), kFirstFrag | kLastFrag, 5));  // DsRolerGetPrimaryDomainInformation
  append(stream, rpc_request(0, kOpnumPnpQueryResConfList, Bytes(16, 0), kFirstFrag | kLastFrag, 6));
  DceRpcPipes pipes;
  const auto calls = feed(pipes, stream, 64);
  ASSERT_EQ(calls.size(), 5u);
  EXPECT_EQ(rpc_signature(calls[0]).patch, vitrine::policy::VirtualPatch::Ms04011);
  EXPECT_STREQ(rpc_signature(calls[0]).signature, kSignatureDsRoleUpgrade);
  EXPECT_EQ(rpc_signature(calls[1]).patch, vitrine::policy::VirtualPatch::Ms05039);
  EXPECT_STREQ(rpc_signature(calls[1]).signature, kSignaturePnpQueryResConfList);
  for (size_t i = 2; i < calls.size(); ++i) EXPECT_EQ(rpc_signature(calls[i]).signature, nullptr) << i;
  // A context no bind on the pipe named may be any interface: an operation number alone is no
  // attack (unlike srvsvc's traversal, whose stub says what it is).
  RpcCall unbound;
  unbound.opnum = kOpnumDsRolerUpgradeDownlevelServer;
  EXPECT_EQ(rpc_signature(unbound).signature, nullptr);
}
