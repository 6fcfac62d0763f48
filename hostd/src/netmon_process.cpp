#include "vitrine/hostd/netmon_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "vitrine/common/control_socket.h"
#include "vitrine/common/process_lock.h"

extern char** environ;

namespace vitrine::hostd {

namespace {

using Clock = std::chrono::steady_clock;

// After SIGKILL the kernel frees a process within milliseconds; a stuck one in D state longer.
constexpr int kKilledWaitMs = 5000;
// How often a starting netmon is asked again while its socket is not there yet.
constexpr int kReadyRetryMs = 50;

int ms(std::chrono::milliseconds d) { return static_cast<int>(d.count()); }

// A signal to the process behind the handle, never to a pid reused since. netmon runs as
// another user: without CAP_KILL hostd cannot signal it, and says so.
void signal_process(int handle, pid_t pid, int sig) {
  if (pid <= 0) return;  // never a process group, never every process
  const bool sent = handle >= 0 ? syscall(SYS_pidfd_send_signal, handle, sig, nullptr, 0) == 0 : kill(pid, sig) == 0;
  if (!sent && errno != ESRCH)
    spdlog::error("cannot signal netmon (pid {}) with {}: {}", pid, strsignal(sig), std::strerror(errno));
}

std::string describe(int status) {
  return WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                             : "exit " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

NetmonProcess::NetmonProcess(NetmonLaunch launch) : launch_(std::move(launch)) {}

NetmonProcess::~NetmonProcess() {
  if (handle_ >= 0) close(handle_);
}

void NetmonProcess::take(pid_t pid, bool child) {
  forget();
  pid_ = pid;
  child_ = child;
  handle_ = open_process_handle(pid);
  exit_status_.clear();
}

void NetmonProcess::forget() {
  if (handle_ >= 0) close(handle_);
  handle_ = -1;
  pid_ = -1;
  child_ = false;
}

nlohmann::json NetmonProcess::request(const nlohmann::json& request, std::chrono::milliseconds timeout) const {
  return control_request(launch_.control_path, request, timeout);
}

bool NetmonProcess::adopt() {
  pid_t peer = -1;
  nlohmann::json answer;
  try {
    answer = control_request(launch_.control_path, {{"command", "ready"}}, kNetmonAdoptTimeout, &peer);
  } catch (const std::runtime_error&) {
    return false;  // nothing answers there
  }
  if (!answer.value("ok", false) || peer <= 0) return false;
  // The one that answers must be the one that relays: it holds the cabinet's lock. One that
  // answers without holding it (the lock file was replaced under it) relays all the same: it
  // is stopped, or the netmon started next would share its tap.
  if (ProcessLock::holder(launch_.lock_path) != peer) {
    spdlog::error("netmon (pid {}) answers on {} but does not hold {} (the file was replaced?): stopping it",
                  peer, launch_.control_path, launch_.lock_path);
    const int handle = open_process_handle(peer);
    stop_pid(peer, handle, false);
    if (handle >= 0) close(handle);
    return false;
  }
  take(peer, false);
  ready_ = std::move(answer);
  return true;
}

bool NetmonProcess::holds_lock() const { return pid_ > 0 && ProcessLock::holder(launch_.lock_path) == pid_; }

bool NetmonProcess::alive() {
  if (pid_ <= 0) return false;
  if (!process_ended(handle_)) return true;
  int status = 0;
  exit_status_ = child_ && waitpid(pid_, &status, 0) == pid_ ? describe(status) : "gone";
  forget();
  return false;
}

void NetmonProcess::stop_pid(pid_t pid, int handle, bool child) {
  signal_process(handle, pid, SIGTERM);
  if (!wait_process_end(handle, ms(kNetmonStopGrace))) {
    spdlog::warn("netmon (pid {}) did not stop within {} s: killing it", pid, kNetmonStopGrace.count());
    signal_process(handle, pid, SIGKILL);
    if (!wait_process_end(handle, kKilledWaitMs)) spdlog::error("netmon (pid {}) outlived SIGKILL", pid);
  }
  if (child) waitpid(pid, nullptr, 0);
}

void NetmonProcess::stop() {
  if (!alive()) return;
  stop_pid(pid_, handle_, child_);
  forget();
}

void NetmonProcess::start() {
  if (const auto holder = ProcessLock::holder(launch_.lock_path)) {
    // A netmon that still relays for this cabinet but did not answer: the tap is not shared.
    spdlog::warn("netmon (pid {}) holds {} but does not answer: stopping it first", *holder, launch_.lock_path);
    const int handle = open_process_handle(*holder);
    stop_pid(*holder, handle, false);
    if (handle >= 0) close(handle);
  }
  std::vector<std::string> args = {launch_.binary};
  args.insert(args.end(), launch_.args.begin(), launch_.args.end());
  args.insert(args.end(), {"--control", launch_.control_path, "--lock", launch_.lock_path});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, launch_.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0640);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own session: netmon must outlive hostd (a SIGKILL of hostd's group must not reach it).
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::runtime_error("cannot start netmon: " + std::string(std::strerror(rc)));
  take(pid, true);
  try {
    wait_ready();
  } catch (...) {
    stop();  // nothing half-started is left to relay on its own
    throw;
  }
}

void NetmonProcess::wait_ready() {
  const auto deadline = Clock::now() + kNetmonReadyTimeout;
  for (;;) {
    if (!alive())
      throw std::runtime_error("netmon exited at start (" + exit_status_ + "): see " + launch_.log_path);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0)
      throw std::runtime_error("netmon did not become ready within " + std::to_string(kNetmonReadyTimeout.count()) + " s");
    try {
      // Answered only once netmon is ready: until then the request waits in the backlog.
      ready_ = request({{"command", "ready"}}, left);
      if (ready_.value("ready", false)) return;
    } catch (const std::runtime_error&) {
      // Not listening yet: wait for it, or for its end, a moment.
      wait_process_end(handle_, kReadyRetryMs);
    }
  }
}

}  // namespace vitrine::hostd
