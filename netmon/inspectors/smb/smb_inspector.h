// The thin side of the SMB reader: each request the initiator sends is a message judged by
// its command, the dialect in use and, for a tree connect, the share; the answers set the
// dialect. The virtual patches for MS17-010 (EternalBlue, DoublePulsar, the scanners that
// look for them) are signatures on those messages; those on DCE/RPC calls written to a pipe
// (MS08-067, MS06-040, MS04-011, MS05-039) are in rpc_signatures.h.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vitrine/netmon/recognition.h"
#include "smb/dcerpc.h"
#include "smb/rpc_signatures.h"
#include "smb/smb_message.h"
#include "smb/smb_transactions.h"
#include "vitrine/netmon/inspector.h"

namespace vitrine::netmon::smb {

// Stable signature ids, in events and metrics.
inline constexpr const char* kSignaturePeekNamedPipe = "vitrine.smb.ms17-010.peek-named-pipe-fid0";
inline constexpr const char* kSignatureTrans2SessionSetup = "vitrine.smb.ms17-010.trans2-session-setup";
// An NT_TRANSACT announcing more data than any of its subcommands carries: EternalBlue's
// announces 66,512 bytes of OS/2 extended attributes, whose list the server mis-sizes.
inline constexpr const char* kSignatureNtTransOversized = "vitrine.smb.ms17-010.nt-trans-oversized";
// DoublePulsar answers its ping (a TRANSACTION2 SESSION_SETUP with multiplex ID 65) with
// multiplex ID 65 + 16: the server that sends it is already infected.
inline constexpr const char* kSignatureDoublePulsarAnswer = "vitrine.smb.ms17-010.doublepulsar-implant-answer";

Recognition recognises(const uint8_t* payload, size_t len);
// As nDPI names SMB once it is sure: NetBIOS.SMBv1 or NetBIOS.SMBv23 (NetBIOS for a session request).
policy::L7Facts protocol_of(const uint8_t* payload, size_t len);
std::unique_ptr<Inspector> create(std::string_view patient_key);
// What the engine knows of this inspector (netmon/inspectors/registry.cpp).
InspectorRegistration registration();

class SmbInspector : public Inspector {
 public:
  static constexpr uint64_t kDoublePulsarAnswerMid = 81;
  // What an NT_TRANSACT request may announce: its data is a security descriptor, an EA list,
  // an ioctl's input or a quota list, each sized by 16-bit fields (an ACL, an FEA list) or far
  // smaller; more than 64 KiB is EternalBlue's overflow, never a client's request.
  static constexpr uint32_t kMaxPlausibleNtTransData = 0xffff;

  void on_bytes(bool from_initiator, const uint8_t* data, size_t len, uint64_t time_us,
                InspectionOutput& out) override;
  bool reading_message() const override { return !request_seen_; }

 private:
  void request(const SmbMessage& msg, InspectionOutput& out);
  // The SMB1 transaction rules' signature; a pipe transaction made whole goes to the pipe's
  // DCE/RPC, and `rpc` is then the signature its calls carry.
  const char* transaction_rules(const SmbMessage& msg, InspectionOutput& out, RpcSignature& rpc);
  // Bytes written to a pipe; the signature of the calls they complete.
  RpcSignature pipe_write(uint64_t pipe, const std::vector<uint8_t>& data, bool cut, InspectionOutput& out,
                          const PipePiece& piece = {});
  void answer(const SmbMessage& msg, InspectionOutput& out);

  NetbiosFramer framer_[2];
  bool done_[2] = {false, false};
  bool request_seen_ = false;
  std::string dialect_;  // once negotiated
  std::vector<std::string> offered_;
  TransactionTable transactions_;  // SMB1 transactions waiting for their secondaries
  // Pipe writes netmon has read into a pipe, by (PID, MID), until the server answers them: one
  // it refuses means the pipe has what netmon read and the server did not (a desync).
  static constexpr size_t kMaxAwaitedWrites = 64;  // a client waits on a few at once
  std::map<uint64_t, uint64_t> awaited_writes_;
  void await_write(const SmbMessage& msg, uint64_t pipe);
  DceRpcPipes pipes_;  // what the client writes to each named pipe, as DCE/RPC
};

}  // namespace vitrine::netmon::smb
