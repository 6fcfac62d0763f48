#include "smb/smb_transactions.h"

#include <algorithm>
#include <cstring>

namespace vitrine::netmon::smb {

namespace {

using Kind = TransactionPart::Kind;

// The NT_TRANSACT functions Windows implements ([MS-CIFS] 2.2.7, [MS-SMB] 2.2.7): CREATE,
// IOCTL, SET_SECURITY_DESC, NOTIFY_CHANGE, QUERY_SECURITY_DESC, QUERY_QUOTA, SET_QUOTA.
// RENAME (5) is defined and not implemented; 0 and the rest are nothing.
bool implemented(uint16_t function) {
  return function >= 1 && function <= 8 && function != 5;
}

bool beyond(uint32_t disp, uint32_t count, uint32_t total) {
  return disp > total || count > total - disp;
}

}  // namespace

TransactionOutcome TransactionTable::on_request(const SmbMessage& m) {
  return m.transaction.secondary ? secondary(m) : primary(m);
}

TransactionOutcome TransactionTable::primary(const SmbMessage& m) {
  TransactionOutcome out;
  const TransactionPart& t = m.transaction;
  const TransactionKey key = TransactionKey::of(m);
  if (pending_.count(key) != 0) out.signature = kSignatureCommandOnPendingTransaction;
  else if (t.kind == Kind::NtTrans && !implemented(t.nt_function)) out.signature = kSignatureNtTransUnimplemented;
  else if (t.param_count > t.total_params || t.data_count > t.total_data) out.signature = kSignatureSecondaryBeyondTotal;
  const bool pipe = t.kind != Kind::Trans2 && m.pipe_target;
  if (t.param_count >= t.total_params && t.data_count >= t.total_data) {  // whole: the server executes it now
    if (pipe) {
      out.pipe_write = true;
      out.pipe_id = m.pipe_id;
      out.data = m.pipe_data;
      out.data_cut = m.pipe_data_cut;
    }
    return out;
  }
  // Kept even when it broke a rule, so that its secondaries are judged against it (EternalBlue's
  // NT_TRANSACT, an unimplemented function, then its TRANSACTION2_SECONDARY); never over the
  // pending one it collides with.
  if (pending_.count(key) != 0) return out;
  if (pending_.size() >= kMaxPending) {
    out.signature = kSignaturePendingTransactionsOverBound;
    return out;
  }
  Pending p{t.kind, t.total_params, t.total_data, t.param_count, t.data_count, pipe, m.pipe_id, {}, false};
  if (pipe) {
    p.data_cut = t.total_data > kMaxJoinedData;
    if (!p.data_cut) p.data.assign(t.total_data, 0);
    place(p, m, 0);
  }
  pending_.insert_or_assign(key, std::move(p));
  return out;
}

TransactionOutcome TransactionTable::secondary(const SmbMessage& m) {
  TransactionOutcome out;
  const TransactionPart& t = m.transaction;
  const auto it = pending_.find(TransactionKey::of(m));
  if (it == pending_.end()) {
    out.signature = kSignatureSecondaryWithoutPending;
    return out;
  }
  Pending& p = it->second;
  if (p.kind != t.kind) {
    out.signature = p.kind == Kind::NtTrans && t.kind == Kind::Trans2 ? kSignatureNtTransByTrans2 : kSignatureSecondaryOtherKind;
    pending_.erase(it);
    return out;
  }
  // A secondary may lower the totals, never raise them; what it carries stays inside them.
  if (t.total_params > p.total_params || t.total_data > p.total_data || beyond(t.param_disp, t.param_count, t.total_params) ||
      beyond(t.data_disp, t.data_count, t.total_data)) {
    out.signature = kSignatureSecondaryBeyondTotal;
    pending_.erase(it);
    return out;
  }
  p.total_params = t.total_params;
  p.total_data = t.total_data;
  p.got_params += t.param_count;
  p.got_data += t.data_count;
  if (p.pipe) place(p, m, t.data_disp);
  if (p.got_params < p.total_params || p.got_data < p.total_data) return out;
  if (p.pipe) {
    out.pipe_write = true;
    out.pipe_id = p.pipe_id;
    p.data.resize(std::min<size_t>(p.data.size(), p.total_data));
    out.data = std::move(p.data);
    out.data_cut = p.data_cut;
  }
  pending_.erase(it);
  return out;
}

// A part's data at its displacement in the joined data; a part cut short leaves the whole cut.
void TransactionTable::place(Pending& p, const SmbMessage& m, uint32_t disp) {
  if (m.pipe_data_cut || m.pipe_data.size() < m.transaction.data_count) p.data_cut = true;
  if (p.data_cut || m.pipe_data.empty() || disp > p.data.size() || m.pipe_data.size() > p.data.size() - disp) return;
  std::memcpy(p.data.data() + disp, m.pipe_data.data(), m.pipe_data.size());
}

}  // namespace vitrine::netmon::smb
