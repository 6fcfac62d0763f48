#include "smb/smb_inspector.h"

#include <algorithm>

extern "C" {
#include <ndpi/ndpi_protocol_ids.h>
}

namespace vitrine::netmon::smb {

namespace {
constexpr uint8_t kTransaction = 0x25, kTransaction2 = 0x32, kNtTransact = 0xa0, kNtCancel = 0xa4;
constexpr uint16_t kTransPeekNamedPipe = 0x0023, kTrans2SessionSetup = 0x000e;
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
  if (call.opnum == SmbInspector::kOpnumNetprPathCanonicalize) at += 4;  // OutbufLen
  string();  // the prefix, or the second path
  return lengths;
}

}  // namespace

// A srvsvc path longer than MAX_PATH: NetpwPathCanonicalize copies it into a fixed buffer
// (MS06-040's stack overflow; no client has a longer path to canonicalise).
const char* ms06_040_signature(const RpcCall& call) {
  if (call.interface && *call.interface != kSrvsvcInterface) return nullptr;
  if (call.opnum != SmbInspector::kOpnumNetprPathCanonicalize && call.opnum != SmbInspector::kOpnumNetprPathCompare)
    return nullptr;
  for (const uint32_t chars : path_lengths(call))
    if (chars > SmbInspector::kMaxPathChars) return kSignatureLongPath;
  return nullptr;
}

// A whole srvsvc request (or one on a context no bind on the pipe named: it may be srvsvc)
// whose path climbs out: what MS08-067's exploits and nmap's check send.
const char* ms08_067_signature(const RpcCall& call) {
  if (call.interface && *call.interface != kSrvsvcInterface) return nullptr;
  if (call.opnum != SmbInspector::kOpnumNetprPathCanonicalize && call.opnum != SmbInspector::kOpnumNetprPathCompare)
    return nullptr;
  if (!has_path_traversal(call.stub, call.little_endian)) return nullptr;
  return call.opnum == SmbInspector::kOpnumNetprPathCanonicalize ? kSignaturePathCanonicalize : kSignaturePathCompare;
}

Recognition recognises(const uint8_t* payload, size_t len) { return looks_like_smb(payload, len); }

policy::L7Facts protocol_of(const uint8_t* payload, size_t len) {
  skip_session_service(payload, len);
  if (len > 4 && payload[0] == 0x00)
    return {NDPI_PROTOCOL_NETBIOS, payload[4] == 0xff ? uint16_t{NDPI_PROTOCOL_SMBV1} : uint16_t{NDPI_PROTOCOL_SMBV23}};
  return {0, NDPI_PROTOCOL_NETBIOS};
}

std::unique_ptr<Inspector> create(std::string_view) { return std::make_unique<SmbInspector>(); }

void SmbInspector::on_bytes(bool from_initiator, const uint8_t* data, size_t len, uint64_t,
                            InspectionOutput& out) {
  const size_t dir = from_initiator ? 0 : 1;
  if (done_[dir]) return;
  std::vector<NetbiosFramer::Frame> frames;
  const char* fault = nullptr;
  framer_[dir].feed(data, len, frames, fault);
  std::vector<SmbMessage> messages;
  for (const auto& f : frames) {
    const ParseStatus status = parse_frame(f.head.data(), f.head.size(), messages);
    for (const auto& msg : messages) from_initiator && !msg.response ? request(msg, out) : answer(msg, out);
    if (status == ParseStatus::Error) out.malformed.push_back("a NetBIOS message that is not SMB");
    if (status == ParseStatus::BadChain)
      out.malformed.push_back("a chain of SMB commands that loops, goes past what is read of its message, or is too long");
  }
  if (fault != nullptr) {
    out.malformed.push_back(fault);
    done_[dir] = true;
  }
}

void SmbInspector::request(const SmbMessage& msg, InspectionOutput& out) {
  request_seen_ = true;
  InspectedMessage m;
  m.type = msg.command;
  if (msg.version == 3) {  // encrypted: nothing to judge or match; the session was judged before
    m.judge = false;
    out.messages.push_back(std::move(m));
    return;
  }
  using policy::Attr;
  m.attributes.set(Attr::SmbCommand, msg.command);
  m.attributes.set(Attr::SmbDialect, dialect_.empty() && msg.version == 1 && msg.command != "NEGOTIATE" ? "SMB1" : dialect_);
  m.attributes.set(Attr::SmbShare, msg.share);
  if (msg.version == 1 && msg.command_code == 0x72) offered_ = msg.offered_dialects;
  auto hit = [&](policy::VirtualPatch patch, const char* signature) {
    m.patch = patch;
    m.signature = signature;
  };
  // The transaction rules first: where an older signature also matches (EternalBlue's), its id stands.
  RpcSignature rpc;
  if (msg.version == 1) {
    if (const char* s = transaction_rules(msg, out, rpc)) hit(policy::VirtualPatch::Ms17010, s);
    if (msg.command_code == kTransaction && msg.has_trans_setup && msg.trans_subcommand == kTransPeekNamedPipe &&
        msg.trans_fid == 0)
      hit(policy::VirtualPatch::Ms17010, kSignaturePeekNamedPipe);
    if (msg.command_code == kTransaction2 && msg.has_trans_setup && msg.trans_subcommand == kTrans2SessionSetup)
      hit(policy::VirtualPatch::Ms17010, kSignatureTrans2SessionSetup);
    if (msg.command_code == kNtTransact && msg.has_transaction && msg.transaction.total_data > kMaxPlausibleNtTransData)
      hit(policy::VirtualPatch::Ms17010, kSignatureNtTransOversized);
  }
  if (!msg.has_transaction && (!msg.pipe_data.empty() || msg.pipe_data_cut))
    rpc = pipe_write(msg.pipe_id, msg.pipe_data, msg.pipe_data_cut, out);
  if (rpc.signature != nullptr) hit(rpc.patch, rpc.signature);
  out.messages.push_back(std::move(m));
}

const char* SmbInspector::transaction_rules(const SmbMessage& msg, InspectionOutput& out, RpcSignature& rpc) {
  if (!msg.has_transaction) {
    // NT_CANCEL is how a client gives up on a pending request: the one command that may.
    return msg.command_code != kNtCancel && transactions_.pending(msg) ? kSignatureCommandOnPendingTransaction : nullptr;
  }
  TransactionOutcome t = transactions_.on_request(msg);
  if (t.pipe_write) rpc = pipe_write(t.pipe_id, t.data, t.data_cut, out);
  return t.signature;
}

SmbInspector::RpcSignature SmbInspector::pipe_write(uint64_t pipe, const std::vector<uint8_t>& data, bool cut, InspectionOutput& out) {
  std::vector<RpcCall> calls;
  const char* fault = nullptr;
  pipes_.feed(pipe, data.data(), data.size(), cut, calls, fault);
  if (fault != nullptr) out.malformed.push_back(fault);
  RpcSignature signature;
  for (const RpcCall& call : calls) {
    if (const char* s = ms06_040_signature(call)) signature = {policy::VirtualPatch::Ms06040, s};
    if (const char* s = ms08_067_signature(call)) signature = {policy::VirtualPatch::Ms08067, s};
  }
  return signature;
}

void SmbInspector::answer(const SmbMessage& msg, InspectionOutput& out) {
  if (msg.version == 1 && msg.command_code == 0x72 && msg.dialect_index >= 0 &&
      static_cast<size_t>(msg.dialect_index) < offered_.size()) {
    const std::string& chosen = offered_[static_cast<size_t>(msg.dialect_index)];
    if (chosen == "NT LM 0.12" || chosen == "NT LANMAN 1.0") dialect_ = "SMB1";
    else if (chosen == "SMB 2.002") dialect_ = "2.0.2";
  } else if (msg.version == 2 && !msg.dialect.empty()) {
    dialect_ = msg.dialect;
  }
  InspectedMessage m;
  m.from_initiator = false;
  m.judge = false;
  m.type = msg.command;
  if (msg.version == 1 && msg.response && msg.command_code == kTransaction2 && msg.message_id == kDoublePulsarAnswerMid) {
    m.patch = policy::VirtualPatch::Ms17010;
    m.signature = kSignatureDoublePulsarAnswer;
  }
  out.messages.push_back(std::move(m));
}

}  // namespace vitrine::netmon::smb
