// vitrine: the operator's command line. It talks to a running hostd through its control
// socket, manages a cabinet's disk images, and checks cabinet descriptions.
//
//   vitrine status [--json]                  guest, supervision, netmon, policy, counters
//   vitrine events [--last N] [--json]       hostd's and netmon's events, in time order
//   vitrine stop | start                     the guest (stop: ACPI, then destroy)
//   vitrine devices [--json]                 USB devices present: decision, rule, in the guest or not
//   vitrine snapshot create|revert|delete NAME [--stop-guest] | list
//   vitrine policy check FILE                validate; warnings for rules never reached
//   vitrine policy reload [--socket PATH]    the running cabinet's netmon reads its policy again
//   vitrine policy test FILE --pcap CAPTURE [--expect EXPECT.yaml] [--checksums ignore]   verdict of every flow
//   vitrine policy learn --pcap CAPTURE [--checksums ignore] | --events FILE --guest IP --guest-mac MAC   a draft allowlist
//   vitrine policy explain FILE --flow "tcp 10.77.0.2:1025 -> 10.77.0.1:445" [--protocol NAME
//       [--attr dns.name=pharmacy.ward3.local ...]]
//       (control commands take [--socket PATH]; default: the one socket in /run/vitrine)
//   vitrine cabinet check FILE
//   vitrine cabinet domain-xml FILE          (the libvirt domain hostd would define)
//   vitrine image import SRC --store DIR [--sha256 HEX]
//   vitrine image verify --store DIR
//   vitrine image reset --store DIR
//   vitrine image snapshot create|revert|delete NAME --store DIR
//   vitrine image snapshot list --store DIR
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "vitrine/common/version.h"

int main(int argc, char** argv) {
  using namespace vitrine::cli;
  CLI::App app{"vitrine: keep a cabinet's certified software running on new hardware"};
  app.set_version_flag("--version", std::string("vitrine ") + vitrine::kVersion);
  app.require_subcommand(1);
  Action action;  // set by the callback of whichever command the line names
  add_image_commands(app, action);
  add_cabinet_commands(app, action);
  CLI::App& policy = add_policy_commands(app, action);
  add_control_commands(app, policy, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitRefused;
  }
  if (!action) {
    std::cerr << app.help();
    return kExitRefused;
  }
  return action();
}
