// SMB1 transactions as the server tracks them ([MS-CIFS] 3.3.5.57-.59): a primary that does
// not carry all it announces waits for secondaries matched to it by (UID, TID, PID, MID); each
// secondary's counts and displacements must stay inside the primary's totals. The MS17-010
// family (EternalBlue, EternalChampion, EternalRomance) sets up its primitive by breaking
// exactly these rules, before any overflow or implant: each break is a signature, named here.
// Pure: no I/O, no logging; what it keeps is bounded.
#pragma once

#include <cstdint>
#include <map>
#include <tuple>
#include <vector>

#include "smb/smb_message.h"

namespace vitrine::netmon::smb {

// Stable signature ids, in events and metrics.
// A secondary for no transaction waiting for one: after it completed (EternalChampion's race
// on a transaction already executing), or for one never sent.
inline constexpr const char* kSignatureSecondaryWithoutPending = "vitrine.smb.ms17-010.trans-secondary-without-pending";
// Counts or displacements past the totals the primary announced.
inline constexpr const char* kSignatureSecondaryBeyondTotal = "vitrine.smb.ms17-010.trans-secondary-beyond-total";
// A secondary of another kind than its primary (other than EternalBlue's NT_TRANSACT continued
// by TRANSACTION2_SECONDARY, which keeps its own id).
inline constexpr const char* kSignatureSecondaryOtherKind = "vitrine.smb.ms17-010.trans-secondary-other-kind";
// An NT_TRANSACT function Windows does not implement (RENAME among them, EternalChampion's).
inline constexpr const char* kSignatureNtTransUnimplemented = "vitrine.smb.ms17-010.nt-trans-unimplemented-function";
// Another request on the (UID, TID, PID, MID) of a pending transaction (EternalRomance's WRITE_ANDX).
inline constexpr const char* kSignatureCommandOnPendingTransaction = "vitrine.smb.ms17-010.command-on-pending-transaction";
// More transactions left waiting for secondaries than any client leaves: pool grooming.
inline constexpr const char* kSignaturePendingTransactionsOverBound = "vitrine.smb.ms17-010.pending-transactions-over-bound";
inline constexpr const char* kSignatureNtTransByTrans2 = "vitrine.smb.ms17-010.nt-trans-continued-by-trans2";

struct TransactionKey {
  uint16_t uid = 0, tid = 0;
  uint16_t pid = 0;  // PIDLow: srv.sys matches by it alone
  uint16_t mid = 0;
  static TransactionKey of(const SmbMessage& m) { return {m.uid, m.tid, m.pid, static_cast<uint16_t>(m.message_id)}; }
  bool operator<(const TransactionKey& o) const { return std::tie(uid, tid, pid, mid) < std::tie(o.uid, o.tid, o.pid, o.mid); }
};

// What a transaction request came to.
struct TransactionOutcome {
  const char* signature = nullptr;  // the first rule it broke, if any
  // A named-pipe transaction now whole (TransactNmPipe, WriteNmPipe): its data, joined.
  bool pipe_write = false;
  uint64_t pipe_id = 0;
  std::vector<uint8_t> data;
  bool data_cut = false;
};

class TransactionTable {
 public:
  // A client sends a primary's secondaries right after it: a handful wait at once at most.
  static constexpr size_t kMaxPending = 16;
  // A pipe transaction's data joined, at most: an RPC client writes fragments of a few KiB.
  static constexpr uint32_t kMaxJoinedData = 64 * 1024;

  TransactionOutcome on_request(const SmbMessage& m);
  // Whether a transaction with the request's UID, TID and PID and the MID `mid` waits for
  // secondaries.
  bool pending(const SmbMessage& m, uint16_t mid) const {
    TransactionKey key = TransactionKey::of(m);
    key.mid = mid;
    return pending_.count(key) != 0;
  }

 private:
  struct Pending {
    TransactionPart::Kind kind;
    uint32_t total_params, total_data, got_params, got_data;
    bool pipe;
    uint64_t pipe_id;
    std::vector<uint8_t> data;
    bool data_cut;
  };
  TransactionOutcome primary(const SmbMessage& m);
  TransactionOutcome secondary(const SmbMessage& m);
  static void place(Pending& p, const SmbMessage& m, uint32_t disp);

  std::map<TransactionKey, Pending> pending_;
};

}  // namespace vitrine::netmon::smb
