#include "vitrine/policy/policy.h"

namespace vitrine::policy {

const char* to_string(Action a) {
  switch (a) {
    case Action::Allow: return "allow";
    case Action::Deny: return "deny";
    case Action::Alert: return "alert";
  }
  return "?";
}

const char* to_string(Direction d) { return d == Direction::Egress ? "egress" : "ingress"; }

const char* to_string(Transport t) {
  switch (t) {
    case Transport::Any: return "any";
    case Transport::Tcp: return "tcp";
    case Transport::Udp: return "udp";
    case Transport::Icmp: return "icmp";
  }
  return "?";
}

const char* to_string(Mode m) { return m == Mode::Enforce ? "enforce" : "monitor"; }

const char* to_string(VirtualPatch p) {
  switch (p) {
    case VirtualPatch::Ms17010: return "ms17-010";
    case VirtualPatch::Ms08067: return "ms08-067";
    case VirtualPatch::Cve20190708: return "cve-2019-0708";
    case VirtualPatch::Ms06040: return "ms06-040";
    case VirtualPatch::Ms04011: return "ms04-011";
    case VirtualPatch::Ms05039: return "ms05-039";
    case VirtualPatch::kCount: break;
  }
  return "?";
}

const char* to_string(PatchMode m) {
  switch (m) {
    case PatchMode::Deny: return "deny";
    case PatchMode::Alert: return "alert";
    case PatchMode::Off: return "off";
  }
  return "?";
}

std::optional<VirtualPatch> virtual_patch_named(std::string_view name) {
  for (size_t i = 0; i < static_cast<size_t>(VirtualPatch::kCount); ++i)
    if (name == to_string(static_cast<VirtualPatch>(i))) return static_cast<VirtualPatch>(i);
  return std::nullopt;
}

Policy allow_all_policy() {
  Policy p;
  p.name = "allow-all (built-in)";
  p.default_action = Action::Allow;
  p.outcomes.on_undetermined = Action::Allow;
  p.outcomes.on_fragment = Action::Allow;
  p.outcomes.on_malformed = Action::Allow;
  p.outcomes.on_flow_table_full = FullTableOutcome::EvictOldest;
  p.outcomes.on_midstream = Action::Allow;
  p.virtual_patches.fill(PatchMode::Alert);  // recorded, let through: replay shows, never decides
  return p;
}

}  // namespace vitrine::policy
