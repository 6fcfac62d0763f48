// netmon's sandbox: every name in its allowlist is a system call of this kernel, what the relay
// needs still works inside it, and what is not on the list kills the process. Each case runs in
// a child process: a filter, once loaded, is for life.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <seccomp.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <string>

#include "vitrine/netmon/sandbox.h"

namespace vitrine::testing {
namespace {

// Runs `body` in a child inside the sandbox (no user switch: the test may not be root's to
// give away); returns its wait status.
int in_sandbox(const std::function<int()>& body) {
  const pid_t pid = fork();
  if (pid == 0) {
    try {
      netmon::enter_sandbox({});
    } catch (...) {
      _exit(90);
    }
    _exit(body());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

std::string status_field(const std::string& name) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(name + ":", 0) == 0) return line.substr(name.size() + 1);
  return "";
}

TEST(Sandbox, EveryAllowedNameIsASystemCallOfThisKernelWithAReason) {
  for (const auto& s : netmon::allowed_syscalls()) {
    EXPECT_NE(seccomp_syscall_resolve_name(s.name), __NR_SCMP_ERROR) << s.name;
    EXPECT_GT(std::string(s.reason).size(), 5u) << s.name;
  }
}

TEST(Sandbox, WhatTheRelayNeedsStillWorks) {
  const int status = in_sandbox([] {
    const int tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);  // metrics, syslog
    if (tcp < 0) return 1;
    close(tcp);
    if (prctl(PR_SET_NAME, "worker", 0, 0, 0) != 0) return 2;
    if (status_field("NoNewPrivs").find('1') == std::string::npos) return 3;
    if (status_field("Seccomp").find('2') == std::string::npos) return 4;
    if (status_field("CapEff").find("0000000000000000") == std::string::npos) return 5;
    if (status_field("CapBnd").find("0000000000000000") == std::string::npos && getuid() == 0) return 6;
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(Sandbox, SocketsOfOtherFamiliesAreRefused) {
  // A packet socket (no capability would open one anyway), netlink, a Unix socket: refused, so
  // that glibc's resolver carries on without nscd and netlink.
  const int status = in_sandbox([] {
    for (const int family : {AF_PACKET, AF_NETLINK, AF_UNIX})
      if (socket(family, SOCK_RAW, 0) >= 0 || errno != EAFNOSUPPORT) return 1;
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(Sandbox, ACallOutsideTheListKillsTheProcess) {
  // Executing a program, forking, tracing, signalling another process: none is netmon's to do.
  const pid_t parent = getpid();
  const std::vector<std::pair<const char*, std::function<int()>>> forbidden = {
      {"execve", [] { execl("/bin/true", "true", nullptr); return 0; }},
      {"fork", [] { return static_cast<int>(syscall(SYS_fork)) >= 0 ? 0 : 0; }},
      {"prctl(PR_SET_DUMPABLE)", [] { return prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) >= 0 ? 0 : 0; }},
      {"tgkill(another process)", [parent] { return static_cast<int>(syscall(SYS_tgkill, parent, parent, 0)) >= 0 ? 0 : 0; }},
      {"kill", [parent] { return kill(parent, 0) >= 0 ? 0 : 0; }},
  };
  for (const auto& [what, call] : forbidden) {
    const int status = in_sandbox(call);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
        << what << ": " << (WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                                 : "exit " + std::to_string(WEXITSTATUS(status)));
  }
}

}  // namespace
}  // namespace vitrine::testing
