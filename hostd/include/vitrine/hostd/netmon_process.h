// hostd's side of netmon: starting it, adopting one that runs already, knowing when it has
// ended, stopping it, and asking it things. Everything goes through netmon's control socket
// (vitrine/netmon/netmon_control.h) and the kernel: who answers is the socket's peer pid
// (SO_PEERCRED), whether it lives is a pidfd, and whether any netmon still relays for the
// cabinet is its lock (vitrine/common/process_lock.h). No pid file, no command line read
// from /proc, no scrape of its metrics, no signal for a reload.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vitrine::hostd {

// netmon answers `ready` within a second of starting; a loaded host gets longer.
inline constexpr std::chrono::seconds kNetmonReadyTimeout{30};
// A stopped netmon flushes its events and ends within milliseconds; then it is killed.
inline constexpr std::chrono::seconds kNetmonStopGrace{10};
// `status` is answered from counters in memory: quickly, or netmon is in trouble.
inline constexpr std::chrono::seconds kNetmonQueryTimeout{2};
// A netmon that does not answer `ready` within this is hung, and is stopped before another
// starts. Its control thread answers at once (also during a reload); on a host loaded by a
// TCG guest it was seen to take over 2 s, and stopping a healthy relay cuts the cabinet off.
inline constexpr std::chrono::seconds kNetmonAdoptTimeout{10};
// netmon waits up to 15 s for a policy to load (kReloadAnswerTimeout); a little more here.
inline constexpr std::chrono::seconds kNetmonReloadTimeout{20};

struct NetmonLaunch {
  std::string binary;
  std::vector<std::string> args;  // everything but --control and --lock, which this adds
  std::string control_path;
  std::string lock_path;
  std::string log_path;  // its stdout and stderr
};

class NetmonProcess {
 public:
  explicit NetmonProcess(NetmonLaunch launch);
  ~NetmonProcess();
  NetmonProcess(const NetmonProcess&) = delete;
  NetmonProcess& operator=(const NetmonProcess&) = delete;

  // A netmon that answers `ready` on the control socket and holds the lock becomes this one
  // (its answer is kept); one that answers without holding the lock is stopped.
  bool adopt();
  // Makes sure no netmon holds the cabinet's lock (stopping one that does but did not answer),
  // starts one and waits for its `ready`. Throws std::runtime_error saying why it could not.
  void start();
  // Whether it runs. When it has just been seen to end, `exit_status` says how.
  bool alive();
  const std::string& exit_status() const { return exit_status_; }
  // Whether it holds the cabinet's lock on the file at the lock's path: not when the file was
  // replaced under it (then the lock no longer keeps a second netmon off the tap).
  bool holds_lock() const;
  // SIGTERM, then SIGKILL after kNetmonStopGrace; returns once it is gone.
  void stop();

  // One request on its control socket. Throws std::runtime_error when it does not answer.
  nlohmann::json request(const nlohmann::json& request, std::chrono::milliseconds timeout) const;

  pid_t pid() const { return pid_; }
  const std::string& control_path() const { return launch_.control_path; }
  bool is_child() const { return child_; }
  // The sha256 of the policy it enforced when it answered `ready` ("" if it named none).
  std::string enforced_sha256() const { return ready_.value("/policy/sha256"_json_pointer, ""); }

 private:
  void take(pid_t pid, bool child);
  void forget();
  void stop_pid(pid_t pid, int handle, bool child);
  void wait_ready();

  NetmonLaunch launch_;
  pid_t pid_ = -1;
  int handle_ = -1;  // pidfd
  bool child_ = false;
  std::string exit_status_;
  nlohmann::json ready_;
};

}  // namespace vitrine::hostd
