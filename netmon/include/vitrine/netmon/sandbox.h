// What netmon keeps once its packet sockets, files and control socket are open: nothing. It
// parses every byte an attacker sends, so a flaw in a parser must find no privilege behind it.
//   - its own system user and group (no supplementary groups), when it was started as root;
//   - no capabilities: effective, permitted, inheritable and ambient sets empty, and the
//     bounding set empty, so that nothing it executes could regain one;
//   - no_new_privs;
//   - a seccomp allowlist of its own (netmon/src/sandbox_syscalls.cpp, each entry with its
//     reason): a socket of a family other than IPv4 and IPv6 is refused (glibc's resolver
//     asks for Unix and netlink ones and does without); any other call kills the process
//     (SIGSYS), which hostd records and answers by starting a new netmon.
// Entered before any thread is started, so that every thread has all of it.
#pragma once

#include <string>
#include <vector>

namespace vitrine::netmon {

// The account netmon runs as when hostd starts it (created by the package and by
// deploy/install-deps.sh: a system user with no shell and no home).
inline constexpr const char* kNetmonUser = "vitrine-netmon";

struct SandboxOptions {
  std::string user;  // empty: keep the uid netmon was started with (still no capabilities)
};

// Throws std::runtime_error, saying what could not be dropped: netmon then refuses to run.
void enter_sandbox(const SandboxOptions& options);

// The allowlist, by name (sandbox_syscalls.cpp): for the test that holds every name to a
// system call this kernel knows, and for the documentation.
struct AllowedSyscall {
  const char* name;
  const char* reason;
  bool on_conditions = false;  // allowed only for some arguments (install_syscall_filter says which)
};
const std::vector<AllowedSyscall>& allowed_syscalls();

// Loads only the seccomp filter, as enter_sandbox() does last (for the test that a call
// outside the list kills, run in a child process).
void install_syscall_filter();

}  // namespace vitrine::netmon
