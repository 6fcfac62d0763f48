#include "smb/smb_requests.h"

#include "vitrine/netmon/byte_order.h"

#include <algorithm>

namespace vitrine::netmon::smb::requests {

namespace {

TransactionPart& transaction(SmbMessage& out, TransactionPart::Kind kind, bool secondary) {
  out.has_transaction = true;
  out.transaction.kind = kind;
  out.transaction.secondary = secondary;
  return out.transaction;
}

}  // namespace

void keep_pipe_data(SmbMessage& out, const uint8_t* base, size_t len, size_t offset, size_t count, uint64_t pipe) {
  // The target is known with no data too: a transaction's primary may leave all of its data
  // to its secondaries ([MS-CIFS] 2.2.4.33.1), which then carry the pipe's bytes.
  out.pipe_target = true;
  out.pipe_id = pipe;
  if (count == 0) return;
  if (offset >= len) {
    out.pipe_data_cut = true;
    return;
  }
  const size_t n = std::min(count, len - offset);
  out.pipe_data.assign(base + offset, base + offset + n);
  out.pipe_data_cut = n < count;
}

// TRANSACTION and TRANSACTION2 ([MS-CIFS] 2.2.4.33, .46): words 0-13 are fixed, word 13's low
// byte is the setup count, the setups follow; a named-pipe transaction's data is the pipe's.
void read_transaction(uint8_t code, const Block& k, SmbMessage& out) {
  const uint8_t* w = k.w;
  if (k.wc < 14) return;
  if (w[26] >= 1 && k.wc >= 14u + w[26]) {
    out.has_trans_setup = true;
    out.trans_subcommand = le16(w + 28);
    if (w[26] >= 2) out.trans_fid = le16(w + 30);
  }
  TransactionPart& t = transaction(out, code == kTransaction ? TransactionPart::Kind::Trans : TransactionPart::Kind::Trans2, false);
  t.total_params = le16(w);
  t.total_data = le16(w + 2);
  t.param_count = le16(w + 18);
  t.data_count = le16(w + 22);
  // The rest of the data, if any, comes in its secondaries (smb_transactions.h joins them).
  if (code == kTransaction && out.has_trans_setup && w[26] >= 2 &&
      (out.trans_subcommand == kTransactNmPipe || out.trans_subcommand == kWriteNmPipe ||
       out.trans_subcommand == kRawWriteNmPipe || out.trans_subcommand == kCallNmPipe))
    keep_pipe_data(out, k.d, k.len, le16(w + 24), t.data_count, out.trans_subcommand == kCallNmPipe ? kCallNmPipeId : out.trans_fid);
}

// TRANSACTION_SECONDARY and TRANSACTION2_SECONDARY ([MS-CIFS] 2.2.4.34, .47).
void read_transaction_secondary(uint8_t code, const Block& k, SmbMessage& out) {
  const uint8_t* w = k.w;
  if (k.wc < 8) return;
  TransactionPart& t = transaction(out, code == kTransactionSecondary ? TransactionPart::Kind::Trans : TransactionPart::Kind::Trans2, true);
  t.total_params = le16(w);
  t.total_data = le16(w + 2);
  t.param_count = le16(w + 4);
  t.param_disp = le16(w + 8);
  t.data_count = le16(w + 10);
  t.data_disp = le16(w + 14);
  if (code == kTransactionSecondary) keep_pipe_data(out, k.d, k.len, le16(w + 12), t.data_count, 0);
}

// NT_TRANSACT and NT_TRANSACT_SECONDARY ([MS-CIFS] 2.2.4.62, .63): 32-bit counts.
void read_nt_transact(uint8_t code, const Block& k, SmbMessage& out) {
  const uint8_t* w = k.w;
  if (code == kNtTransact && k.wc >= 19) {
    TransactionPart& t = transaction(out, TransactionPart::Kind::NtTrans, false);
    t.total_params = le32(w + 3);
    t.total_data = le32(w + 7);
    t.param_count = le32(w + 19);
    t.data_count = le32(w + 27);
    t.nt_function = le16(w + 36);
    // NT_TRANSACT_IOCTL's setup: FunctionCode, FID ([MS-CIFS] 2.2.7.2): a pipe transceive.
    if (t.nt_function == kNtTransactIoctl && k.wc >= 23 && le32(w + 38) == kFsctlPipeTransceive)
      keep_pipe_data(out, k.d, k.len, le32(w + 31), t.data_count, le16(w + 42));
  } else if (code == kNtTransactSecondary && k.wc >= 18) {
    TransactionPart& t = transaction(out, TransactionPart::Kind::NtTrans, true);
    t.total_params = le32(w + 3);
    t.total_data = le32(w + 7);
    t.param_count = le32(w + 11);
    t.param_disp = le32(w + 19);
    t.data_count = le32(w + 23);
    t.data_disp = le32(w + 31);
    keep_pipe_data(out, k.d, k.len, le32(w + 27), t.data_count, 0);
  }
}

// The write commands a client may write a named pipe with.
void read_write(uint8_t code, const Block& k, SmbMessage& out) {
  const uint8_t* w = k.w;
  switch (code) {
    case kWriteAndx:
      // FID at word 2; DataLengthHigh (word 9) adds 16 bits for large writes. WriteMode RAW_MODE
      // (0x0004): a piece of one pipe message written in several; with MSG_START (0x0008) the
      // first, whose Remaining (word 8) is the message's length and whose data's first two bytes
      // the server takes off (clients send 0xffff there: impacket does, Samba ignores them).
      // WordCount is 12, or 14 with OffsetHigh ([MS-CIFS] 2.2.4.43.1: MUST); servers refuse
      // others, so another is said to be no write (it is malformed: smb_inspector.cpp).
      if (k.wc != 12 && k.wc != 14) {
        out.refused_shape = true;
        break;
      }
      {
        const uint16_t mode = le16(w + 14);
        const bool raw = (mode & 0x0004) != 0, start = (mode & 0x0008) != 0;
        const size_t data_at = le16(w + 22);
        const size_t skip = raw && start ? 2 : 0;
        const size_t count = size_t{le16(w + 18)} << 16 | le16(w + 20);
        keep_pipe_data(out, k.d, k.len, data_at + skip, count > skip ? count - skip : 0, le16(w + 4));
        if (raw) out.piece = start ? SmbMessage::Piece::First : SmbMessage::Piece::Later;
        if (raw && start) out.message_length = le16(w + 16);
      }
      break;
    case kWrite:
    case kWriteAndUnlock:
      // FID, count, offset, remaining; the bytes: buffer format (1), a length, the data. Servers
      // take the data after those three bytes whatever the format byte says (Samba's reply_write
      // does not look at it): so is it read here.
      if (k.wc >= 5 && k.byte_count >= 3) keep_pipe_data(out, k.d, k.len, k.bytes_at + 3, le16(w + 2), le16(w));
      break;
    case kWriteAndClose:
      // FID, count, offset, last write time; the bytes: one pad byte, the data.
      if (k.wc >= 6 && k.byte_count >= 1) keep_pipe_data(out, k.d, k.len, k.bytes_at + 1, le16(w + 2), le16(w));
      break;
    case kReadAndx:
    case kLockingAndx:
      // They name the file a chain then acts on (smb_message.cpp's ChainFile): FID at word 2.
      if (k.wc >= 3) {
        out.names_file = true;
        out.pipe_id = le16(w + 4);
      }
      break;
    case kClose:
      if (k.wc >= 1) {
        out.names_file = true;
        out.pipe_id = le16(w);
      }
      break;
    case kWriteRaw:
      // The data comes in raw messages after the server's go-ahead, not read here: said cut.
      if (k.wc >= 12) {
        out.pipe_target = true;
        out.pipe_id = le16(w);
        out.pipe_data_cut = true;
      }
      break;
    default: break;
  }
}

}  // namespace vitrine::netmon::smb::requests
