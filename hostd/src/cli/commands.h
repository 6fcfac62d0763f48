// The `vitrine` command's groups, one file each: each adds its subcommands to the app and, when
// one of them is chosen, sets `action` to what runs it (after the whole line has parsed).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace vitrine::cli {

// Exit codes: 0 done, 1 failure of the machine (a tool missing, a disk error, hostd not
// there), 2 refused (the input or the request is not acceptable; the message says why).
inline constexpr int kExitFailure = 1;
inline constexpr int kExitRefused = 2;

using Action = std::function<int()>;

// status, events, devices, stop, start, snapshot, and `policy reload` under `policy`: through
// hostd's control socket (control_commands.cpp).
void add_control_commands(CLI::App& app, CLI::App& policy, Action& action);
// policy check, explain, test, learn (policy_commands.cpp). Returns the `policy` group.
CLI::App& add_policy_commands(CLI::App& app, Action& action);
// image import, verify, reset, snapshot (image_commands.cpp).
void add_image_commands(CLI::App& app, Action& action);
// cabinet check, domain-xml (image_commands.cpp).
void add_cabinet_commands(CLI::App& app, Action& action);

}  // namespace vitrine::cli
