// The SMB1 request bodies the virtual patches read: transactions and their secondaries, and the
// commands that write a file or a named pipe ([MS-CIFS] 2.2.4). Internal to the SMB reader
// (smb_message.cpp parses headers and chains and calls these per command). Every offset is
// checked against the message's bytes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "smb/smb_message.h"

namespace vitrine::netmon::smb::requests {

inline constexpr uint8_t kTransaction = 0x25, kTransaction2 = 0x32, kNtTransact = 0xa0, kWriteAndx = 0x2f,
                         kTransactionSecondary = 0x26, kTransaction2Secondary = 0x33, kNtTransactSecondary = 0xa1,
                         kWrite = 0x0b, kWriteAndUnlock = 0x14, kWriteAndClose = 0x2c, kWriteRaw = 0x1d,
                         kReadAndx = 0x2e, kLockingAndx = 0x24, kClose = 0x04;
// A pipe write is kept whole as far as its message is (NetbiosHeader::kMaxKeptBytes): DCE/RPC
// is read as a stream of them (dcerpc.h), and a write cut short is said to be.
inline constexpr uint16_t kTransactNmPipe = 0x26, kWriteNmPipe = 0x37, kRawWriteNmPipe = 0x31, kCallNmPipe = 0x54;
// CallNmPipe names its pipe rather than a FID (it opens, transacts and closes): one id for all.
inline constexpr uint64_t kCallNmPipeId = uint64_t{1} << 62;
inline constexpr uint32_t kFsctlPipeTransceive = 0x0011c017;
inline constexpr uint16_t kNtTransactIoctl = 2;


// One SMB1 command's parameter block in its message `d` of `len` bytes: the words and the bytes.
struct Block {
  const uint8_t* d;
  size_t len;
  const uint8_t* w;  // the words
  size_t wc;         // how many
  const uint8_t* b;  // the bytes
  size_t bytes_at;   // their offset in the message
  size_t byte_count;
};

// The bytes a request writes to its file or pipe: `count` of them at `offset` in its message.
void keep_pipe_data(SmbMessage& out, const uint8_t* base, size_t len, size_t offset, size_t count, uint64_t pipe);
void read_transaction(uint8_t code, const Block& k, SmbMessage& out);
void read_transaction_secondary(uint8_t code, const Block& k, SmbMessage& out);
void read_nt_transact(uint8_t code, const Block& k, SmbMessage& out);
// WRITE_ANDX, WRITE, WRITE_AND_UNLOCK, WRITE_AND_CLOSE, WRITE_RAW; the FID READ_ANDX,
// LOCKING_ANDX and CLOSE name; nothing for other commands.
void read_write(uint8_t code, const Block& k, SmbMessage& out);

}  // namespace vitrine::netmon::smb::requests
