// The network policy as netmon enforces it: the guest's identity, ordered rules, a default
// action, the limits of the data path and the outcome of every exception. A Policy is built
// once by the loader (load.h), validated, and then shared read-only by the data path.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vitrine/common/net_types.h"
#include "vitrine/policy/l7.h"

namespace vitrine::policy {

class RuleIndex;

enum class Action : uint8_t { Allow, Deny, Alert };
enum class Direction : uint8_t { Egress, Ingress };  // egress: the guest opened the flow
enum class Transport : uint8_t { Any, Tcp, Udp, Icmp };
// enforce: the rule's action is carried out. monitor: a deny is recorded as what would have
// been denied and the flow passes, so that a new rule can be watched before it bites.
enum class Mode : uint8_t { Enforce, Monitor };

const char* to_string(Action a);
const char* to_string(Direction d);
const char* to_string(Transport t);
const char* to_string(Mode m);

struct PortRange {
  uint16_t first = 0;
  uint16_t last = 0;
};

struct Rule {
  std::string name;
  Direction direction = Direction::Egress;
  // The other end: literal addresses and CIDRs, and the members of the named sets it names.
  std::vector<Cidr> peers;
  bool any_peer = true;                 // no 'peers' given; an empty named set matches no peer
  std::vector<std::string> peer_sets;   // the named sets, as written
  std::vector<PortRange> ports;   // the responder's port; empty: any port
  Transport transport = Transport::Any;
  std::vector<uint16_t> protocols;           // nDPI protocol ids; empty: any protocol
  std::vector<std::string> protocol_names;   // as written, for events and messages
  uint64_t risks = 0;                        // nDPI flow risks, as bits; 0: none required
  std::vector<std::string> risk_names;       // as written
  // Conditions on what the flow's messages say (dns names, TLS SNI, ...); all must hold.
  // A rule with them names (or is given) the protocols that carry them.
  std::vector<L7Condition> l7;
  Action action = Action::Deny;
  Mode mode = Mode::Enforce;
  std::string source;        // the file it is written in (a site's, or the baseline's)
  int line = 0, column = 0;  // where it is written, for messages about it
};

// Every bound of the data path, with the reason for its default beside it.
struct Limits {
  // A flow costs about 430 bytes (its record and its table and recency-list nodes) plus
  // nDPI's 688-byte state while it is being classified: 65536 flows stay under 75 MiB even if
  // every one is being classified at once, and a cabinet PC has tens open.
  uint32_t max_flows = 65536;
  // Windows sends its first TCP keepalive after 2 h idle: keep idle TCP flows a little longer
  // so that the cabinet's long-lived database and file-share sessions survive.
  uint32_t tcp_idle_timeout_s = 7800;
  // After FIN both ways or a RST the flow only needs to absorb stragglers.
  uint32_t tcp_closed_timeout_s = 10;
  // A handshake completes in milliseconds; XP sends its SYN again after 3 and 6 more seconds
  // (TcpMaxConnectRetransmissions 2), and a SYN sent again after expiry simply opens a new
  // entry. A half-open flow from a scan or a flood is gone within seconds.
  uint32_t tcp_half_open_timeout_s = 10;
  // DNS, NetBIOS name service and syslog exchanges complete within seconds.
  uint32_t udp_idle_timeout_s = 120;
  uint32_t other_idle_timeout_s = 60;
  // Bounds on what a flow may hold back while its verdict is pending: nDPI decides most
  // protocols within the first 2-4 payload packets, and the hold must never stall a session
  // for longer than a user would notice.
  uint32_t hold_packets = 16;
  uint32_t hold_bytes = 65536;
  uint32_t hold_ms = 2000;
  // Packets per flow given to nDPI before it is asked to give up, as nDPI's own reader does.
  uint32_t dpi_max_packets_tcp = 80;
  uint32_t dpi_max_packets_udp = 24;
  // Bytes of one direction an inspected stream may hold out of order. XP's TCP window is
  // 64 KiB without window scaling: a sender cannot have more in flight, so more waiting means
  // a lost segment, or an evasion, and the hole becomes a gap (onReassemblyLimit).
  // The same bound holds what a read stream keeps of delivered bytes until the receiver
  // acknowledges them, to compare a retransmission with what was read.
  uint32_t reassembly_pending_bytes = 65536;
  // Flows each side has opened that have had no answer yet (a half-open TCP connection, a
  // datagram without reply): at most a quarter of the table each, so that a flood from one
  // side fills only its own quarter and answered flows always keep half the table. Past it
  // the side's oldest unanswered flow is evicted. 0: maxFlows / 4.
  uint32_t max_unanswered_flows = 0;
  // Unanswered flows one address on the network may have open at once: a cabinet is reached
  // by a handful of hosts, each with a few connections; more is a scan or a flood. Past it
  // the host's own oldest unanswered flow is evicted (its address may be forged).
  uint32_t max_unanswered_flows_per_source = 256;
  uint32_t unanswered_flows_per_side() const { return max_unanswered_flows ? max_unanswered_flows : max_flows / 4; }
};

enum class FullTableOutcome : uint8_t { Deny, EvictOldest };

// What happens to traffic that the rules cannot judge.
struct Outcomes {
  Action on_undetermined = Action::Deny;  // hold bound ran out before the protocol was known
  // nDPI gave up on the flow, or only guessed from its ports, while a rule still depended on
  // the protocol. Not given: the same as on_undetermined.
  std::optional<Action> on_classifier_gave_up;
  // A stream an inspector reassembles (HL7, DICOM) outgrew its bound: no message can be
  // judged whole. Applied by the inspectors that reassemble.
  Action on_reassembly_limit = Action::Deny;
  Action classifier_gave_up() const { return on_classifier_gave_up.value_or(on_undetermined); }
  FullTableOutcome on_flow_table_full = FullTableOutcome::Deny;
  Action on_fragment = Action::Deny;   // IP fragments: no ports to judge, a classic evasion
  Action on_malformed = Action::Deny;  // frames that do not decode
  // A TCP flow whose handshake netmon did not see (it was started, or restarted, while the
  // connection was open; or an outsider's segment that belongs to no connection): its stream
  // cannot be anchored, so its messages cannot be read. Not given: deny when some rule judges
  // messages or a virtual patch is on, allow otherwise.
  std::optional<Action> on_midstream;
};

// Virtual patches: netmon's inspectors recognise the traffic of attacks that hit unpatched
// XP machines and stop it, whatever the rules allow. Each is on (deny) unless a policy says
// otherwise; `alert` records a hit and lets the traffic pass, `off` does not look.
enum class VirtualPatch : uint8_t {
  Ms17010,      // EternalBlue, DoublePulsar and the scanners that look for them (SMBv1)
  Ms08067,      // Conficker's srvsvc NetPathCanonicalize path traversal (SMB named pipe)
  Cve20190708,  // BlueKeep: an RDP client asking for the MS_T120 channel
  Ms06040,      // the srvsvc NetpwPathCanonicalize stack overflow: a path longer than MAX_PATH
  Ms04011,      // Sasser's LSASS overflow: a dssetup DsRolerUpgradeDownlevelServer call
  Ms05039,      // Zotob's Plug and Play overflow: a PNP_QueryResConfList call
  kCount
};
enum class PatchMode : uint8_t { Deny, Alert, Off };
const char* to_string(VirtualPatch p);  // "ms17-010", "ms08-067", "cve-2019-0708", "ms06-040", "ms04-011", "ms05-039"
const char* to_string(PatchMode m);
std::optional<VirtualPatch> virtual_patch_named(std::string_view name);

// One rule of the USB section, in USBGuard's rule language ("allow id 05e0:1200 serial ..."),
// kept as written with its place: passthrough compiles it with USBGuard's own library, so that
// the policy library (and netmon, which links it) needs none.
struct UsbRuleText {
  std::string text;
  std::string source;
  int line = 0;
  int column = 0;
};

struct GuestIdentity {
  MacAddr mac;
  IpAddr ipv4;
  std::vector<IpAddr> ipv6;  // the guest may only send IPv6 from these
};

struct Layer2 {
  bool dhcp_client = false;  // the guest may obtain its address by DHCP (as a client only)
  // The hospital's DHCP servers (or relays): the guest's requests may go to them (or be
  // broadcast), and only their replies reach it. Empty: replies from any server.
  std::vector<Cidr> dhcp_servers;
};

struct Policy {
  std::string name;
  std::optional<GuestIdentity> guest;  // absent only in the built-in replay policy
  Action default_action = Action::Deny;
  Layer2 layer2;
  Limits limits;
  Outcomes outcomes;
  std::array<PatchMode, static_cast<size_t>(VirtualPatch::kCount)> virtual_patches{};  // all Deny
  // Every inspector reads every flow it recognises, as if rules judged all their messages: for
  // replay's benchmarks and for exploring a capture (`replay --inspectors all`); never loaded.
  bool inspect_all = false;
  PatchMode patch(VirtualPatch p) const { return virtual_patches[static_cast<size_t>(p)]; }
  // Named address sets ("pharmacy-hl7": [10.20.0.5]), so that rules say what a peer is and
  // the addresses of a site are kept in one place.
  std::map<std::string, std::vector<Cidr>> sets;
  std::vector<Rule> rules;
  // Which USB devices reach the guest, first match wins; none matching: blocked.
  std::vector<UsbRuleText> usb_rules;
  // The rules compiled for the data path (rule_index.h); set by the loader once the rules are
  // final. Without it, evaluate() walks the rules one by one.
  std::shared_ptr<const RuleIndex> index;
  // The per-protocol blocks ("hl7", "smb", ...) some rule judges, also set by compile(): the
  // data path asks it of every flow an inspector recognises.
  std::vector<std::string> judged_blocks;
  bool judges(std::string_view block) const;
  // The outcome for a TCP flow picked up without its handshake (Outcomes::on_midstream).
  Action midstream_outcome() const;
};

// Builds `policy.index` and `policy.judged_blocks` from its rules.
void compile(Policy& policy);

// The policy that replay uses when none is given: no identity, no rules, everything allowed.
Policy allow_all_policy();

}  // namespace vitrine::policy
