#include "smb/smb_inspector.h"

#include <algorithm>

#include "smb/smb_attributes.h"

extern "C" {
#include <ndpi/ndpi_protocol_ids.h>
}

namespace vitrine::netmon::smb {

namespace {

// The pipe a write reaches: an SMB1 FID is the server's only under the user and tree it was
// opened in (srv.sys and Samba refuse a FID under another UID or TID), so a write naming the
// FID under others is kept apart from the pipe, as the server keeps it out of it.
uint64_t pipe_key(const SmbMessage& msg, uint64_t pipe) {
  if (msg.version != 1) return pipe;
  return uint64_t{msg.uid} << 48 | uint64_t{msg.tid} << 32 | (pipe & 0xffffffffu) | (pipe & (uint64_t{1} << 62) ? uint64_t{1} << 31 : 0);
}

PipePiece piece_of(const SmbMessage& msg) {
  switch (msg.piece) {
    case SmbMessage::Piece::First: return {PipePiece::Kind::First, msg.message_length};
    case SmbMessage::Piece::Later: return {PipePiece::Kind::Later, 0};
    case SmbMessage::Piece::Whole: break;
  }
  return {};
}

constexpr uint32_t kSeverityError = 0xc0000000;  // an NT status's severity bits: error
constexpr uint8_t kTransaction = 0x25, kTransaction2 = 0x32, kNtTransact = 0xa0, kNtCancel = 0xa4;
constexpr uint16_t kTransPeekNamedPipe = 0x0023, kTrans2SessionSetup = 0x000e;
}  // namespace

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
  std::vector<Frame> frames;
  framer_[dir].feed(data, len, frames);
  std::vector<SmbMessage> messages;
  for (const auto& f : frames) {
    const ParseResult status = parse_frame(f.body(), f.kept(), messages, from_initiator);
    for (const auto& msg : messages) {
      // A server reads what a client sends as a request, whatever its flags: so does netmon,
      // and a request flagged as a reply is no client's.
      if (from_initiator && msg.reply_flag) out.malformed.push_back(&malformed::kReplyFlag);
      if (from_initiator && msg.refused_shape) out.malformed.push_back(&malformed::kRefusedShape);
      from_initiator ? request(msg, out) : answer(msg, out);
    }
    if (status == ParseStatus::Error) out.malformed.push_back(status.reason);
  }
  if (framer_[dir].stopped()) {
    out.malformed.push_back(framer_[dir].fault());  // NetBIOS never ends unfaulted
    done_[dir] = true;
  }
}

InspectorRegistration registration() {
  return {.protocol = "SMB", .block = "smb", .naming = Naming::Provisional, .protocol_of = &protocol_of,
          .patches = {policy::VirtualPatch::Ms17010, policy::VirtualPatch::Ms08067, policy::VirtualPatch::Ms06040,
                      policy::VirtualPatch::Ms04011, policy::VirtualPatch::Ms05039},
          .recognises = &recognises, .create = &create, .malformed = malformed::kAll};
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
  m.attributes.set(&kCommand, msg.command);
  m.attributes.set(&kDialect, dialect_.empty() && msg.version == 1 && msg.command != "NEGOTIATE" ? "SMB1" : dialect_);
  m.attributes.set(&kShare, msg.share);
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
  const bool writes_pipe = msg.pipe_data_cut || !msg.pipe_data.empty() || msg.piece != SmbMessage::Piece::Whole;
  if (!msg.has_transaction && msg.pipe_target && writes_pipe) {
    rpc = pipe_write(pipe_key(msg, msg.pipe_id), msg.pipe_data, msg.pipe_data_cut, out, piece_of(msg));
    await_write(msg, pipe_key(msg, msg.pipe_id));
  }
  if (rpc.signature != nullptr) hit(rpc.patch, rpc.signature);
  if (rpc.blind) {
    m.blinds = rpc.blind;
    m.blind_reason = "sealed-stub";
  }
  out.messages.push_back(std::move(m));
}

const char* SmbInspector::transaction_rules(const SmbMessage& msg, InspectionOutput& out, RpcSignature& rpc) {
  if (!msg.has_transaction) {
    // NT_CANCEL is how a client gives up on a pending request: the one command that may.
    if (msg.command_code != kNtCancel && transactions_.pending(msg, static_cast<uint16_t>(msg.message_id)))
      return kSignatureCommandOnPendingTransaction;
    // The pieces of a raw-mode pipe write are kept by the server as a transaction whose MID is
    // the write's FID (srv.sys's SrvFindTransaction): a pending transaction with that MID is
    // what EternalRomance's pieces are joined to, its type confusion.
    if (msg.piece != SmbMessage::Piece::Whole && transactions_.pending(msg, static_cast<uint16_t>(msg.pipe_id)))
      return kSignatureCommandOnPendingTransaction;
    return nullptr;
  }
  TransactionOutcome t = transactions_.on_request(msg);
  if (t.pipe_write) {
    rpc = pipe_write(pipe_key(msg, t.pipe_id), t.data, t.data_cut, out);
    await_write(msg, pipe_key(msg, t.pipe_id));
  }
  return t.signature;
}

RpcSignature SmbInspector::pipe_write(uint64_t pipe, const std::vector<uint8_t>& data, bool cut, InspectionOutput& out,
                                      const PipePiece& piece) {
  std::vector<RpcCall> calls;
  const MalformedReason* fault = nullptr;
  pipes_.feed(pipe, data.data(), data.size(), cut, calls, fault, piece);
  if (fault != nullptr) out.malformed.push_back(fault);
  RpcSignature signature;
  for (const RpcCall& call : calls) {
    const RpcSignature s = rpc_signature(call);
    if (s.signature != nullptr) signature = s;
    if (s.blind && !signature.blind) signature.blind = s.blind;
  }
  return signature;
}

void SmbInspector::await_write(const SmbMessage& msg, uint64_t pipe) {
  if (msg.version != 1) return;
  if (awaited_writes_.size() >= kMaxAwaitedWrites) awaited_writes_.erase(awaited_writes_.begin());
  awaited_writes_[uint64_t{msg.pid} << 16 | static_cast<uint16_t>(msg.message_id)] = pipe;
}

void SmbInspector::answer(const SmbMessage& msg, InspectionOutput& out) {
  if (msg.version == 1 && msg.response) {
    // A pipe write netmon read, refused by the server: the pipe never had those bytes, so what
    // netmon reads of it from here on is not what the server does.
    const auto it = awaited_writes_.find(uint64_t{msg.pid} << 16 | static_cast<uint16_t>(msg.message_id));
    if (it != awaited_writes_.end()) {
      // Only for a pipe netmon reads as RPC: a file's write the server refuses (a full disk, a
      // read-only share) leaves nothing netmon reads out of step.
      if ((msg.status & kSeverityError) == kSeverityError && pipes_.reading_rpc(it->second))
        out.malformed.push_back(&malformed::kRefusedPipeWrite);
      awaited_writes_.erase(it);
    }
  }
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
