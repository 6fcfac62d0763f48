// The thin side of the SMB reader: each request the initiator sends is a message judged by
// its command, the dialect in use and, for a tree connect, the share; the answers set the
// dialect. The virtual patches for MS17-010 (EternalBlue, DoublePulsar, the scanners that
// look for them) and MS08-067 (Conficker) are signatures on those messages.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vitrine/netmon/recognition.h"
#include "smb/dcerpc.h"
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
inline constexpr const char* kSignaturePathCanonicalize = "vitrine.smb.ms08-067.netpathcanonicalize-traversal";
// NetprPathCompare canonicalises both its paths with the same flawed code: nmap's
// smb-vuln-ms08-067 check calls it with the path \AAA...\..\n, which climbs out.
inline constexpr const char* kSignaturePathCompare = "vitrine.smb.ms08-067.netpathcompare-traversal";
// A NetprPathCanonicalize or NetprPathCompare path longer than MAX_PATH: MS06-040's overflow.
inline constexpr const char* kSignatureLongPath = "vitrine.smb.ms06-040.path-longer-than-max-path";
// DoublePulsar answers its ping (a TRANSACTION2 SESSION_SETUP with multiplex ID 65) with
// multiplex ID 65 + 16: the server that sends it is already infected.
inline constexpr const char* kSignatureDoublePulsarAnswer = "vitrine.smb.ms17-010.doublepulsar-implant-answer";

Recognition recognises(const uint8_t* payload, size_t len);
// The MS08-067 and MS06-040 signatures a whole DCE/RPC request carries, if any.
const char* ms08_067_signature(const RpcCall& call);
const char* ms06_040_signature(const RpcCall& call);
// As nDPI names SMB once it is sure: NetBIOS.SMBv1 or NetBIOS.SMBv23 (NetBIOS for a session request).
policy::L7Facts protocol_of(const uint8_t* payload, size_t len);
std::unique_ptr<Inspector> create(std::string_view patient_key);

class SmbInspector : public Inspector {
 public:
  // The srvsvc operations that reach MS08-067's flawed path canonicalisation ([MS-SRVS]).
  static constexpr uint16_t kOpnumNetprPathCanonicalize = 31;
  static constexpr uint16_t kOpnumNetprPathCompare = 32;
  // MAX_PATH: the longest path Windows canonicalises for a client.
  static constexpr uint32_t kMaxPathChars = 260;
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
  struct RpcSignature {
    policy::VirtualPatch patch = policy::VirtualPatch::Ms08067;
    const char* signature = nullptr;
  };
  // The SMB1 transaction rules' signature; a pipe transaction made whole goes to the pipe's
  // DCE/RPC, and `rpc` is then the signature its calls carry.
  const char* transaction_rules(const SmbMessage& msg, InspectionOutput& out, RpcSignature& rpc);
  // Bytes written to a pipe; the signature of the calls they complete.
  RpcSignature pipe_write(uint64_t pipe, const std::vector<uint8_t>& data, bool cut, InspectionOutput& out);
  void answer(const SmbMessage& msg, InspectionOutput& out);

  NetbiosFramer framer_[2];
  bool done_[2] = {false, false};
  bool request_seen_ = false;
  std::string dialect_;  // once negotiated
  std::vector<std::string> offered_;
  TransactionTable transactions_;  // SMB1 transactions waiting for their secondaries
  DceRpcPipes pipes_;  // what the client writes to each named pipe, as DCE/RPC
};

}  // namespace vitrine::netmon::smb
