// The virtual patches that read whole DCE/RPC calls written to a named pipe (dcerpc.h joins
// them): each names the interface and operation an XP-era worm or exploit calls, and what in
// its stub makes the call the attack.
#pragma once

#include <cstdint>
#include <optional>

#include "smb/dcerpc.h"
#include "vitrine/policy/policy.h"

namespace vitrine::netmon::smb {

// Stable signature ids, in events and metrics.
inline constexpr const char* kSignaturePathCanonicalize = "vitrine.smb.ms08-067.netpathcanonicalize-traversal";
// NetprPathCompare canonicalises both its paths with the same flawed code: nmap's
// smb-vuln-ms08-067 check calls it with the path \AAA...\..\n, which climbs out.
inline constexpr const char* kSignaturePathCompare = "vitrine.smb.ms08-067.netpathcompare-traversal";
// A NetprPathCanonicalize or NetprPathCompare path longer than MAX_PATH: MS06-040's overflow.
inline constexpr const char* kSignatureLongPath = "vitrine.smb.ms06-040.path-longer-than-max-path";
inline constexpr const char* kSignatureDsRoleUpgrade = "vitrine.smb.ms04-011.dsrole-upgrade-downlevel-server";
inline constexpr const char* kSignaturePnpQueryResConfList = "vitrine.smb.ms05-039.pnp-query-res-conf-list";

// The srvsvc operations that reach MS08-067's flawed path canonicalisation ([MS-SRVS]).
inline constexpr uint16_t kOpnumNetprPathCanonicalize = 31;
inline constexpr uint16_t kOpnumNetprPathCompare = 32;
// MAX_PATH: the longest path Windows canonicalises for a client.
inline constexpr uint32_t kMaxPathChars = 260;
// The directory role setup interface (dssetup, 3919286a-b10c-11d0-9ba8-00c04fd92ef5, on the
// lsarpc pipe, [MS-DSSP]) and its operation 9, DsRolerUpgradeDownlevelServer (Sasser's).
inline constexpr Uuid kDssetupInterface = {0x6a, 0x28, 0x19, 0x39, 0x0c, 0xb1, 0xd0, 0x11,
                                           0x9b, 0xa8, 0x00, 0xc0, 0x4f, 0xd9, 0x2e, 0xf5};
inline constexpr uint16_t kOpnumDsRolerUpgradeDownlevelServer = 9;
// The Plug and Play service's interface (8d9f4e40-a03d-11ce-8f69-08003e30051b, on the browser
// and ntsvcs pipes, [MS-PNPR]) and its operation 54, PNP_QueryResConfList (Zotob's).
inline constexpr Uuid kPnpInterface = {0x40, 0x4e, 0x9f, 0x8d, 0x3d, 0xa0, 0xce, 0x11,
                                       0x8f, 0x69, 0x08, 0x00, 0x3e, 0x30, 0x05, 0x1b};
inline constexpr uint16_t kOpnumPnpQueryResConfList = 54;

struct RpcSignature {
  policy::VirtualPatch patch = policy::VirtualPatch::Ms08067;
  const char* signature = nullptr;  // none: the call is no attack these patches know
  // A call whose stub a patch would read but cannot (sealed): that patch is blind to it.
  std::optional<policy::VirtualPatch> blind;
};

const char* ms08_067_signature(const RpcCall& call);
const char* ms06_040_signature(const RpcCall& call);
const char* ms04_011_signature(const RpcCall& call);
const char* ms05_039_signature(const RpcCall& call);
// The signature a whole call carries, with its patch.
RpcSignature rpc_signature(const RpcCall& call);

}  // namespace vitrine::netmon::smb
