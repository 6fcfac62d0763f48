// The cabinet's guest under supervision: adopted if it runs, started if not (unless an
// operator stopped it: that is kept on disk), started again with back-off when it stops unasked
// (RestartPolicy), left alone in a crash loop, and stopped gracefully on request: an ACPI
// shutdown, then destroyed at the deadline. A stop is a timer-driven step on hostd's loop, not
// a wait: USB, serial, netmon's supervision and other control requests go on while the guest
// shuts down, and whoever asked is called back when it is down. All through a GuestDriver, so
// that unit tests drive it with a fake and a clock of their own.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vitrine/hostd/event_loop.h"
#include "vitrine/hostd/guest_driver.h"
#include "vitrine/hostd/restart_policy.h"

namespace vitrine::hostd {

// Reboot events this close together are one reboot: no guest boots again within 5 s (the
// stand-in takes 6 s under TCG, XP far longer).
inline constexpr std::chrono::seconds kRebootEventsWindow{5};
// How often a graceful stop looks whether the guest is down (libvirt's stop event usually
// says so first).
inline constexpr std::chrono::milliseconds kStopPollInterval{200};

struct GuestDomainOptions {
  std::string name;
  // XP's ACPI shutdown, under TCG, may take a minute; then the guest is destroyed.
  std::chrono::seconds shutdown_timeout{60};
  // Where an operator's stop is kept, so that a restarted hostd does not start the guest.
  std::string operator_stopped_path;
};

class GuestDomain {
 public:
  using Clock = RestartPolicy::Clock;
  using Record = std::function<void(const std::string& event, nlohmann::json fields)>;
  using StopDone = std::function<void(const std::string& how)>;  // "acpi", "destroyed", "not running"

  GuestDomain(GuestDriver& driver, EventLoop& loop, GuestDomainOptions options, Record record,
              std::function<Clock::time_point()> now = Clock::now);
  ~GuestDomain();
  GuestDomain(const GuestDomain&) = delete;
  GuestDomain& operator=(const GuestDomain&) = delete;

  // Called for each start of a QEMU (a new one has no hot-plugged devices: USB attaches again).
  void on_started(std::function<void()> hook) { on_started_ = std::move(hook); }

  // At hostd's start: adopts a running guest, or starts one unless an operator stopped it.
  void adopt_or_start();
  // Each supervision tick: a guest seen stopped unasked is restarted when its back-off is due.
  void supervise();
  // Starts the guest now. Throws std::runtime_error (also recorded) if the hypervisor cannot.
  void start(const std::string& why);
  // Stops it gracefully; `done` is called (on the loop) once it is down, or at once if it is
  // not running. A stop asked while one runs waits for that one. Returns at once.
  void stop(const std::string& why, StopDone done);
  // No more restarts, whatever happens: hostd is stopping.
  void hold() { held_ = true; }

  // The operator's commands: a stop kept on disk; a start that forgets it and any crash loop.
  void operator_stop(StopDone done);
  // Clears the operator's stop and the crash loop; returns whether there was a crash loop.
  bool operator_clear();
  bool stopping() const { return stop_.has_value(); }
  bool active() { return driver_.active(); }

  // The supervision fields of the statistics (restarts, reboots, crash loop, operator stop).
  void fill_stats(GuestStats& stats) const;
  // The guest's part of `vitrine status`, from statistics just taken.
  nlohmann::json describe(const GuestStats& stats) const;

 private:
  struct Stop {
    std::string why;
    std::string how;
    Clock::time_point deadline;
    std::vector<StopDone> waiters;
    int timer = -1;
  };

  void on_lifecycle(GuestLifecycle event, const std::string& detail);
  void on_rebooted();
  void poll_stop();
  void finish_stop();
  void set_operator_stopped(bool stopped);
  std::string supervision() const;

  GuestDriver& driver_;
  EventLoop& loop_;
  GuestDomainOptions options_;
  Record record_;
  std::function<Clock::time_point()> now_;
  std::function<void()> on_started_;
  RestartPolicy restart_;
  // Stops hostd made itself: the hypervisor's stop events for them are not the guest failing.
  unsigned expected_stops_ = 0;
  bool operator_stopped_ = false;
  bool held_ = false;
  std::optional<Stop> stop_;
  uint64_t reboots_ = 0;
  std::optional<Clock::time_point> last_reboot_;
};

}  // namespace vitrine::hostd
