#include <gtest/gtest.h>

#include "vitrine/hostd/restart_policy.h"

using namespace std::chrono_literals;
using vitrine::hostd::RestartPolicy;
using Verdict = RestartPolicy::Verdict;

namespace {
const RestartPolicy::Clock::time_point t0{};

// Stops the guest at `now`, waits out the back-off and restarts it; returns the restart time.
RestartPolicy::Clock::time_point stop_and_restart(RestartPolicy& p, RestartPolicy::Clock::time_point now) {
  EXPECT_EQ(p.guest_stopped(now), Verdict::Scheduled);
  const auto due = *p.next_start();
  EXPECT_FALSE(p.restart_due(due - 1ms));
  EXPECT_TRUE(p.restart_due(due));
  EXPECT_FALSE(p.restart_due(due)) << "a restart is due once";
  return due;
}
}  // namespace

TEST(RestartPolicy, BackoffDoublesFromOneSecondToOneMinute) {
  RestartPolicy p;
  auto now = t0;
  std::vector<long> waits;
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(p.guest_stopped(now), Verdict::Scheduled);
    const auto due = *p.next_start();
    waits.push_back(std::chrono::duration_cast<std::chrono::seconds>(due - now).count());
    ASSERT_TRUE(p.restart_due(due));
    now = due + 3min;  // at most 4 restarts in any window: no crash loop
  }
  EXPECT_EQ(waits, (std::vector<long>{1, 2, 4, 8, 16, 32, 60, 60}));
}

TEST(RestartPolicy, SixthStopWithinTheWindowIsACrashLoop) {
  RestartPolicy p;
  auto now = t0;
  for (size_t i = 0; i < vitrine::hostd::kCrashLoopRestarts; ++i) now = stop_and_restart(p, now) + 1s;
  EXPECT_EQ(p.restarts_total(), vitrine::hostd::kCrashLoopRestarts);
  EXPECT_EQ(p.guest_stopped(now), Verdict::CrashLoop);
  EXPECT_TRUE(p.crash_loop());
  EXPECT_FALSE(p.scheduled());
  EXPECT_FALSE(p.restart_due(now + 1h)) << "no restart once a crash loop is declared";
  EXPECT_EQ(p.guest_stopped(now + 1h), Verdict::CrashLoop);
}

TEST(RestartPolicy, RestartsOlderThanTheWindowDoNotCount) {
  RestartPolicy p;
  auto now = t0;
  for (size_t i = 0; i < vitrine::hostd::kCrashLoopRestarts; ++i) now = stop_and_restart(p, now) + 1s;
  now += vitrine::hostd::kCrashLoopWindow;
  EXPECT_EQ(p.guest_stopped(now), Verdict::Scheduled);
}

TEST(RestartPolicy, AStopWhileARestartIsScheduledIsNotCountedTwice) {
  RestartPolicy p;
  ASSERT_EQ(p.guest_stopped(t0), Verdict::Scheduled);
  EXPECT_EQ(p.guest_stopped(t0 + 100ms), Verdict::AlreadyScheduled);
  EXPECT_EQ(*p.next_start(), t0 + vitrine::hostd::kFirstBackoff);
}

TEST(RestartPolicy, AHealthyRunResetsTheBackoff) {
  RestartPolicy p;
  auto now = stop_and_restart(p, t0);
  now = stop_and_restart(p, now + 1s);
  EXPECT_EQ(p.backoff(), 4s);
  p.guest_running(now + vitrine::hostd::kCrashLoopWindow - 1s);
  EXPECT_EQ(p.backoff(), 4s) << "not yet a whole window";
  p.guest_running(now + vitrine::hostd::kCrashLoopWindow);
  EXPECT_EQ(p.backoff(), vitrine::hostd::kFirstBackoff);
  EXPECT_EQ(p.restarts_in_window(), 0u);
}

TEST(RestartPolicy, AnOperatorStartClearsACrashLoop) {
  RestartPolicy p;
  auto now = t0;
  for (size_t i = 0; i < vitrine::hostd::kCrashLoopRestarts; ++i) now = stop_and_restart(p, now) + 1s;
  ASSERT_EQ(p.guest_stopped(now), Verdict::CrashLoop);
  p.reset();
  EXPECT_FALSE(p.crash_loop());
  EXPECT_EQ(p.guest_stopped(now), Verdict::Scheduled);
  EXPECT_EQ(*p.next_start(), now + vitrine::hostd::kFirstBackoff);
  EXPECT_EQ(p.restarts_total(), vitrine::hostd::kCrashLoopRestarts) << "the total is kept";
}
