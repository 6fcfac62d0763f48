#include "vitrine/hostd/guest_domain.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "vitrine/common/clock.h"

namespace vitrine::hostd {

namespace fs = std::filesystem;

// virDomainState's numbers (libvirt_guest.cpp checks them against libvirt's own).
const char* guest_state_name(int state) {
  switch (state) {
    case 1: return "running";
    case 2: return "blocked";
    case 3: return "paused";
    case 4: return "shutting down";
    case 5: return "shut off";
    case 6: return "crashed";
    case 7: return "suspended";
    default: return "not running";
  }
}

GuestDomain::GuestDomain(GuestDriver& driver, EventLoop& loop, GuestDomainOptions options, Record record,
                         std::function<Clock::time_point()> now)
    : driver_(driver), loop_(loop), options_(std::move(options)), record_(std::move(record)), now_(std::move(now)) {
  operator_stopped_ = !options_.operator_stopped_path.empty() && fs::exists(options_.operator_stopped_path);
  driver_.listen([this](GuestLifecycle event, const std::string& detail) { on_lifecycle(event, detail); });
}

GuestDomain::~GuestDomain() {
  driver_.listen(nullptr);
  if (stop_ && stop_->timer >= 0) loop_.cancel(stop_->timer);
}

void GuestDomain::adopt_or_start() {
  if (driver_.active()) {
    spdlog::info("adopted running guest {}", options_.name);
    record_("guest_adopted", nlohmann::json::object());
    return;
  }
  if (operator_stopped_) {
    spdlog::warn("guest {} stays stopped: an operator stopped it (`vitrine start` starts it)", options_.name);
    return;
  }
  start("hostd started");
}

void GuestDomain::start(const std::string& why) {
  // Whatever asks (a snapshot that stopped the guest, a request while hostd exits), the guest
  // does not start past an operator's stop or hostd's own.
  if (held_) throw std::runtime_error("hostd is stopping: the guest is not started");
  if (operator_stopped_) throw std::runtime_error("an operator stopped the guest (`vitrine start` starts it)");
  try {
    driver_.start();
  } catch (const std::exception& e) {
    record_("guest_start_failed", {{"reason", why}, {"error", e.what()}});
    throw;
  }
  spdlog::info("started guest {} ({})", options_.name, why);
  record_("guest_started", {{"reason", why}});
}

void GuestDomain::supervise() {
  if (operator_stopped_ || held_ || stop_) return;
  const bool active = driver_.active();
  // Taken after asking the hypervisor, which is slow while it is still cleaning up a dead QEMU:
  // the back-off then runs from when the stop was seen, as the log says.
  const auto now = now_();
  if (active) {
    restart_.guest_running(now);
    return;
  }
  const bool crash_loop_known = restart_.crash_loop();
  switch (restart_.guest_stopped(now)) {
    case RestartPolicy::Verdict::Scheduled:
      spdlog::warn("guest {} is not running: restarting in {} s", options_.name, restart_.backoff().count());
      record_("guest_restart_scheduled", {{"in_seconds", restart_.backoff().count()}});
      return;
    case RestartPolicy::Verdict::CrashLoop:
      if (!crash_loop_known) {
        spdlog::error("guest {}: crash loop ({} restarts within {} min): no more restarts until an "
                      "operator starts it (`vitrine start`)",
                      options_.name, restart_.restarts_in_window(), kCrashLoopWindow.count());
        record_("crash_loop", {{"restarts", restart_.restarts_in_window()}, {"window_minutes", kCrashLoopWindow.count()}});
      }
      return;
    case RestartPolicy::Verdict::AlreadyScheduled:
      break;
  }
  if (!restart_.restart_due(now)) return;
  try {
    start("restart after an unrequested stop");
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
  }
}

void GuestDomain::stop(const std::string& why, StopDone done) {
  if (stop_) {  // one stop at a time; a second asker hears how the first ended
    stop_->waiters.push_back(std::move(done));
    return;
  }
  if (!driver_.active()) {
    done("not running");
    return;
  }
  ++expected_stops_;  // the hypervisor's stop event, when the loop delivers it, is this one
  spdlog::info("shutting guest {} down (ACPI, {}), {} s before it is destroyed", options_.name, why,
               options_.shutdown_timeout.count());
  record_("guest_stopping", {{"reason", why}, {"timeout_seconds", options_.shutdown_timeout.count()}});
  stop_ = Stop{why, "acpi", now_() + options_.shutdown_timeout, {}, -1};
  stop_->waiters.push_back(std::move(done));
  // The poll is set before the request: the stop event may come within it, and end the stop.
  stop_->timer = loop_.every(kStopPollInterval, [this] { poll_stop(); });
  // Without its timer the deadline could not be kept: the guest is destroyed now instead.
  if (stop_->timer < 0) spdlog::error("no timer for the stop of {}: destroying it", options_.name);
  if ((stop_->timer >= 0 && driver_.request_shutdown()) || !stop_) return;
  stop_->how = "destroyed";
  driver_.destroy();
  if (stop_) finish_stop();
}

void GuestDomain::poll_stop() {
  if (!stop_) return;
  const bool active = driver_.active();
  if (active && now_() < stop_->deadline) return;
  if (active) {
    spdlog::warn("guest {} did not shut down: destroying it", options_.name);
    stop_->how = "destroyed";
    driver_.destroy();  // its stop event may end the stop within the call
  }
  if (stop_) finish_stop();
}

void GuestDomain::finish_stop() {
  Stop s = std::move(*stop_);
  stop_.reset();
  if (s.timer >= 0) loop_.cancel(s.timer);
  record_("guest_stopped", {{"reason", s.why}, {"how", s.how}});
  for (auto& done : s.waiters) done(s.how);  // may start it again (a snapshot does)
}

void GuestDomain::operator_stop(StopDone done) {
  set_operator_stopped(true);
  record_("operator_stop", nlohmann::json::object());
  stop("operator", std::move(done));
}

bool GuestDomain::operator_clear() {
  const bool was_crash_loop = restart_.crash_loop();
  set_operator_stopped(false);
  restart_.reset();
  record_("operator_start", {{"cleared_crash_loop", was_crash_loop}});
  return was_crash_loop;
}

void GuestDomain::set_operator_stopped(bool stopped) {
  operator_stopped_ = stopped;
  if (options_.operator_stopped_path.empty()) return;
  // Kept on disk: a hostd restarted while the guest is stopped on purpose must not start it.
  if (stopped) std::ofstream(options_.operator_stopped_path) << utc_timestamp(wall_clock_us()) << "\n";
  else fs::remove(options_.operator_stopped_path);
}

void GuestDomain::on_lifecycle(GuestLifecycle event, const std::string& detail) {
  switch (event) {
    case GuestLifecycle::Stopped:
      if (expected_stops_ > 0) {  // hostd asked for it and records it itself
        --expected_stops_;
        poll_stop();
        return;
      }
      spdlog::warn("guest {} stopped unasked: {}", options_.name, detail);
      record_("guest_stopped", {{"reason", "unrequested"}, {"how", detail}});
      return;
    case GuestLifecycle::Crashed:
      record_("guest_crashed", nlohmann::json::object());
      return;
    case GuestLifecycle::Started:
      if (on_started_) on_started_();
      return;
    case GuestLifecycle::Rebooted:
      on_rebooted();
      return;
  }
}

void GuestDomain::on_rebooted() {
  // The guest rebooted itself (XP after a blue screen does, and the stand-in after a panic):
  // QEMU and the domain carry on, so it is no stop; counted, so that a reboot loop shows.
  // One reset reaches the hypervisor's events as two or three reboots within milliseconds.
  const auto now = now_();
  if (last_reboot_ && now - *last_reboot_ < kRebootEventsWindow) return;
  last_reboot_ = now;
  ++reboots_;
  spdlog::warn("guest {} rebooted", options_.name);
  record_("guest_rebooted", nlohmann::json::object());
}

void GuestDomain::fill_stats(GuestStats& s) const {
  s.restarts_total = restart_.restarts_total();
  s.reboots_total = reboots_;
  s.crash_loop = restart_.crash_loop();
  s.operator_stopped = operator_stopped_;
}

std::string GuestDomain::supervision() const {
  if (stop_) return "stopping (" + stop_->why + ")";
  if (restart_.crash_loop()) return "crash loop: not restarting until `vitrine start`";
  if (operator_stopped_) return "stopped by an operator: `vitrine start` starts it";
  if (restart_.scheduled()) return "restart scheduled";
  return "supervising";
}

nlohmann::json GuestDomain::describe(const GuestStats& s) const {
  nlohmann::json guest = {{"name", options_.name},
                          {"state", s.running ? "running" : guest_state_name(s.state)},
                          {"uptime_seconds", static_cast<uint64_t>(s.uptime_seconds)},
                          {"cpu_seconds", s.cpu_seconds},
                          {"restarts", restart_.restarts_total()},
                          {"reboots", reboots_},
                          {"supervision", supervision()},
                          {"crash_loop", restart_.crash_loop()},
                          {"operator_stopped", operator_stopped_}};
  if (restart_.scheduled())
    guest["restart_in_seconds"] =
        std::chrono::duration_cast<std::chrono::seconds>(*restart_.next_start() - now_()).count();
  return guest;
}

}  // namespace vitrine::hostd
