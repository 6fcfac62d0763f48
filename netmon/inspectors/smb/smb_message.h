// SMB over TCP ([MS-CIFS], [MS-SMB2]): NetBIOS session framing, SMB1 and SMB2 headers, and
// the fields a policy or a virtual patch needs — the command, the dialect offered and chosen,
// the share a tree connect names, transaction subcommands, and DCE/RPC carried to a named
// pipe. Pure: no I/O, no logging; every offset is checked against the bytes given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "smb/smb_malformed.h"
#include "vitrine/netmon/length_prefixed.h"
#include "vitrine/netmon/parse_result.h"
#include "vitrine/netmon/recognition.h"

namespace vitrine::netmon::smb {

// What an SMB1 transaction request says of its place in the transaction ([MS-CIFS] 2.2.4.33,
// .34, .46, .62, .63): a primary (TRANSACTION, TRANSACTION2, NT_TRANSACT) or a secondary, the
// totals it announces and the counts and displacements of what it carries.
struct TransactionPart {
  enum class Kind : uint8_t { Trans, Trans2, NtTrans };
  Kind kind = Kind::Trans;
  bool secondary = false;
  uint32_t total_params = 0, total_data = 0;
  uint32_t param_count = 0, param_disp = 0, data_count = 0, data_disp = 0;
  uint16_t nt_function = 0;  // NT_TRANSACT primary: its Function
};

struct SmbMessage {
  int version = 0;           // 1, 2, or 3 for an SMB 3 encrypted or compressed wrapper (unreadable)
  bool response = false;
  // A response's status: an NT status (SMB1 with NT status codes, SMB2), or for an SMB1 DOS
  // error one of error severity. Severity error (0xC0000000) means the request was refused.
  uint32_t status = 0;
  std::string command;       // [MS-CIFS] / [MS-SMB2] name, e.g. "TREE_CONNECT_ANDX"
  uint8_t command_code = 0;  // SMB1 code, or SMB2 command number
  uint64_t message_id = 0;   // SMB1 MID, SMB2 MessageId
  uint16_t uid = 0, tid = 0; // SMB1: the user and tree the request is for
  uint16_t pid = 0;          // SMB1: PIDLow (the server matches a transaction by it, not PIDHigh)
  bool reply_flag = false;   // SMB1/SMB2: sent by the client with the server's reply flag set
  std::vector<std::string> offered_dialects;  // SMB1 NEGOTIATE request: the dialect strings
  int dialect_index = -1;                     // SMB1 NEGOTIATE response: the one chosen
  std::string dialect;       // SMB2 NEGOTIATE response: "2.0.2", "2.1", "3.0", "3.0.2", "3.1.1"
  std::string share;         // tree connect: the share's name ("IPC$", "ADMIN$"), printable
  uint16_t trans_subcommand = 0;  // SMB1 TRANSACTION / TRANSACTION2: Setup[0]
  bool has_trans_setup = false;
  uint16_t trans_fid = 0;         // TRANSACTION: Setup[1] (the pipe)
  std::vector<uint8_t> pipe_data; // bytes written to a file or named pipe (TransactNmPipe, WRITE_ANDX, SMB2 WRITE, pipe IOCTL)
  bool pipe_data_cut = false;     // more was written than `pipe_data` holds (the message's head only is kept)
  uint64_t pipe_id = 0;           // the FID or FileId written to
  bool pipe_target = false;       // the request writes to pipe_id (with data or, a primary, none yet)
  bool refused_shape = false;     // a write whose parameter block the server refuses (its word count)
  bool names_file = false;        // it names the FID pipe_id (a read, a lock, a close, a write)
  // WRITE_ANDX to a pipe in raw mode ([MS-CIFS] 2.2.4.43.1, RAW_MODE): the server joins the
  // pieces of one message and gives the pipe the whole; the first (MSG_START) says how long.
  enum class Piece : uint8_t { Whole, First, Later };
  Piece piece = Piece::Whole;
  uint32_t message_length = 0;    // Piece::First: the message's length (its 2-byte prefix)
  bool has_transaction = false;   // an SMB1 transaction request: `transaction` says which part
  TransactionPart transaction;    // (a TRANSACTION's or its secondary's data is in pipe_data)
};

// Windows chains two or three SMB1 commands (SESSION_SETUP_ANDX + TREE_CONNECT_ANDX) and
// compounds up to five SMB2 ones; 32 leaves room for any client and bounds one frame's work.
inline constexpr size_t kMaxCommandsPerFrame = 32;

// Every SMB message one NetBIOS frame carries (the bytes after its 4-byte header): an SMB1
// command and those chained to it by AndX, or SMB2 compounded messages, each a message of its
// own. A share named in a chained TREE_CONNECT_ANDX is read like any other.
// `from_client`: a message the client sent is read as a request whatever its flags say (a
// server acts on it as one); a reply flag it carries is noted in `reply_flag`.
// An error names what was wrong: kNotSmb (not SMB, or the first command cut short), kBadChain (a
// chained command points backwards or outside, is cut short, or is one too many), kChainedToOpen
// (a command chained, or SMB2-related, to the open of the file it writes, whose id only the
// server's answer gives), kChainedAfterWait (a write chained after a read or a lock, which may
// hold the chain); what came before the faulty command is in `out`.
ParseResult parse_frame(const uint8_t* data, size_t len, std::vector<SmbMessage>& out, bool from_client = false);

// Steps over the session-service packets that are not session messages (keepalives 0x85, the
// answers 0x82-0x84): Windows and Samba skip them before a first message, and so does the
// framer, so recognition does too. False while one is cut short.
bool skip_session_service(const uint8_t*& data, size_t& len);

// Whether the first payload of a TCP flow is SMB: a NetBIOS session message with an SMB1 or
// SMB2 header, or a NetBIOS session request (port 139).
Recognition looks_like_smb(const uint8_t* data, size_t len);

// NetBIOS session framing (RFC 1002 4.3.1) for the shared framer: session messages become
// frames; keepalives and session requests and answers are stepped over.
struct NetbiosHeader {
  static constexpr size_t kHeaderBytes = 4;
  // What is kept of a message is its first kMaxKeptBytes (headers, names, the start of a pipe
  // write); the rest is counted and skipped.
  static constexpr size_t kMaxKeptBytes = 16 * 1024;
  // The longest session message read as one: NetBIOS's own length field is 17 bits (RFC 1002
  // §4.3.1), and XP, the guest, speaks SMB1 only, whose server buffers are far smaller. A
  // direct-TCP header may claim up to 16 MiB: a claim above this is a fault, never a message
  // to wait for (one inserted header claiming 16 MiB would make every later byte its body).
  static constexpr size_t kMaxMessageBytes = 128 * 1024;
  FrameHeader read(const uint8_t* header) const;
};
// A frame's body() is the SMB message, kept() bytes of it.
using NetbiosFramer = LengthPrefixedFramer<NetbiosHeader>;

}  // namespace vitrine::netmon::smb
