#include "smb/rpc_signatures.h"

namespace vitrine::netmon::smb {

namespace {

// A separator, "..", then a separator or the string's end (NUL, or the stub's), as UTF-16 in
// the stub's byte order: a path that climbs out of where NetpwPathCanonicalize's buffer begins.
// Both separators, as Windows reads both.
bool has_path_traversal(const std::vector<uint8_t>& stub, bool little_endian) {
  const size_t lo = little_endian ? 0 : 1;
  auto wchar = [&](size_t i, char c) { return stub[i + lo] == static_cast<uint8_t>(c) && stub[i + 1 - lo] == 0; };
  auto separator = [&](size_t i) { return wchar(i, '\\') || wchar(i, '/'); };
  for (size_t i = 0; i + 6 <= stub.size(); ++i)  // every offset: NDR aligns strings, a crafted stub need not
    if (separator(i) && wchar(i + 2, '.') && wchar(i + 4, '.') &&
        (i + 8 > stub.size() || separator(i + 6) || wchar(i + 6, '\0')))
      return true;
  return false;
}

// The character counts of the strings a NetprPathCanonicalize (ServerName, PathName,
// OutbufLen, Prefix) or NetprPathCompare (ServerName, PathName1, PathName2) request carries,
// read as NDR ([C706] 14): a unique pointer's referent, then conformant varying strings
// (maximum, offset, actual count, the characters, padding to 4). Empty if the stub is shorter.
std::vector<uint32_t> path_lengths(const RpcCall& call) {
  const std::vector<uint8_t>& s = call.stub;
  auto u32 = [&](size_t at) {
    return call.little_endian ? uint32_t{s[at]} | uint32_t{s[at + 1]} << 8 | uint32_t{s[at + 2]} << 16 | uint32_t{s[at + 3]} << 24
                              : uint32_t{s[at]} << 24 | uint32_t{s[at + 1]} << 16 | uint32_t{s[at + 2]} << 8 | s[at + 3];
  };
  size_t at = 0;
  std::vector<uint32_t> lengths;
  auto string = [&]() {
    if (s.size() < at + 12) return false;
    const uint32_t count = u32(at + 8);
    if (count > (s.size() - at - 12) / 2) return false;
    lengths.push_back(count);
    at += 12 + ((size_t{count} * 2 + 3) & ~size_t{3});
    return true;
  };
  if (s.size() < 4) return {};
  const bool server_name = u32(0) != 0;
  at = 4;
  if (server_name && !string()) return {};
  lengths.clear();  // the server's name is not a path
  if (!string()) return {};
  if (call.opnum == kOpnumNetprPathCanonicalize) at += 4;  // OutbufLen
  string();  // the prefix, or the second path
  return lengths;
}

// A call that may be srvsvc's: one on a context bound to it, or on one no bind named (netmon
// may have missed the bind; srvsvc's signatures read the stub, which says what it is).
bool may_be_srvsvc(const RpcCall& call) { return call.interfaces.empty() || call.may_be(kSrvsvcInterface); }

bool path_operation(const RpcCall& call) {
  return call.opnum == kOpnumNetprPathCanonicalize || call.opnum == kOpnumNetprPathCompare;
}

}  // namespace

// A srvsvc path longer than MAX_PATH: NetpwPathCanonicalize copies it into a fixed buffer
// (MS06-040's stack overflow; no client has a longer path to canonicalise).
const char* ms06_040_signature(const RpcCall& call) {
  if (!may_be_srvsvc(call) || call.sealed) return nullptr;
  if (!path_operation(call)) return nullptr;
  for (const uint32_t chars : path_lengths(call))
    if (chars > kMaxPathChars) return kSignatureLongPath;
  return nullptr;
}

// A whole srvsvc request (or one on a context no bind on the pipe named: it may be srvsvc)
// whose path climbs out: what MS08-067's exploits and nmap's check send.
const char* ms08_067_signature(const RpcCall& call) {
  if (!may_be_srvsvc(call) || call.sealed) return nullptr;
  if (!path_operation(call)) return nullptr;
  if (!has_path_traversal(call.stub, call.little_endian)) return nullptr;
  return call.opnum == kOpnumNetprPathCanonicalize ? kSignaturePathCanonicalize : kSignaturePathCompare;
}

// DsRolerUpgradeDownlevelServer: the call by which Sasser overflows LSASS's log buffer
// (MS04-011). It serves only a Windows NT 4 domain controller's upgrade, which no cabinet is.
const char* ms04_011_signature(const RpcCall& call) {
  return call.may_be(kDssetupInterface) && call.opnum == kOpnumDsRolerUpgradeDownlevelServer
             ? kSignatureDsRoleUpgrade
             : nullptr;
}

// PNP_QueryResConfList: the call by which Zotob overflows the Plug and Play service (MS05-039).
// Nothing manages a cabinet's devices from the network.
const char* ms05_039_signature(const RpcCall& call) {
  return call.may_be(kPnpInterface) && call.opnum == kOpnumPnpQueryResConfList
             ? kSignaturePnpQueryResConfList
             : nullptr;
}

RpcSignature rpc_signature(const RpcCall& call) {
  // Most specific last: a srvsvc call both too long and climbing out is MS08-067's.
  RpcSignature out;
  // A sealed srvsvc path call: what its path is cannot be read (the operation can: it is in
  // the clear header). The patches that read the path are blind to it.
  if (call.sealed && may_be_srvsvc(call) && path_operation(call)) out.blind = policy::VirtualPatch::Ms08067;
  if (const char* s = ms06_040_signature(call)) out.patch = policy::VirtualPatch::Ms06040, out.signature = s;
  if (const char* s = ms08_067_signature(call)) out.patch = policy::VirtualPatch::Ms08067, out.signature = s;
  if (const char* s = ms04_011_signature(call)) out.patch = policy::VirtualPatch::Ms04011, out.signature = s;
  if (const char* s = ms05_039_signature(call)) out.patch = policy::VirtualPatch::Ms05039, out.signature = s;
  return out;
}

}  // namespace vitrine::netmon::smb
