#include "smb/dcerpc.h"

#include <algorithm>
#include <cstring>

#include "vitrine/netmon/byte_order.h"

namespace vitrine::netmon::smb {

namespace {

constexpr size_t kHeader = 16;        // the common header ([C706] 12.6.3.1)
constexpr size_t kRequestHeader = 24;  // + alloc_hint, p_cont_id, opnum
constexpr size_t kSecTrailer = 8;      // before an auth_value ([C706] 13.2.6.1)
constexpr uint8_t kAuthLevelPrivacy = 6;
constexpr uint8_t kRequest = 0, kBind = 11, kAlterContext = 14;
constexpr uint8_t kFirstFrag = 0x01, kLastFrag = 0x02, kObjectUuid = 0x80;

bool little_endian(const uint8_t* pdu) { return (pdu[4] & 0x10) != 0; }
uint16_t u16(const uint8_t* p, bool le) { return le ? le16(p) : static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t u32(const uint8_t* p, bool le) {
  return le ? le32(p) : static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | p[2] << 8 | p[3];
}

// A UUID as little-endian NDR lays it out: its first three fields are integers in the PDU's order.
Uuid uuid_at(const uint8_t* p, bool le) {
  Uuid u;
  std::memcpy(u.data(), p, 16);
  if (!le) {
    std::reverse(u.begin(), u.begin() + 4);
    std::reverse(u.begin() + 4, u.begin() + 6);
    std::reverse(u.begin() + 6, u.begin() + 8);
  }
  return u;
}

// The first bytes of a PDU a client may open a pipe's conversation with.
bool opens_conversation(const uint8_t* p, size_t len, bool bind_only) {
  if (len < 3 || p[0] != 5 || p[1] > 1) return false;
  return p[2] == kBind || (!bind_only && (p[2] == kAlterContext || p[2] == kRequest));
}

}  // namespace

void DceRpcPipe::feed(const uint8_t* data, size_t len, bool cut, std::vector<RpcCall>& calls, const MalformedReason*& fault) {
  if (state_ == State::Faulted || len == 0) return;
  if (state_ == State::NotRpc) {
    // A file's writes, or a pipe not read as RPC: a bind starts a conversation on it, even one
    // whose first write holds fewer bytes than say so.
    if (len < 3 && data[0] == 5 && (len < 2 || data[1] <= 1)) {  // 5, 0 or 1, then the type
      state_ = State::Unknown;
      pending_.assign(data, data + len);
      return;
    }
    if (!opens_conversation(data, len, true)) return;
    state_ = State::Rpc;
    pending_.clear();
  }
  if (state_ == State::Unknown) {
    pending_.insert(pending_.end(), data, data + len);
    if (pending_.size() < 3) return;  // too few bytes to tell
    state_ = opens_conversation(pending_.data(), pending_.size(), false) ? State::Rpc : State::NotRpc;
    if (state_ == State::NotRpc) {
      pending_.clear();
      return;
    }
    data = nullptr;
    len = 0;
  }
  const MalformedReason* problem = cut ? &malformed::kPipeWriteCut : nullptr;
  if (problem == nullptr) {
    pending_.insert(pending_.end(), data, data + len);
    while (problem == nullptr && pending_.size() >= kHeader) {
      if (pending_[0] != 5 || pending_[1] > 1) {
        problem = &malformed::kNotDceRpc;
        break;
      }
      // The integer representation is the data representation's high nibble: 0 big-endian, 1
      // little-endian ([C706] 14.1); a runtime that reads another value one way or the other
      // would see a stub netmon did not.
      if ((pending_[4] >> 4) > 1) {
        problem = &malformed::kIntegerRepresentation;
        break;
      }
      const size_t frag = u16(pending_.data() + 8, little_endian(pending_.data()));
      if (frag < kHeader) {
        problem = &malformed::kRpcShort;
        break;
      }
      if (pending_.size() < frag) break;  // the rest of it comes in a later write
      problem = pdu(pending_.data(), frag, calls);
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(frag));
    }
  }
  if (problem != nullptr) {
    fault = problem;
    state_ = State::Faulted;
    pending_.clear();
    open_calls_.clear();
  }
}

const MalformedReason* DceRpcPipe::pdu(const uint8_t* p, size_t len, std::vector<RpcCall>& calls) {
  const bool le = little_endian(p);
  switch (p[2]) {
    case kBind:
    case kAlterContext: return contexts(p, len, le);
    case kRequest: return request(p, len, le, calls);
    default: return nullptr;  // auth3, cancel, orphaned: nothing a patch reads
  }
}

const MalformedReason* DceRpcPipe::contexts(const uint8_t* p, size_t len, bool le) {
  // max_xmit_frag, max_recv_frag, assoc_group_id, then the context list ([C706] 12.6.4.3).
  if (len < kHeader + 12) return &malformed::kBindShort;
  const size_t count = p[kHeader + 8];
  size_t at = kHeader + 12;
  for (size_t i = 0; i < count; ++i) {
    if (len - at < 24) return &malformed::kBindContexts;
    const uint16_t id = u16(p + at, le);
    const size_t transfer_syntaxes = p[at + 2];
    const Uuid abstract = uuid_at(p + at + 4, le);
    at += 24;
    if (transfer_syntaxes * 20 > len - at) return &malformed::kBindContexts;
    at += transfer_syntaxes * 20;
    // Every interface offered for an id is kept: the server keeps the first it accepted and
    // refuses a change (Samba's check_bind_req, Windows' alike), or accepts a later offer after
    // refusing the first; netmon does not read the answers, so a call on the id is judged as
    // a call on each of them.
    std::vector<Uuid>& offered = contexts_[id];
    if (std::find(offered.begin(), offered.end(), abstract) != offered.end()) continue;
    if (context_entries_ >= kMaxContexts) return &malformed::kContextsOverBound;
    offered.push_back(abstract);
    ++context_entries_;
  }
  return nullptr;
}

const MalformedReason* DceRpcPipe::request(const uint8_t* p, size_t len, bool le, std::vector<RpcCall>& calls) {
  const uint8_t flags = p[3];
  const size_t stub_at = kRequestHeader + ((flags & kObjectUuid) ? 16 : 0);
  const size_t auth = u16(p + 10, le);
  const size_t trailer = auth != 0 ? auth + kSecTrailer : 0;
  if (len < stub_at || len - stub_at < trailer) return &malformed::kRequestPastPdu;
  const uint32_t call_id = u32(p + 12, le);
  auto it = open_calls_.find(call_id);
  if (flags & kFirstFrag) {
    if (it == open_calls_.end() && open_calls_.size() >= kMaxOpenCalls) return &malformed::kCallsOverBound;
    RpcCall call;
    const auto context = contexts_.find(u16(p + 20, le));
    if (context != contexts_.end()) call.interfaces = context->second;
    call.opnum = u16(p + 22, le);
    call.little_endian = le;
    it = open_calls_.insert_or_assign(call_id, std::move(call)).first;
  } else if (it == open_calls_.end()) {
    return &malformed::kOrphanFragment;
  }
  // The sec_trailer's auth_level ([C706] 13.2.6.1): 6, packet privacy, seals the stub.
  if (auth != 0 && p[len - trailer + 1] == kAuthLevelPrivacy) it->second.sealed = true;
  std::vector<uint8_t>& stub = it->second.stub;
  const size_t n = len - stub_at - trailer;
  if (stub.size() + n > kMaxStubBytes) return &malformed::kRequestTooLong;
  stub.insert(stub.end(), p + stub_at, p + stub_at + n);
  if (flags & kLastFrag) {
    calls.push_back(std::move(it->second));
    open_calls_.erase(it);
  }
  return nullptr;
}

void DceRpcPipe::feed_piece(const PipePiece& piece, const uint8_t* data, size_t len, bool cut,
                            std::vector<RpcCall>& calls, const MalformedReason*& fault) {
  if (state_ == State::Faulted) return;
  const MalformedReason* problem = nullptr;
  if (piece.kind == PipePiece::Kind::Whole) {
    if (!in_message_) return feed(data, len, cut, calls, fault);
    problem = &malformed::kPieceInMessage;
  } else if (piece.kind == PipePiece::Kind::First && in_message_) {
    problem = &malformed::kPieceBegunTwice;
  } else if (piece.kind == PipePiece::Kind::Later && !in_message_) {
    problem = &malformed::kPieceNeverBegun;
  } else {
    if (piece.kind == PipePiece::Kind::First && piece.message_length == 0) {
      fault = &malformed::kPieceNoLength;
      state_ = State::Faulted;
      return;
    }
    if (piece.kind == PipePiece::Kind::First) {
      in_message_ = true;
      message_length_ = piece.message_length;
      message_.clear();
    }
    if (cut || message_.size() + len > std::min<size_t>(message_length_, kMaxMessageBytes))
      problem = &malformed::kPiecesTooLong;
    else
      message_.insert(message_.end(), data, data + len);
  }
  if (problem != nullptr) {
    fault = problem;
    state_ = State::Faulted;
    return;
  }
  if (message_.size() < message_length_) return;
  in_message_ = false;
  const std::vector<uint8_t> whole = std::move(message_);
  message_.clear();
  feed(whole.data(), whole.size(), false, calls, fault);
}

void DceRpcPipes::feed(uint64_t pipe, const uint8_t* data, size_t len, bool cut, std::vector<RpcCall>& calls,
                       const MalformedReason*& fault, const PipePiece& piece) {
  auto it = pipes_.find(pipe);
  if (it == pipes_.end()) {
    if (pipes_.size() >= kMaxPipes) {
      fault = &malformed::kPipesOverBound;
      return;
    }
    it = pipes_.emplace(pipe, DceRpcPipe{}).first;
  }
  it->second.feed_piece(piece, data, len, cut, calls, fault);
}

}  // namespace vitrine::netmon::smb
