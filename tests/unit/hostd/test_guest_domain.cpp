// GuestDomain over a fake GuestDriver, a fake loop and a clock the test moves: crashes and the
// restart back-off, a crash loop, adoption, an operator's stop (over in milliseconds when the
// guest goes down at once, destroyed at the deadline when it does not), without a hypervisor.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "temp_dir.h"
#include "vitrine/hostd/guest_domain.h"

using namespace std::chrono_literals;
using namespace vitrine::hostd;
using nlohmann::json;
using vitrine::testing::TempDir;

namespace {

using Clock = GuestDomain::Clock;

// A guest that does what the test says, when it says.
class FakeGuestDriver : public GuestDriver {
 public:
  bool running = false;
  bool start_fails = false;
  bool acpi_refused = false;   // request_shutdown cannot even be made
  bool acpi_ignored = false;   // the guest does not react to ACPI (a hung XP)
  int starts = 0, shutdown_requests = 0, destroys = 0;
  Listener listener;

  void listen(Listener l) override { listener = std::move(l); }
  bool active() override { return running; }
  void start() override {
    if (start_fails) throw std::runtime_error("no such image");
    running = true;
    ++starts;
    emit(GuestLifecycle::Started);
  }
  bool request_shutdown() override {
    ++shutdown_requests;
    if (acpi_refused) return false;
    if (!acpi_ignored) down("shutdown");
    return true;
  }
  void destroy() override {
    ++destroys;
    if (running) down("destroyed");
  }
  void fill_stats(GuestStats& s) override { s.running = running; }

  // The guest ends (a crash, or QEMU killed): the hypervisor's stop event follows.
  void down(const std::string& how) {
    running = false;
    emit(GuestLifecycle::Stopped, how);
  }
  void emit(GuestLifecycle e, const std::string& detail = "") {
    if (deferred) pending.emplace_back(e, detail);  // as libvirt does: through its loop, later
    else if (listener) listener(e, detail);
  }
  void deliver_pending() {
    auto events = std::move(pending);
    pending.clear();
    for (auto& [e, detail] : events)
      if (listener) listener(e, detail);
  }
  bool deferred = false;  // events wait for deliver_pending()
  std::vector<std::pair<GuestLifecycle, std::string>> pending;
};

// Timers run only when the test fires them; descriptors are not used by GuestDomain.
class FakeLoop : public EventLoop {
 public:
  std::map<int, TimerCallback> timers;
  int next = 1;
  int watch(int, int, FdCallback) override { return -1; }
  void rewatch(int, int) override {}
  void unwatch(int) override {}
  int every(std::chrono::milliseconds, TimerCallback cb) override {
    timers[next] = std::move(cb);
    return next++;
  }
  void cancel(int id) override { timers.erase(id); }
  void run_once() override { fire(); }
  void fire() {
    auto copy = timers;
    for (auto& [id, cb] : copy)
      if (timers.count(id)) cb();
  }
};

struct Fixture : ::testing::Test {
  TempDir dir;
  FakeGuestDriver driver;
  FakeLoop loop;
  Clock::time_point now{};
  std::vector<std::string> events;
  std::unique_ptr<GuestDomain> guest;

  std::string stopped_file() const { return (dir.path / "cab.operator-stopped").string(); }
  void make() {
    guest = std::make_unique<GuestDomain>(
        driver, loop, GuestDomainOptions{"cab", 60s, stopped_file()},
        [this](const std::string& e, const json& fields) {
          events.push_back(e + (fields.contains("how") ? ":" + fields["how"].get<std::string>() : ""));
        },
        [this] { return now; });
  }
  void SetUp() override { make(); }
  size_t count(const std::string& e) const { return static_cast<size_t>(std::count(events.begin(), events.end(), e)); }
  // A crash seen at the next tick, restarted when its back-off is due; returns the back-off.
  std::chrono::seconds crash_and_restart() {
    driver.down("crashed");
    guest->supervise();
    const int starts = driver.starts;
    const auto scheduled = now;
    while (driver.starts == starts && now - scheduled < 2min) {
      now += 100ms;
      guest->supervise();
    }
    return std::chrono::duration_cast<std::chrono::seconds>(now - scheduled);
  }
};

}  // namespace

TEST_F(Fixture, AdoptsARunningGuestWithoutStartingIt) {
  driver.running = true;
  guest->adopt_or_start();
  EXPECT_EQ(driver.starts, 0);
  EXPECT_EQ(events, std::vector<std::string>{"guest_adopted"});
}

TEST_F(Fixture, StartsAStoppedGuestUnlessAnOperatorStoppedIt) {
  guest->adopt_or_start();
  EXPECT_EQ(driver.starts, 1);
  EXPECT_EQ(count("guest_started"), 1u);

  std::ofstream(stopped_file()) << "then\n";
  driver.running = false;
  make();  // a hostd restarted after `vitrine stop`
  guest->adopt_or_start();
  guest->supervise();
  EXPECT_EQ(driver.starts, 1) << "an operator's stop is kept across hostd's restarts";
}

TEST_F(Fixture, AnUnaskedStopIsRecordedAndRestartedWithADoublingBackoff) {
  guest->adopt_or_start();
  EXPECT_EQ(crash_and_restart(), 1s);
  EXPECT_EQ(count("guest_stopped:crashed"), 1u);
  EXPECT_EQ(count("guest_restart_scheduled"), 1u);
  EXPECT_EQ(crash_and_restart(), 2s);
  EXPECT_EQ(crash_and_restart(), 4s);
  GuestStats s;
  guest->fill_stats(s);
  EXPECT_EQ(s.restarts_total, 3u);
  EXPECT_FALSE(s.crash_loop);
}

TEST_F(Fixture, ACrashLoopStopsRestartsUntilAnOperatorClearsIt) {
  guest->adopt_or_start();
  for (size_t i = 0; i < kCrashLoopRestarts; ++i) crash_and_restart();
  driver.down("crashed");
  for (int i = 0; i < 100; ++i, now += 10s) guest->supervise();
  EXPECT_FALSE(driver.running) << "no restart in a crash loop";
  EXPECT_EQ(count("crash_loop"), 1u) << "declared once";
  EXPECT_NE(guest->describe(GuestStats{}).value("supervision", "").find("crash loop"), std::string::npos);

  EXPECT_TRUE(guest->operator_clear());
  guest->start("operator");
  EXPECT_TRUE(driver.running);
  EXPECT_EQ(crash_and_restart(), 1s) << "the back-off starts over";
}

TEST_F(Fixture, AnOperatorStopIsOverAsSoonAsTheGuestIsDown) {
  guest->adopt_or_start();
  std::string how;
  guest->operator_stop([&how](const std::string& h) { how = h; });
  // No timer fired and the clock did not move: the stop event alone ended it.
  EXPECT_EQ(how, "acpi");
  EXPECT_FALSE(guest->stopping());
  EXPECT_TRUE(loop.timers.empty()) << "the stop's poll is cancelled";
  EXPECT_EQ(count("guest_stopped:acpi"), 1u);
  EXPECT_EQ(count("guest_stopped:shutdown"), 0u) << "hostd's own stop is not an unasked one";
  EXPECT_TRUE(std::filesystem::exists(stopped_file()));
  for (int i = 0; i < 10; ++i, now += 1min) guest->supervise();
  EXPECT_EQ(driver.starts, 1) << "stopped by an operator: not restarted";

  guest->operator_clear();
  EXPECT_FALSE(std::filesystem::exists(stopped_file()));
}

TEST_F(Fixture, AGuestThatIgnoresAcpiIsDestroyedAtTheDeadlineWhileTheLoopGoesOn) {
  guest->adopt_or_start();
  driver.acpi_ignored = true;
  std::vector<std::string> answers;
  guest->stop("hostd stopping", [&answers](const std::string& h) { answers.push_back(h); });
  guest->stop("a second asker", [&answers](const std::string& h) { answers.push_back(h); });
  EXPECT_EQ(driver.shutdown_requests, 1) << "one stop at a time";
  EXPECT_TRUE(guest->stopping());
  now += 59s;
  loop.fire();
  guest->supervise();  // the tick goes on meanwhile, and restarts nothing
  EXPECT_TRUE(answers.empty());
  EXPECT_EQ(driver.destroys, 0);
  now += 2s;
  loop.fire();
  EXPECT_EQ(driver.destroys, 1);
  EXPECT_EQ(answers, (std::vector<std::string>{"destroyed", "destroyed"}));
  EXPECT_EQ(count("guest_stopped:destroyed"), 1u);
  EXPECT_EQ(std::count_if(events.begin(), events.end(), [](const std::string& e) { return e.rfind("guest_stopped", 0) == 0; }), 1)
      << "one stop, one record, though its event came within destroy()";
}

// libvirt's stop event comes through the loop, often after the poll saw the guest down; and
// while the stop runs, the guest being down is no crash to restart.
TEST_F(Fixture, AStopEventAfterThePollIsTheStopsNotAnUnaskedOne) {
  guest->adopt_or_start();
  driver.deferred = true;
  std::string how;
  guest->stop("hostd stopping", [&how](const std::string& h) { how = h; });
  EXPECT_FALSE(driver.running);
  now += 2s;
  guest->supervise();
  EXPECT_EQ(count("guest_restart_scheduled"), 0u) << "down because it is being stopped";
  loop.fire();
  EXPECT_EQ(how, "acpi");
  driver.deliver_pending();
  EXPECT_EQ(count("guest_stopped:shutdown"), 0u) << "the late event is the stop's own";
  EXPECT_EQ(count("guest_stopped:acpi"), 1u);
}

// An operator's stop while a snapshot's runs: the snapshot cannot start the guest after it.
TEST_F(Fixture, AnOperatorStopDuringASnapshotsStopKeepsTheGuestDown) {
  guest->adopt_or_start();
  driver.acpi_ignored = true;
  std::string snapshot_error, operator_how;
  guest->stop("snapshot create", [&](const std::string&) {
    try {
      guest->start("after snapshot create");
    } catch (const std::exception& e) {
      snapshot_error = e.what();
    }
  });
  guest->operator_stop([&](const std::string& h) { operator_how = h; });
  now += 61s;
  loop.fire();
  EXPECT_FALSE(driver.running);
  EXPECT_EQ(operator_how, "destroyed");
  EXPECT_NE(snapshot_error.find("an operator stopped"), std::string::npos) << snapshot_error;
  EXPECT_EQ(driver.starts, 1);
}

TEST_F(Fixture, NothingStartsTheGuestOnceHostdIsStopping) {
  guest->hold();
  EXPECT_THROW(guest->start("operator"), std::runtime_error);
  EXPECT_EQ(driver.starts, 0);
  EXPECT_EQ(count("guest_start_failed"), 0u) << "refused, not failed";
}

TEST_F(Fixture, AStopWhoseAcpiRequestFailsDestroysAtOnce) {
  guest->adopt_or_start();
  driver.acpi_refused = true;
  std::string how;
  guest->stop("snapshot create", [&how](const std::string& h) { how = h; });
  EXPECT_EQ(how, "destroyed");
  EXPECT_FALSE(driver.running);
}

TEST_F(Fixture, StoppingAGuestThatIsNotRunningAnswersAtOnce) {
  std::string how;
  guest->stop("operator", [&how](const std::string& h) { how = h; });
  EXPECT_EQ(how, "not running");
  EXPECT_TRUE(events.empty());
}

TEST_F(Fixture, AStopCanStartTheGuestAgainWhenItIsDown) {
  guest->adopt_or_start();
  guest->stop("snapshot revert", [this](const std::string&) { guest->start("after snapshot revert"); });
  EXPECT_TRUE(driver.running);
  EXPECT_EQ(driver.starts, 2);
}

TEST_F(Fixture, HeldItIsNeverRestarted) {
  guest->adopt_or_start();
  guest->hold();
  driver.down("crashed");
  for (int i = 0; i < 10; ++i, now += 1min) guest->supervise();
  EXPECT_EQ(driver.starts, 1);
}

TEST_F(Fixture, AFailedStartIsRecordedAndThrown) {
  driver.start_fails = true;
  EXPECT_THROW(guest->adopt_or_start(), std::runtime_error);
  EXPECT_EQ(count("guest_start_failed"), 1u);
}

TEST_F(Fixture, RebootEventsCloseTogetherAreOneReboot) {
  guest->adopt_or_start();
  for (int i = 0; i < 3; ++i) driver.emit(GuestLifecycle::Rebooted);
  now += kRebootEventsWindow + 1s;
  driver.emit(GuestLifecycle::Rebooted);
  GuestStats s;
  guest->fill_stats(s);
  EXPECT_EQ(s.reboots_total, 2u);
  EXPECT_EQ(count("guest_rebooted"), 2u);
}

TEST_F(Fixture, EachNewQemuCallsTheStartedHook) {
  int started = 0;
  guest->on_started([&started] { ++started; });
  guest->adopt_or_start();
  crash_and_restart();
  EXPECT_EQ(started, 2);
}
