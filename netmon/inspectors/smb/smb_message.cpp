#include "smb/smb_message.h"
#include "smb/smb_requests.h"

#include "vitrine/netmon/byte_order.h"

#include <algorithm>
#include <cstring>

namespace vitrine::netmon::smb {

namespace {

// A chain that loops, goes past its message or is too long: what came before it is read.
constexpr ParseResult kChainFault = ParseResult::error(&malformed::kBadChain);

using namespace requests;  // the request bodies: smb_requests.h

constexpr size_t kSmb1Header = 32, kSmb2Header = 64;
constexpr uint8_t kSmb1Reply = 0x80;
constexpr uint8_t kNoAndx = 0xff;  // AndXCommand: nothing chained
constexpr uint16_t kSmb1Unicode = 0x8000, kSmb1NtStatus = 0x4000;
constexpr uint32_t kStatusDosError = 0xc0000001;  // STATUS_UNSUCCESSFUL: a DOS error class set
constexpr uint8_t kNegotiate1 = 0x72, kTreeConnectAndx = 0x75, kNtCreateAndx = 0xa2, kOpenAndx = 0x2d;
constexpr uint16_t kNegotiate2 = 0, kTreeConnect2 = 3, kWrite2 = 9, kIoctl2 = 11;
constexpr uint32_t kSmb2Response = 0x1, kSmb2Related = 0x4;
constexpr uint16_t kCreate2 = 5;

const char* smb1_name(uint8_t code) {
  switch (code) {
    case 0x00: return "CREATE_DIRECTORY";
    case 0x01: return "DELETE_DIRECTORY";
    case 0x02: return "OPEN";
    case 0x04: return "CLOSE";
    case 0x06: return "DELETE";
    case 0x07: return "RENAME";
    case 0x08: return "QUERY_INFORMATION";
    case 0x09: return "SET_INFORMATION";
    case 0x0b: return "WRITE";  // the SMB2 name too: a policy's WRITE means both
    case 0x14: return "WRITE_AND_UNLOCK";
    case 0x1d: return "WRITE_RAW";
    case 0x24: return "LOCKING_ANDX";
    case 0x25: return "TRANSACTION";
    case 0x26: return "TRANSACTION_SECONDARY";
    case 0x29: return "COPY";
    case 0x2a: return "MOVE";
    case 0x2b: return "ECHO";
    case 0x2c: return "WRITE_AND_CLOSE";
    case 0x2d: return "OPEN_ANDX";
    case 0x2e: return "READ_ANDX";
    case 0x2f: return "WRITE_ANDX";
    case 0x32: return "TRANSACTION2";
    case 0x33: return "TRANSACTION2_SECONDARY";
    case 0x34: return "FIND_CLOSE2";
    case 0x71: return "TREE_DISCONNECT";
    case 0x72: return "NEGOTIATE";
    case 0x73: return "SESSION_SETUP_ANDX";
    case 0x74: return "LOGOFF_ANDX";
    case 0x75: return "TREE_CONNECT_ANDX";
    case 0xa0: return "NT_TRANSACT";
    case 0xa1: return "NT_TRANSACT_SECONDARY";
    case 0xa2: return "NT_CREATE_ANDX";
    case 0xa4: return "NT_CANCEL";
    case 0xa5: return "NT_RENAME";
    case 0xc0: return "OPEN_PRINT_FILE";
    case 0xc1: return "WRITE_PRINT_FILE";
    case 0xc2: return "CLOSE_PRINT_FILE";
    default: return "OTHER";
  }
}

const char* smb2_name(uint16_t code) {
  static const char* const kNames[] = {"NEGOTIATE", "SESSION_SETUP", "LOGOFF", "TREE_CONNECT", "TREE_DISCONNECT",
                                       "CREATE", "CLOSE", "FLUSH", "READ", "WRITE", "LOCK", "IOCTL", "CANCEL",
                                       "ECHO", "QUERY_DIRECTORY", "CHANGE_NOTIFY", "QUERY_INFO", "SET_INFO",
                                       "OPLOCK_BREAK"};
  return code < sizeof kNames / sizeof kNames[0] ? kNames[code] : "OTHER";
}

std::string dialect_name(uint16_t revision) {
  switch (revision) {
    case 0x0202: return "2.0.2";
    case 0x0210: return "2.1";
    case 0x0300: return "3.0";
    case 0x0302: return "3.0.2";
    case 0x0311: return "3.1.1";
    default: return "";
  }
}

// The last component of a UNC path, printable ASCII only.
std::string share_of(const std::string& path) {
  std::string share = path.substr(path.find_last_of('\\') == std::string::npos ? 0 : path.find_last_of('\\') + 1);
  for (char& c : share)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  return share;
}

std::string utf16_ascii(const uint8_t* p, size_t len) {  // stops at NUL; non-ASCII becomes '?'
  std::string s;
  for (size_t i = 0; i + 1 < len; i += 2) {
    const uint16_t c = le16(p + i);
    if (c == 0) break;
    s += c < 0x80 ? static_cast<char>(c) : '?';
  }
  return s;
}


// An SMB2 FileId (persistent and volatile halves) as one pipe id; SMB1 FIDs take the low 16 bits.
uint64_t smb2_file_id(const uint8_t* p) { return (le64(p) ^ le64(p + 8)) | uint64_t{1} << 63; }


bool is_andx(uint8_t code) {
  switch (code) {
    case 0x24: case 0x2d: case 0x2e: case 0x2f: case 0x73: case 0x74: case 0x75: case 0xa2: return true;
    default: return false;
  }
}

void read_negotiate(const Block& k, SmbMessage& out) {
  for (size_t i = 0; i < k.byte_count;) {
    if (k.b[i] != 0x02) break;  // each dialect: 0x02, then a NUL-terminated string
    const uint8_t* end = static_cast<const uint8_t*>(std::memchr(k.b + i + 1, 0, k.byte_count - i - 1));
    if (end == nullptr) break;
    out.offered_dialects.emplace_back(reinterpret_cast<const char*>(k.b + i + 1), static_cast<size_t>(end - k.b - i - 1));
    i = static_cast<size_t>(end - k.b) + 1;
  }
}

ParseResult read_tree_connect(const Block& k, bool unicode, SmbMessage& out) {
  if (k.wc < 4) return ParseResult::error();
  size_t path_at = k.bytes_at + le16(k.w + 6);  // after the password
  if (path_at >= k.len) return ParseResult::error();
  std::string path;
  if (unicode) {
    if (path_at % 2) ++path_at;  // UTF-16 is aligned to the SMB header
    path = path_at < k.len ? utf16_ascii(k.d + path_at, k.len - path_at) : "";
  } else {
    const uint8_t* end = static_cast<const uint8_t*>(std::memchr(k.d + path_at, 0, k.len - path_at));
    path.assign(reinterpret_cast<const char*>(k.d + path_at), end ? static_cast<size_t>(end - k.d - path_at) : k.len - path_at);
  }
  out.share = share_of(path);
  return ParseResult::ok();
}


// One SMB1 command whose parameter block (word count, words, byte count, bytes) starts at `at`
// in a message whose header is d[0..32). Sets `andx` to the offset of the command chained
// after it (0 for none).
ParseResult parse_smb1_command(const uint8_t* d, size_t len, size_t at, uint8_t code, SmbMessage& out, size_t& andx,
                               uint8_t& andx_code) {
  andx = 0;
  out.command_code = code;
  out.command = smb1_name(code);
  const bool unicode = (le16(d + 10) & kSmb1Unicode) != 0;
  if (at + 3 > len) return ParseResult::error();
  const size_t wc = d[at];
  const size_t words_at = at + 1;
  if (words_at + 2 * wc + 2 > len) return out.response ? ParseResult::ok() : ParseResult::error();
  const size_t bytes_at = words_at + 2 * wc + 2;
  const Block k{d, len, d + words_at, wc, d + bytes_at, bytes_at, std::min<size_t>(le16(d + words_at + 2 * wc), len - bytes_at)};
  if (is_andx(code) && wc >= 2 && k.w[0] != kNoAndx) {
    andx_code = k.w[0];
    andx = le16(k.w + 2);
  }
  if (out.response) {
    if (code == kNegotiate1 && wc >= 1) out.dialect_index = le16(k.w);
    return ParseResult::ok();
  }
  switch (code) {
    case kNegotiate1: read_negotiate(k, out); break;
    case kTreeConnectAndx: return read_tree_connect(k, unicode, out);
    case kTransaction:
    case kTransaction2: read_transaction(code, k, out); break;
    case kTransactionSecondary:
    case kTransaction2Secondary: read_transaction_secondary(code, k, out); break;
    case kNtTransact:
    case kNtTransactSecondary: read_nt_transact(code, k, out); break;
    default: read_write(code, k, out); break;
  }
  return ParseResult::ok();
}

// A chained command acts on the file of the chain: the one the first command that names a file
// names, a read or a lock as well as a write (Windows' and Samba's servers keep it for the
// chain, whatever FID a later command gives). One chained to an open acts on the file opened,
// whose FID only the answer gives; one chained to a read or a lock may never run (a read of an
// empty pipe holds the chain): netmon cannot know what the pipe gets of either.
struct ChainFile {
  bool opened = false;
  bool waited = false;
  bool known = false;
  uint64_t id = 0;
  ParseResult apply(uint8_t code, SmbMessage& msg) {
    if (msg.pipe_target && opened) return ParseResult::error(&malformed::kChainedToOpen);
    if (msg.pipe_target && waited) return ParseResult::error(&malformed::kChainedAfterWait);
    if (msg.pipe_target || msg.names_file) {
      if (known) msg.pipe_id = id;
      known = true;
      id = msg.pipe_id;
    }
    if (code == kNtCreateAndx || code == kOpenAndx) opened = true;
    if (code == kReadAndx || code == kLockingAndx) waited = true;
    return ParseResult::ok();
  }
};

// An SMB1 message and every command chained to it by AndX: each is a message of its own, with
// the header's flags and multiplex ID.
ParseResult parse_smb1(const uint8_t* d, size_t len, std::vector<SmbMessage>& out, bool from_client) {
  if (len < kSmb1Header + 3) return ParseResult::error();
  SmbMessage header;
  header.version = 1;
  header.reply_flag = (d[9] & kSmb1Reply) != 0;
  header.response = header.reply_flag && !from_client;
  header.message_id = le16(d + 30);
  header.status = (le16(d + 10) & kSmb1NtStatus) != 0 ? le32(d + 5) : (d[5] != 0 ? kStatusDosError : 0);
  header.tid = le16(d + 24);
  header.pid = le16(d + 26);
  header.uid = le16(d + 28);
  uint8_t code = d[4];
  ChainFile file;
  for (size_t at = kSmb1Header;;) {
    if (out.size() == kMaxCommandsPerFrame) return kChainFault;
    SmbMessage msg = header;
    size_t andx = 0;
    uint8_t andx_code = kNoAndx;
    const ParseResult status = parse_smb1_command(d, len, at, code, msg, andx, andx_code);
    if (status != ParseStatus::Ok) return out.empty() ? status : kChainFault;
    if (const ParseResult s = file.apply(code, msg); s != ParseStatus::Ok) return s;
    out.push_back(std::move(msg));
    if (andx == 0) return ParseResult::ok();
    // Forward only, and inside the message: a chain that loops or leaves is not a client's.
    if (andx <= at || andx >= len) return kChainFault;
    at = andx;
    code = andx_code;
  }
}

ParseResult parse_smb2_message(const uint8_t* d, size_t len, SmbMessage& out, size_t& next, bool from_client) {
  if (len < kSmb2Header + 2 || le16(d + 4) != kSmb2Header) return ParseResult::error();
  out.version = 2;
  const uint16_t cmd = le16(d + 12);
  out.command_code = static_cast<uint8_t>(std::min<uint16_t>(cmd, 0xff));
  out.command = smb2_name(cmd);
  out.reply_flag = (le32(d + 16) & kSmb2Response) != 0;
  out.status = le32(d + 8);
  out.response = out.reply_flag && !from_client;
  out.message_id = le64(d + 24);
  // The next compounded message's offset ([MS-SMB2] 2.2.1.2): 8-byte aligned and past this
  // message's header and structure size. Anything else is a broken chain, never an offset to
  // compute with (one below the header made `end - kSmb2Header` wrap and the body reads run
  // off the buffer). One past what was read (only a message's head is kept) is not followed.
  const uint32_t next_command = le32(d + 20);
  if (next_command != 0 && (next_command < kSmb2Header + 2 || next_command % 8 != 0)) return kChainFault;
  next = next_command < len ? next_command : 0;
  const size_t end = next != 0 ? next : len;
  const uint8_t* body = d + kSmb2Header;
  const size_t body_len = end - kSmb2Header;
  if (out.response) {
    if (cmd == kNegotiate2 && body_len >= 6) out.dialect = dialect_name(le16(body + 4));
    return ParseResult::ok();
  }
  if (cmd == kTreeConnect2 && body_len >= 8) {
    const size_t offset = le16(body + 4), length = le16(body + 6);
    if (offset < end && length <= end - offset) out.share = share_of(utf16_ascii(d + offset, length));
  } else if (cmd == kWrite2 && body_len >= 32) {
    keep_pipe_data(out, d, end, le16(body + 2), le32(body + 4), smb2_file_id(body + 16));
  } else if (cmd == kIoctl2 && body_len >= 32 && le32(body + 4) == kFsctlPipeTransceive) {
    keep_pipe_data(out, d, end, le32(body + 24), le32(body + 28), smb2_file_id(body + 8));
  }
  return ParseResult::ok();
}

// SMB2 compounded messages: each says where the next starts. A related one acts on the file of
// the one before it ([MS-SMB2] 3.3.5.2.7.2), whatever FileId it gives: as an AndX chain's.
ParseResult parse_smb2(const uint8_t* d, size_t len, std::vector<SmbMessage>& out, bool from_client) {
  ChainFile file;
  for (size_t at = 0;;) {
    if (out.size() == kMaxCommandsPerFrame) return kChainFault;
    SmbMessage msg;
    size_t next = 0;
    const ParseResult status = parse_smb2_message(d + at, len - at, msg, next, from_client);
    if (status.reason == &malformed::kBadChain) out.push_back(std::move(msg));  // what it was, then the fault
    if (status != ParseStatus::Ok) return out.empty() ? status : kChainFault;
    if ((le32(d + at + 16) & kSmb2Related) == 0) file = ChainFile{};
    if (const ParseResult s = file.apply(msg.command_code == kCreate2 ? kNtCreateAndx : 0, msg); s != ParseStatus::Ok)
      return s;
    out.push_back(std::move(msg));
    if (next == 0) return ParseResult::ok();
    at += next;
  }
}

}  // namespace

namespace {

ParseResult parse_any(const uint8_t* data, size_t len, std::vector<SmbMessage>& out, bool from_client) {
  if (len >= 4 && data[0] == 0xff && std::memcmp(data + 1, "SMB", 3) == 0) return parse_smb1(data, len, out, from_client);
  if (len >= 4 && data[0] == 0xfe && std::memcmp(data + 1, "SMB", 3) == 0) return parse_smb2(data, len, out, from_client);
  // SMB 3 encryption (0xFD) and compression (0xFC) wrap whole messages: legitimate, unreadable.
  if (len >= 4 && (data[0] == 0xfd || data[0] == 0xfc) && std::memcmp(data + 1, "SMB", 3) == 0) {
    SmbMessage wrapped;
    wrapped.version = 3;
    wrapped.command = data[0] == 0xfd ? "ENCRYPTED" : "COMPRESSED";
    out.push_back(std::move(wrapped));
    return ParseResult::ok();
  }
  return ParseResult::error();
}

}  // namespace

ParseResult parse_frame(const uint8_t* data, size_t len, std::vector<SmbMessage>& out, bool from_client) {
  out.clear();
  ParseResult r = parse_any(data, len, out, from_client);
  if (r == ParseStatus::Error && r.reason == nullptr) r.reason = &malformed::kNotSmb;  // not SMB, or cut short
  return r;
}

bool skip_session_service(const uint8_t*& d, size_t& len) {
  while (len > 0 && d[0] >= 0x82 && d[0] <= 0x85) {
    if (len < 4) return false;
    const size_t skip = 4 + (size_t{d[1]} << 16 | size_t{d[2]} << 8 | d[3]);
    if (skip > len) return false;
    d += skip;
    len -= skip;
  }
  return true;
}

Recognition looks_like_smb(const uint8_t* d, size_t len) {
  if (!skip_session_service(d, len)) return Recognition::NeedMore;
  if (len == 0) return Recognition::NeedMore;
  if (d[0] == 0x81) return len >= 4 ? Recognition::Yes : Recognition::NeedMore;  // NetBIOS session request (139)
  if (d[0] != 0x00) return Recognition::No;
  if (len <= 4) return Recognition::NeedMore;  // the rest of the NetBIOS header says nothing yet
  if (d[4] != 0xff && d[4] != 0xfe) return Recognition::No;
  static const uint8_t kSmb[] = {'S', 'M', 'B'};
  return starts_with(d + 5, len - 5, kSmb, sizeof kSmb);
}

FrameHeader NetbiosHeader::read(const uint8_t* h) const {
  const uint8_t type = h[0];
  // 0x00 session message; 0x81-0x85 session service requests and answers, keepalives.
  if (type != 0x00 && (type < 0x81 || type > 0x85)) return FrameHeader::refuse(&malformed::kNotNetbios);
  // Direct TCP (445) gives the length 24 bits; NetBIOS (139) 17, with the rest zero.
  const size_t length = size_t{h[1]} << 16 | size_t{h[2]} << 8 | h[3];
  if (length > kMaxMessageBytes) return FrameHeader::refuse(&malformed::kNetbiosTooLong);
  return type == 0x00 ? FrameHeader::frame(length, kMaxKeptBytes) : FrameHeader::skip(length);
}

}  // namespace vitrine::netmon::smb
