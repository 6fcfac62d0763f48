#include "vitrine/hostd/restart_policy.h"

#include <algorithm>

namespace vitrine::hostd {

RestartPolicy::Verdict RestartPolicy::guest_stopped(Clock::time_point now) {
  if (crash_loop_) return Verdict::CrashLoop;
  if (next_start_) return Verdict::AlreadyScheduled;
  while (!recent_.empty() && now - recent_.front() > kCrashLoopWindow) recent_.pop_front();
  if (recent_.size() >= kCrashLoopRestarts) {
    crash_loop_ = true;
    return Verdict::CrashLoop;
  }
  next_start_ = now + backoff_;
  return Verdict::Scheduled;
}

bool RestartPolicy::restart_due(Clock::time_point now) {
  if (crash_loop_ || !next_start_ || now < *next_start_) return false;
  next_start_.reset();
  recent_.push_back(now);
  last_start_ = now;
  ++restarts_total_;
  backoff_ = std::min(backoff_ * 2, std::chrono::seconds(kMaxBackoff));
  return true;
}

void RestartPolicy::guest_running(Clock::time_point now) {
  if (!recent_.empty() && now - last_start_ >= kCrashLoopWindow) {
    recent_.clear();
    backoff_ = kFirstBackoff;
  }
}

void RestartPolicy::reset() {
  recent_.clear();
  next_start_.reset();
  backoff_ = kFirstBackoff;
  crash_loop_ = false;
}

}  // namespace vitrine::hostd
