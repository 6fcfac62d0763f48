// hostd's supervision of one cabinet: its tap, its netmon (always started, and ready, before
// the guest), and its libvirt domain, restarted with back-off when it stops or crashes until a
// crash loop is declared. Both the guest and netmon outlive hostd: a restarted hostd adopts
// them instead of starting new ones.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <string>

#include "vitrine/hostd/cabinet.h"

struct _virConnect;
struct _virDomain;

namespace vitrine::hostd {

struct SupervisorOptions {
  std::string netmon_binary;
  std::string state_dir = "/run/vitrine";
  std::string libvirt_uri = "qemu:///system";
  // XP's ACPI shutdown, under TCG, may take a minute; then the guest is destroyed.
  std::chrono::seconds shutdown_timeout{60};
};

// Restart policy: 1 s after the first stop, doubling to 60 s; more than 5 restarts within 10
// minutes is a crash loop, which is reported and no longer restarted.
inline constexpr std::chrono::seconds kFirstBackoff{1};
inline constexpr std::chrono::seconds kMaxBackoff{60};
inline constexpr size_t kCrashLoopRestarts = 5;
inline constexpr std::chrono::minutes kCrashLoopWindow{10};

class Supervisor {
 public:
  Supervisor(Cabinet cabinet, SupervisorOptions options);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Brings the cabinet up (or adopts it) and supervises it until `stop` is set; then shuts the
  // guest down gracefully and stops netmon. Throws std::runtime_error if it cannot start.
  void run(const std::atomic<bool>& stop);

 private:
  void ensure_tap();
  void ensure_netmon();
  bool netmon_alive();
  void wait_netmon_ready();
  void ensure_guest();
  void start_guest();
  void supervise_guest();
  void shutdown();
  std::string pidfile() const;

  Cabinet cabinet_;
  SupervisorOptions options_;
  _virConnect* conn_ = nullptr;
  pid_t netmon_pid_ = -1;
  bool netmon_is_child_ = false;
  std::deque<std::chrono::steady_clock::time_point> restarts_;
  std::chrono::steady_clock::time_point next_start_{};
  std::chrono::seconds backoff_{kFirstBackoff};
  bool crash_loop_ = false;
};

}  // namespace vitrine::hostd
