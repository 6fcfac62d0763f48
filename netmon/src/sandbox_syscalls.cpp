// netmon's seccomp allowlist, in the manner of Firecracker's: each system call with the reason
// netmon makes it once its sandbox is entered (the relay loop, the control thread, the metrics
// server's threads, the syslog sender, a policy reload's loader). The list was taken from
// strace over the integration and e2e suites, and tests/unit/netmon/test_sandbox.cpp holds
// every name to this kernel. Anything else kills the process.
#include <linux/sched.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <string>

#include "vitrine/netmon/sandbox.h"

namespace vitrine::netmon {

namespace {

// The list itself, a table read by allowed_syscalls(): each entry with the reason it is needed.
const AllowedSyscall kAllowed[] = {
    // Frames: the rings and libpcap's sockets, both ways.
    {"poll", "the relay waits for frames; the control and metrics threads for clients"},
    {"ppoll", "glibc's poll() on some paths"},
    {"recvfrom", "libpcap reads frames; the metrics server reads requests"},
    {"sendto", "frames sent (the TX ring is kicked with a zero-length send); syslog over UDP"},
    {"recvmsg", "libpcap with the pcap back end"},
    {"sendmsg", "syslog and the metrics server"},
    {"sendmmsg", "glibc's resolver asks for A and AAAA at once (the SIEM's name)"},
    {"setsockopt", "priority lanes: a flow's BPF filter attached again when the policy or the flows change"},
    {"getsockopt", "capture statistics (PACKET_STATISTICS); the control socket's peer credentials"},
    // Files already open: events, logs, the control socket, reading a policy on SIGHUP.
    {"read", "files and sockets"},
    {"write", "events (JSON lines), the log, sockets"},
    {"writev", "the log and the metrics server"},
    {"openat", "a SIGHUP reload reads the policy file again"},
    {"close", "files and sockets"},
    {"fstat", "reading a file"},
    {"newfstatat", "reading a file (glibc's fstat)"},
    {"lseek", "reading a file"},
    {"fcntl", "sockets made non-blocking"},
    {"ioctl", "FIONREAD and friends on sockets (libpcap, the metrics server)"},
    {"unlink", "the control socket's file, at exit"},
    {"fsync", "events flushed to disk"},
    {"fdatasync", "events flushed to disk"},
    // Sockets the metrics server and the syslog sender make (their domain is checked below).
    {"connect", "the syslog sender (re)connects to the SIEM"},
    {"bind", "the metrics server's listening socket"},
    {"listen", "the metrics server's listening socket"},
    {"accept", "the metrics server's clients"},
    {"accept4", "the control socket's and the metrics server's clients"},
    {"getsockname", "the metrics server"},
    {"getpeername", "the metrics server"},
    {"shutdown", "the metrics server closes a connection"},
    // Memory.
    {"brk", "the allocator"},
    {"mmap", "the allocator; thread stacks"},
    {"munmap", "the allocator; thread stacks"},
    {"mprotect", "thread stacks' guard pages"},
    {"mremap", "the allocator"},
    {"madvise", "the allocator returns memory"},
    // Threads and their synchronisation.
    {"futex", "mutexes and condition variables"},
    {"set_robust_list", "every new thread"},
    {"rseq", "every new thread (glibc 2.35+)"},
    {"sched_yield", "spinning locks"},
    {"sched_getaffinity", "std::thread::hardware_concurrency"},
    {"gettid", "the log's thread id"},
    {"getpid", "the control socket's answers; abort()"},
    {"getuid", "the start line of the log names the uid netmon runs as"},
    {"getrusage", "nDPI seeds itself when a reload makes the loader's classifier"},
    {"uname", "the metrics server (civetweb) reads the system's name when it starts"},
    {"exit", "a thread ends"},
    {"exit_group", "netmon ends"},
    // Signals: SIGTERM and SIGHUP are handled; threads start with them blocked.
    {"rt_sigaction", "handlers (the metrics server ignores SIGPIPE)"},
    {"rt_sigprocmask", "new threads start with every signal blocked"},
    {"rt_sigreturn", "a handler returns"},
    {"restart_syscall", "a call interrupted by a signal resumes"},
    {"tgkill", "only to netmon itself: abort() on a failed assertion ends the process with SIGABRT", true},
    // Time: the vDSO answers most, the kernel the rest.
    {"clock_gettime", "timestamps and deadlines"},
    {"gettimeofday", "timestamps"},
    {"clock_nanosleep", "the syslog sender's back-off; the metrics server"},
    {"nanosleep", "the syslog sender's back-off"},
    // Randomness.
    {"getrandom", "hash seeds and std::random_device (nDPI, the standard library)"},
    // With conditions (install_syscall_filter):
    {"socket", "only AF_INET and AF_INET6: the metrics server, the syslog sender and its resolver; other "
               "families are refused (EAFNOSUPPORT), a packet socket among them", true},
    {"clone", "only with CLONE_THREAD: threads, never a process", true},
    {"prctl", "only PR_SET_NAME and PR_GET_NAME: threads name themselves", true},
#if defined(__SANITIZE_ADDRESS__)
    // The sanitizer build only (tests/sanitizer): its runtime's own calls.
    {"pipe2", "AddressSanitizer checks that memory is readable by writing it to a pipe"},
    {"sigaltstack", "AddressSanitizer's stack for its signal handlers, per thread"},
#endif
};

}  // namespace

const std::vector<AllowedSyscall>& allowed_syscalls() {
  static const std::vector<AllowedSyscall> list(std::begin(kAllowed), std::end(kAllowed));
  return list;
}

namespace {

[[noreturn]] void fail(const std::string& what, int rc) {
  throw std::runtime_error("seccomp: " + what + ": " + std::strerror(-rc));
}

int resolve(const char* name) {
  const int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) throw std::runtime_error(std::string("seccomp: no system call named ") + name);
  return nr;
}

// The first argument compared: libseccomp's SCMP_A0 leaves a field to the compiler.
scmp_arg_cmp arg0(scmp_compare op, uint64_t a, uint64_t b = 0) { return scmp_arg_cmp{0, op, a, b}; }

void add_conditional_rules(scmp_filter_ctx ctx) {
  const auto allow = [&](const char* name, std::initializer_list<scmp_arg_cmp> args) {
    for (const scmp_arg_cmp& a : args) {
      const int rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, resolve(name), 1, &a);
      if (rc != 0) fail(name, rc);
    }
  };
  allow("socket", {arg0(SCMP_CMP_EQ, AF_INET), arg0(SCMP_CMP_EQ, AF_INET6)});
  // Other families are refused, not fatal: resolving the SIEM's name (glibc's getaddrinfo) asks
  // for a Unix socket to nscd and a netlink one for address selection, and carries on without
  // them. That covers AF_UNSPEC and AF_UNIX below AF_INET and every family above AF_INET6
  // (netlink, packet, ...); the few between them stay fatal.
  for (const scmp_arg_cmp a : {arg0(SCMP_CMP_LT, AF_INET), arg0(SCMP_CMP_GT, AF_INET6)})
    if (const int rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), resolve("socket"), 1, &a); rc != 0)
      fail("socket", rc);
  allow("clone", {arg0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)});
  allow("prctl", {arg0(SCMP_CMP_EQ, PR_SET_NAME), arg0(SCMP_CMP_EQ, PR_GET_NAME)});
  // A signal to one of its own threads only, never to another process of its user (another
  // cabinet's netmon).
  allow("tgkill", {arg0(SCMP_CMP_EQ, static_cast<uint64_t>(getpid()))});
  // clone3 passes its flags in memory, where a filter cannot look: glibc falls back to clone
  // (whose flags are checked above) when it answers ENOSYS.
  const int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), resolve("clone3"), 0);
  if (rc != 0) fail("clone3", rc);
}

}  // namespace

void install_syscall_filter() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (!ctx) throw std::runtime_error("seccomp: seccomp_init failed");
  try {
    // Every thread, should one exist already.
    if (const int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1); rc != 0) fail("TSYNC", rc);
    for (const AllowedSyscall& s : allowed_syscalls()) {
      if (s.on_conditions) continue;  // add_conditional_rules
      if (const int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, resolve(s.name), 0); rc != 0) fail(s.name, rc);
    }
    add_conditional_rules(ctx);
    if (const int rc = seccomp_load(ctx); rc != 0) fail("load", rc);
  } catch (...) {
    seccomp_release(ctx);
    throw;
  }
  seccomp_release(ctx);
}

}  // namespace vitrine::netmon
