// When hostd starts a guest again after it stopped without being asked to: after a back-off
// that doubles with each restart, and never again once the guest has stopped too often in a
// short time (a crash loop), until an operator starts it. Pure logic on given time points, so
// that it is tested without waiting.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

namespace vitrine::hostd {

// 1 s after the first stop, doubling to 60 s: a guest that dies at once is not restarted in a
// tight loop, and one that died once is back within seconds.
inline constexpr std::chrono::seconds kFirstBackoff{1};
inline constexpr std::chrono::seconds kMaxBackoff{60};
// More than 5 restarts within 10 minutes is a crash loop: restarting will not fix it, and each
// boot of a cabinet may touch its drawers; a person must look. A guest that has run for the
// whole window is considered healthy again and its back-off starts over.
inline constexpr size_t kCrashLoopRestarts = 5;
inline constexpr std::chrono::minutes kCrashLoopWindow{10};

class RestartPolicy {
 public:
  using Clock = std::chrono::steady_clock;

  enum class Verdict { Scheduled, AlreadyScheduled, CrashLoop };

  // The guest was seen not running, unasked. Schedules its restart or declares a crash loop.
  Verdict guest_stopped(Clock::time_point now);
  // True once, when a scheduled restart is due; records the restart.
  bool restart_due(Clock::time_point now);
  // The guest is seen running: after a whole window without a stop, the back-off starts over.
  void guest_running(Clock::time_point now);
  // An operator started the guest: the crash loop and the history are forgotten.
  void reset();

  bool crash_loop() const { return crash_loop_; }
  bool scheduled() const { return next_start_.has_value(); }
  std::optional<Clock::time_point> next_start() const { return next_start_; }
  std::chrono::seconds backoff() const { return backoff_; }
  uint64_t restarts_total() const { return restarts_total_; }
  size_t restarts_in_window() const { return recent_.size(); }

 private:
  std::deque<Clock::time_point> recent_;  // restarts within the window, oldest first
  std::optional<Clock::time_point> next_start_;
  Clock::time_point last_start_{};
  std::chrono::seconds backoff_{kFirstBackoff};
  bool crash_loop_ = false;
  uint64_t restarts_total_ = 0;
};

}  // namespace vitrine::hostd
