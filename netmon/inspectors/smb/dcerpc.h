// DCE/RPC over named pipes ([C706] 12, [MS-RPCE] 2.2.2) as the server's RPC runtime reads it:
// the bytes a client writes to one pipe are one stream of PDUs, whatever the writes' sizes; a
// request's stub is joined from its fragments (first and last flags); every presentation
// context of a bind and of an alter_context names the interface its requests reach. What a
// virtual patch reads is the joined stub of a request and the interface of its context.
// Pure: no I/O, no logging; every length is checked against the bytes given.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "smb/smb_malformed.h"

namespace vitrine::netmon::smb {

using Uuid = std::array<uint8_t, 16>;  // as little-endian NDR lays it out

// The server service's interface, where MS08-067 and MS06-040 live ([MS-SRVS]).
inline constexpr Uuid kSrvsvcInterface = {0xc8, 0x4f, 0x32, 0x4b, 0x70, 0x16, 0xd3, 0x01,
                                          0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88};

// One whole request: the interfaces its context may be bound to (every one a bind or an
// alter_context on this pipe offered for the context id: the server holds one of them, and
// which depends on answers netmon does not judge; none if no bind named the id), its operation
// and its stub, joined from every fragment.
struct RpcCall {
  std::vector<Uuid> interfaces;
  uint16_t opnum = 0;
  bool little_endian = true;  // the stub's byte order (NDR data representation)
  bool sealed = false;        // authenticated with packet privacy: the stub is encrypted
  std::vector<uint8_t> stub;
  bool may_be(const Uuid& i) const { return std::find(interfaces.begin(), interfaces.end(), i) != interfaces.end(); }
};

// How a write carries a pipe message: whole, or as a piece of one the server joins before the
// pipe has it (SMB1 WRITE_ANDX in raw mode: the first piece says the message's length).
struct PipePiece {
  enum class Kind : uint8_t { Whole, First, Later };
  Kind kind = Kind::Whole;
  uint32_t message_length = 0;
};

// The PDUs a client writes to one named pipe.
class DceRpcPipe {
 public:
  // A stub longer than this is not joined: srvsvc's requests are a few hundred bytes, and a
  // client fragments at its max_xmit_frag (4,280 or 5,840 bytes) only what is larger.
  static constexpr size_t kMaxStubBytes = 64 * 1024;
  // Calls being joined at once: a pipe carries one call at a time; a few allow for pipelining.
  static constexpr size_t kMaxOpenCalls = 8;
  // Presentation contexts a pipe's binds may name (each interface offered for an id counts):
  // clients bind one to a few interfaces.
  static constexpr size_t kMaxContexts = 64;
  // A pipe message written in pieces, joined: at most what a stub may be, and its header.
  static constexpr size_t kMaxMessageBytes = kMaxStubBytes + 1024;

  // Feeds one write. `cut`: the write was longer than what was kept of it. Requests it
  // completed are appended to `calls`; `fault` names what made the stream unreadable, after
  // which nothing more of it is read.
  void feed(const uint8_t* data, size_t len, bool cut, std::vector<RpcCall>& calls, const MalformedReason*& fault);
  // Whether netmon reads this pipe as a DCE/RPC conversation (a file's writes are not).
  bool reading_rpc() const { return state_ == State::Rpc || (state_ == State::Unknown && !pending_.empty()); }
  // Feeds a write that is a piece of a message: the pieces are joined, and the message fed
  // once it is whole, as the server gives it to the pipe.
  void feed_piece(const PipePiece& piece, const uint8_t* data, size_t len, bool cut, std::vector<RpcCall>& calls,
                  const MalformedReason*& fault);

 private:
  enum class State : uint8_t { Unknown, Rpc, NotRpc, Faulted };
  const MalformedReason* pdu(const uint8_t* p, size_t len, std::vector<RpcCall>& calls);
  const MalformedReason* contexts(const uint8_t* p, size_t len, bool little_endian);
  const MalformedReason* request(const uint8_t* p, size_t len, bool little_endian, std::vector<RpcCall>& calls);

  State state_ = State::Unknown;
  std::vector<uint8_t> pending_;            // a PDU's bytes so far
  std::map<uint16_t, std::vector<Uuid>> contexts_;  // context id -> every interface offered for it
  size_t context_entries_ = 0;
  std::map<uint32_t, RpcCall> open_calls_;   // call id -> the fragments joined so far
  bool in_message_ = false;                  // pieces of a message being joined
  uint32_t message_length_ = 0;
  std::vector<uint8_t> message_;
};

// A connection's pipes, by the id the SMB reader gives a pipe write (FID, FileId).
class DceRpcPipes {
 public:
  // Pipes a connection writes to: a few. A write to one more is a fault: forgetting a pipe
  // would forget what its binds said, and a later call on it would be read on no interface.
  static constexpr size_t kMaxPipes = 32;
  void feed(uint64_t pipe, const uint8_t* data, size_t len, bool cut, std::vector<RpcCall>& calls,
            const MalformedReason*& fault, const PipePiece& piece = {});
  bool reading_rpc(uint64_t pipe) const {
    const auto it = pipes_.find(pipe);
    return it != pipes_.end() && it->second.reading_rpc();
  }

 private:
  std::map<uint64_t, DceRpcPipe> pipes_;
};

}  // namespace vitrine::netmon::smb
