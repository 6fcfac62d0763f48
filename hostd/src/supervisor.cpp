#include "vitrine/hostd/supervisor.h"

#include <fcntl.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include "vitrine/common/clock.h"
#include "vitrine/common/control_socket.h"
#include "vitrine/hostd/cabinet_policy.h"
#include "vitrine/hostd/domain_xml.h"
#include "vitrine/hostd/netmon_process.h"
#include "vitrine/hostd/usb_guest.h"
#include "vitrine/images/image_store.h"
#include "vitrine/passthrough/serial_relay.h"
#include "vitrine/passthrough/udev_usb.h"
#include "vitrine/passthrough/usb_passthrough.h"

extern char** environ;

namespace vitrine::hostd {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// How often the loop wakes without an event: supervision is this prompt.
constexpr int kEventTickMs = 500;
// How often the metrics are read from libvirt. Each read is a round trip through libvirtd to
// QEMU's monitor, which a TCG guest pays for in CPU; Prometheus scrapes every 15 s or so.
constexpr std::chrono::seconds kStatsInterval{5};
// Reboot events this close together are one reboot: no guest boots again within 5 s (the
// stand-in takes 6 s under TCG, XP far longer).
constexpr std::chrono::seconds kRebootEventsWindow{5};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Supervision runs on this timer, not on every return of the event loop: the loop also wakes
// for libvirt's own traffic, which supervising (itself calls to libvirt) would keep busy.
void supervision_timer(int, void* opaque) { static_cast<Supervisor*>(opaque)->tick(); }

// libvirt prints every error to stderr by default; hostd reports the ones that matter itself
// (a guest that is not there is a state it expects, not an error).
void quiet_libvirt_errors(void*, virErrorPtr) {}

std::string libvirt_error() {
  const virErrorPtr e = virGetLastError();
  return e && e->message ? e->message : "unknown libvirt error";
}

// A descriptor libvirt's loop does not watch is one nobody reads: hostd refuses to run so.
void watch_or_throw(int fd, virEventHandleCallback callback, void* opaque, const char* what) {
  if (virEventAddHandle(fd, VIR_EVENT_HANDLE_READABLE, callback, opaque, nullptr) < 0)
    throw std::runtime_error(std::string("libvirt's event loop does not watch ") + what + ": " + libvirt_error());
}

void usb_readable(int, int, int, void* opaque) { static_cast<Supervisor*>(opaque)->on_usb_readable(); }

uint64_t monotonic_us() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()).count());
}

// libvirt reports every domain on the host: only this cabinet's concern hostd.
int lifecycle_callback(virConnectPtr, virDomainPtr dom, int event, int detail, void* opaque) {
  auto* self = static_cast<Supervisor*>(opaque);
  if (self->is_mine(virDomainGetName(dom))) self->on_lifecycle_event(event, detail);
  return 0;
}

void reboot_callback(virConnectPtr, virDomainPtr dom, void* opaque) {
  auto* self = static_cast<Supervisor*>(opaque);
  if (self->is_mine(virDomainGetName(dom))) self->on_guest_reboot();
}

void control_ready(int, int, int, void* opaque) { static_cast<ControlServer*>(opaque)->serve_one(); }

const char* state_name(int state) {
  switch (state) {
    case VIR_DOMAIN_RUNNING: return "running";
    case VIR_DOMAIN_BLOCKED: return "blocked";
    case VIR_DOMAIN_PAUSED: return "paused";
    case VIR_DOMAIN_SHUTDOWN: return "shutting down";
    case VIR_DOMAIN_SHUTOFF: return "shut off";
    case VIR_DOMAIN_CRASHED: return "crashed";
    case VIR_DOMAIN_PMSUSPENDED: return "suspended";
    default: return "not running";
  }
}

const char* stop_reason(int detail) {
  switch (detail) {
    case VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN: return "shutdown";
    case VIR_DOMAIN_EVENT_STOPPED_DESTROYED: return "destroyed";
    case VIR_DOMAIN_EVENT_STOPPED_CRASHED: return "crashed";
    case VIR_DOMAIN_EVENT_STOPPED_FAILED: return "failed";
    case VIR_DOMAIN_EVENT_STOPPED_SAVED: return "saved";
    default: return "other";
  }
}

// Seconds since process `pid` started, from /proc (0 when it cannot be read).
double process_age_seconds(pid_t pid) {
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  // Field 2 (comm) may hold spaces but ends with ')': count the fields after it, from 3.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22; ++i)
    if (!(rest >> field)) return 0;
  const double start_ticks = static_cast<double>(std::strtoull(field.c_str(), nullptr, 10));
  double uptime = 0;
  std::istringstream(read_file("/proc/uptime")) >> uptime;
  const double age = uptime - start_ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
  return age > 0 ? age : 0;
}

}  // namespace

struct Supervisor::DomainHandle {
  virDomainPtr dom = nullptr;
  ~DomainHandle() {
    if (dom) virDomainFree(dom);
  }
};

Supervisor::Supervisor(Cabinet cabinet, SupervisorOptions options)
    : cabinet_(std::move(cabinet)), options_(std::move(options)),
      metrics_(std::make_shared<HostdMetrics>(cabinet_.name)) {}

Supervisor::~Supervisor() {
  control_.reset();
  if (conn_) virConnectClose(conn_);
}

std::string Supervisor::path(const std::string& suffix) const {
  return options_.state_dir + "/" + cabinet_.name + suffix;
}

std::string Supervisor::events_path(const std::string& suffix) const {
  return (options_.events_dir.empty() ? options_.state_dir : options_.events_dir) + "/" + cabinet_.name + suffix;
}

// --- netmon ---------------------------------------------------------------------------------

void Supervisor::ensure_tap() {
  if (if_nametoindex(cabinet_.tap.c_str()) == 0) {
    // A persistent tap that hostd owns: it outlives hostd, so the guest's NIC does too.
    const int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error(std::string("/dev/net/tun: ") + std::strerror(errno));
    ifreq ifr{};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    std::strncpy(ifr.ifr_name, cabinet_.tap.c_str(), IFNAMSIZ - 1);
    const bool ok = ioctl(fd, TUNSETIFF, &ifr) == 0 && ioctl(fd, TUNSETPERSIST, 1) == 0;
    const int err = errno;
    close(fd);
    if (!ok) throw std::runtime_error("tap " + cabinet_.tap + ": " + std::strerror(err));
    spdlog::info("created tap {}", cabinet_.tap);
  }
  // No address and no IPv6 on the host's side of the tap: only netmon speaks on it.
  std::ofstream(std::string("/proc/sys/net/ipv6/conf/") + cabinet_.tap + "/disable_ipv6") << "1\n";
  // Down, the tap carries nothing: the guest would be cut off without anyone being told.
  const int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, cabinet_.tap.c_str(), IFNAMSIZ - 1);
  bool up = sock >= 0 && ioctl(sock, SIOCGIFFLAGS, &ifr) == 0;
  if (up && !(ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags |= IFF_UP;
    up = ioctl(sock, SIOCSIFFLAGS, &ifr) == 0;
  }
  const int err = errno;
  if (sock >= 0) close(sock);
  if (!up) throw std::runtime_error("cannot bring tap " + cabinet_.tap + " up: " + std::strerror(err));
}

NetmonLaunch Supervisor::netmon_launch() const {
  std::vector<std::string> args = {"--guest", cabinet_.tap, "--uplink", cabinet_.uplink, "--policy", cabinet_.policy,
                                   "--metrics", cabinet_.netmon_metrics, "--events", events_path(".events.jsonl")};
  if (!options_.netmon_user.empty()) args.insert(args.end(), {"--user", options_.netmon_user});
  if (!options_.syslog_url.empty())
    args.insert(args.end(), {"--syslog", options_.syslog_url, "--syslog-facility", options_.syslog_facility,
                             "--cabinet", cabinet_.name});
  return {options_.netmon_binary, std::move(args), path(".netmon-control"), path(".netmon.lock"), path(".netmon.log")};
}

bool Supervisor::netmon_alive() {
  if (netmon_->alive()) return true;
  if (!netmon_->exit_status().empty()) {
    spdlog::warn("netmon exited ({}): the guest is cut off until it is back", netmon_->exit_status());
    events_->record("netmon_exited", {{"pid", netmon_pid_}, {"status", netmon_->exit_status()}});
    netmon_pid_ = -1;
  }
  return false;
}

// The bytes netmon enforces become the ones in force here too: USB rules and network rules from
// one version. A netmon whose policy is not `wanted` is handed `wanted` (a file changed while
// hostd started); one it refuses stops hostd, which would otherwise run on two versions.
void Supervisor::settle_policy(const PolicyBytes& wanted) {
  if (netmon_->enforced_sha256() != wanted.sha256) {
    const nlohmann::json r = send_policy(wanted);
    if (!r.value("ok", false))
      throw std::runtime_error("netmon refuses the policy hostd read (" + wanted.source + "): " + r.value("error", "?"));
  }
  policy_ = wanted;
  save_policy_in_force(path(".policy-in-force"), policy_);
}

void Supervisor::ensure_netmon() {
  if (netmon_->adopt()) {
    netmon_pid_ = netmon_->pid();
    spdlog::info("adopted netmon (pid {})", netmon_pid_);
    // The USB rules of what it enforces, from hostd's own copy; without one, the file now.
    auto copy = load_policy_in_force(path(".policy-in-force"), netmon_->enforced_sha256());
    settle_policy(copy ? *copy : PolicyBytes::read(cabinet_.policy));
    events_->record("netmon_adopted", {{"pid", netmon_pid_}, {"policy_sha256", policy_.sha256}});
    return;
  }
  // A netmon started again after a crash enforces what was in force, not an edit nobody reloaded.
  const PolicyBytes wanted = policy_.text.empty() ? PolicyBytes::read(cabinet_.policy) : policy_;
  usb_rules_of(wanted);  // a policy whose USB rules are broken starts nothing
  netmon_->start();
  netmon_pid_ = netmon_->pid();
  spdlog::info("started netmon (pid {}) on {} <-> {}", netmon_pid_, cabinet_.tap, cabinet_.uplink);
  settle_policy(wanted);
  events_->record("netmon_started", {{"pid", netmon_pid_}, {"policy", cabinet_.policy}, {"policy_sha256", policy_.sha256}});
}

void Supervisor::check_netmon() {
  if (netmon_alive()) return;
  try {
    ensure_netmon();
    ++netmon_restarts_;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
  }
}

void Supervisor::stop_netmon() { netmon_->stop(); }

// --- the guest ------------------------------------------------------------------------------

std::unique_ptr<Supervisor::DomainHandle> Supervisor::domain() const {
  auto d = std::make_unique<DomainHandle>();
  d->dom = virDomainLookupByName(conn_, cabinet_.name.c_str());
  return d;
}

bool Supervisor::guest_active() const {
  const auto d = domain();
  return d->dom && virDomainIsActive(d->dom) == 1;
}

void Supervisor::start_guest(const std::string& why) {
  const std::string xml = domain_xml(cabinet_, cabinet_.image_store + "/overlay.qcow2");
  DomainHandle d{virDomainCreateXML(conn_, xml.c_str(), 0)};
  if (!d.dom) {
    const std::string error = libvirt_error();
    events_->record("guest_start_failed", {{"reason", why}, {"error", error}});
    throw std::runtime_error("cannot start the guest: " + error);
  }
  spdlog::info("started guest {} ({})", cabinet_.name, why);
  events_->record("guest_started", {{"reason", why}});
}

void Supervisor::ensure_guest() {
  if (guest_active()) {
    spdlog::info("adopted running guest {}", cabinet_.name);
    events_->record("guest_adopted");
    return;
  }
  if (operator_stopped_) {
    spdlog::warn("guest {} stays stopped: an operator stopped it (`vitrine start` starts it)", cabinet_.name);
    return;
  }
  start_guest("hostd started");
}

void Supervisor::supervise_guest() {
  if (operator_stopped_) return;
  const bool active = guest_active();
  // Taken after asking libvirt, which is slow while it is still cleaning up a dead QEMU: the
  // back-off then runs from when the stop was seen, as the log says.
  const auto now = Clock::now();
  if (active) {
    restart_.guest_running(now);
    return;
  }
  const bool crash_loop_known = restart_.crash_loop();
  switch (restart_.guest_stopped(now)) {
    case RestartPolicy::Verdict::Scheduled:
      spdlog::warn("guest {} is not running: restarting in {} s", cabinet_.name, restart_.backoff().count());
      events_->record("guest_restart_scheduled", {{"in_seconds", restart_.backoff().count()}});
      return;
    case RestartPolicy::Verdict::CrashLoop:
      if (!crash_loop_known) {
        spdlog::error("guest {}: crash loop ({} restarts within {} min): no more restarts until an "
                      "operator starts it (`vitrine start`)",
                      cabinet_.name, restart_.restarts_in_window(), kCrashLoopWindow.count());
        events_->record("crash_loop", {{"restarts", restart_.restarts_in_window()},
                                       {"window_minutes", kCrashLoopWindow.count()}});
      }
      return;
    case RestartPolicy::Verdict::AlreadyScheduled:
      break;
  }
  if (!restart_.restart_due(now)) return;
  try {
    start_guest("restart after an unrequested stop");
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
  }
}

std::string Supervisor::stop_guest(const std::string& why) {
  const auto d = domain();
  if (!d->dom || virDomainIsActive(d->dom) != 1) return "not running";
  ++expected_stops_;  // libvirt's stop event, when the loop delivers it, is this one
  spdlog::info("shutting guest {} down (ACPI, {}), {} s before it is destroyed", cabinet_.name, why,
               options_.shutdown_timeout.count());
  events_->record("guest_stopping", {{"reason", why}, {"timeout_seconds", options_.shutdown_timeout.count()}});
  std::string how = "acpi";
  if (virDomainShutdown(d->dom) != 0) how = "destroyed";
  const auto deadline = Clock::now() + options_.shutdown_timeout;
  while (how == "acpi" && virDomainIsActive(d->dom) == 1 && Clock::now() < deadline) {
    check_netmon();  // the cabinet's network stays guarded while it shuts down
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (virDomainIsActive(d->dom) == 1) {
    spdlog::warn("guest {} did not shut down: destroying it", cabinet_.name);
    how = "destroyed";
    virDomainDestroy(d->dom);
  }
  events_->record("guest_stopped", {{"reason", why}, {"how", how}});
  return how;
}

void Supervisor::on_lifecycle_event(int event, int detail) {
  if (event == VIR_DOMAIN_EVENT_STOPPED) {
    if (expected_stops_ > 0) {  // hostd asked for it and has recorded it itself
      --expected_stops_;
      return;
    }
    spdlog::warn("guest {} stopped unasked: {}", cabinet_.name, stop_reason(detail));
    events_->record("guest_stopped", {{"reason", "unrequested"}, {"how", stop_reason(detail)}});
  } else if (event == VIR_DOMAIN_EVENT_CRASHED) {
    events_->record("guest_crashed");
  } else if (event == VIR_DOMAIN_EVENT_STARTED) {
    if (usb_) usb_->on_guest_started();  // a new QEMU has none of the devices: attach them again
  } else {
    spdlog::debug("guest {}: libvirt lifecycle event {} (detail {})", cabinet_.name, event, detail);
  }
}

bool Supervisor::is_mine(const char* domain) const { return domain && cabinet_.name == domain; }

void Supervisor::on_guest_reboot() {
  // The guest rebooted itself (XP after a blue screen does, and the stand-in after a panic):
  // QEMU and the domain carry on, so it is no stop; counted, so that a reboot loop shows.
  // One reset reaches libvirt as two or three reboot events within milliseconds.
  const auto now = Clock::now();
  if (last_reboot_ && now - *last_reboot_ < kRebootEventsWindow) return;
  last_reboot_ = now;
  ++reboots_;
  spdlog::warn("guest {} rebooted", cabinet_.name);
  events_->record("guest_rebooted");
}

void Supervisor::tick() {
  check_netmon();
  supervise_guest();
  connect_serial();
  if (Clock::now() >= next_stats_) {
    refresh_stats();
    next_stats_ = Clock::now() + kStatsInterval;
  }
}

void Supervisor::set_operator_stopped(bool stopped) {
  operator_stopped_ = stopped;
  // Kept on disk: a hostd restarted while the guest is stopped on purpose must not start it.
  if (stopped)
    std::ofstream(path(".operator-stopped")) << utc_timestamp(wall_clock_us()) << "\n";
  else
    fs::remove(path(".operator-stopped"));
}

// --- what operators and Prometheus see -----------------------------------------------------

void Supervisor::refresh_stats() {
  GuestStats s;
  s.libvirt_up = conn_ && virConnectIsAlive(conn_) == 1;
  const auto d = domain();
  virDomainInfo info{};
  if (d->dom && virDomainGetInfo(d->dom, &info) == 0) {
    s.state = info.state;
    s.running = virDomainIsActive(d->dom) == 1;
    s.cpu_seconds = static_cast<double>(info.cpuTime) / 1e9;
    s.memory_bytes = static_cast<double>(info.memory) * 1024;
    s.max_memory_bytes = static_cast<double>(info.maxMem) * 1024;
    s.vcpus = info.nrVirtCpu;
    // libvirt keeps QEMU's pid here; its age is the guest's uptime, also for an adopted guest.
    const std::string pid = read_file("/run/libvirt/qemu/" + cabinet_.name + ".pid");
    if (s.running && !pid.empty()) s.uptime_seconds = process_age_seconds(std::atoi(pid.c_str()));
    virDomainBlockStatsStruct block{};
    const std::string disk = disk_target(cabinet_);
    if (s.running && virDomainBlockStats(d->dom, disk.c_str(), &block, sizeof block) == 0) {
      s.disks.push_back({disk, static_cast<double>(block.rd_req), static_cast<double>(block.rd_bytes),
                         static_cast<double>(block.wr_req), static_cast<double>(block.wr_bytes)});
    }
    virDomainInterfaceStatsStruct nic{};
    if (s.running && virDomainInterfaceStats(d->dom, cabinet_.tap.c_str(), &nic, sizeof nic) == 0) {
      auto as_d = [](long long v) { return static_cast<double>(v < 0 ? 0 : v); };
      s.nics.push_back({cabinet_.tap, as_d(nic.rx_bytes), as_d(nic.rx_packets), as_d(nic.rx_errs),
                        as_d(nic.rx_drop), as_d(nic.tx_bytes), as_d(nic.tx_packets), as_d(nic.tx_errs),
                        as_d(nic.tx_drop)});
    }
  }
  s.restarts_total = restart_.restarts_total();
  s.reboots_total = reboots_;
  s.crash_loop = restart_.crash_loop();
  s.operator_stopped = operator_stopped_;
  s.netmon_up = netmon_alive();
  s.netmon_restarts_total = netmon_restarts_;
  s.event_write_failures_total = events_->write_failures();
  s.control_refused_total = control_ ? control_->refused() : 0;
  stats_ = s;
  metrics_->update(s);
}

nlohmann::json Supervisor::status() {
  refresh_stats();
  const GuestStats& s = stats_;
  std::string supervision = "supervising";
  if (s.crash_loop) supervision = "crash loop: not restarting until `vitrine start`";
  else if (s.operator_stopped) supervision = "stopped by an operator: `vitrine start` starts it";
  else if (restart_.scheduled()) supervision = "restart scheduled";
  std::string current_policy;
  try {
    current_policy = PolicyBytes::read(cabinet_.policy).sha256;
  } catch (const std::exception&) {
  }
  nlohmann::json guest = {{"name", cabinet_.name},
                          {"state", s.running ? "running" : state_name(s.state)},
                          {"uptime_seconds", static_cast<uint64_t>(s.uptime_seconds)},
                          {"cpu_seconds", s.cpu_seconds},
                          {"restarts", s.restarts_total},
                          {"reboots", s.reboots_total},
                          {"supervision", supervision},
                          {"crash_loop", s.crash_loop},
                          {"operator_stopped", s.operator_stopped}};
  if (restart_.scheduled()) {
    guest["restart_in_seconds"] =
        std::chrono::duration_cast<std::chrono::seconds>(*restart_.next_start() - Clock::now()).count();
  }
  nlohmann::json netmon = {{"state", s.netmon_up ? "running" : "down (the guest is cut off)"},
                           {"pid", netmon_pid_},
                           {"restarts", netmon_restarts_},
                           {"policy", cabinet_.policy},
                           {"policy_sha256", policy_.sha256},
                           {"policy_file_changed_since_start", !current_policy.empty() && current_policy != policy_.sha256},
                           {"metrics", cabinet_.netmon_metrics}};
  if (s.netmon_up) netmon["counters"] = netmon_counters();
  return {{"ok", true}, {"guest", guest}, {"netmon", netmon}, {"metrics", cabinet_.metrics}};
}

nlohmann::json Supervisor::snapshot(const nlohmann::json& request) {
  const std::string action = request.value("action", "");
  images::ImageStore store(cabinet_.image_store);
  if (action == "list") {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& snap : store.snapshot_list()) list.push_back({{"name", snap.name}, {"date", snap.date}});
    return {{"ok", true}, {"snapshots", list}};
  }
  if (action != "create" && action != "revert" && action != "delete")
    return {{"ok", false}, {"error", "snapshot action must be create, list, revert or delete"}};
  const std::string name = request.value("name", "");
  // A snapshot is of the overlay QEMU writes: it is taken with the guest stopped, and
  // stopping a cabinet is the operator's decision, said explicitly.
  const bool was_running = guest_active();
  if (was_running && !request.value("stopGuest", false)) {
    return {{"ok", false},
            {"error", "the guest is running: a snapshot " + action +
                          " stops it for the moment it takes (ACPI shutdown, then the operation, then it "
                          "is started again); say so with --stop-guest"}};
  }
  if (was_running) stop_guest("snapshot " + action);
  nlohmann::json answer = {{"ok", true}, {"action", action}, {"name", name}, {"guest_restarted", was_running}};
  try {
    if (action == "create") store.snapshot_create(name);
    else if (action == "revert") store.snapshot_revert(name);
    else store.snapshot_delete(name);
    events_->record("snapshot_" + action, {{"name", name}});
  } catch (const std::exception& e) {
    answer = {{"ok", false}, {"error", e.what()}, {"guest_restarted", was_running}};
  }
  if (was_running) start_guest("after snapshot " + action);
  return answer;
}

// netmon's counters, from its `status`; {"reachable":false,"error":...} when it does not answer.
nlohmann::json Supervisor::netmon_counters() const {
  try {
    const nlohmann::json answer = netmon_->request({{"command", "status"}}, kNetmonQueryTimeout);
    nlohmann::json counters = answer.value("counters", nlohmann::json::object());
    counters["reachable"] = answer.value("ok", false);
    return counters;
  } catch (const std::exception& e) {
    return {{"reachable", false}, {"error", e.what()}};
  }
}

// The bytes to netmon; its answer names the sha256 of what it validated, which must be theirs.
nlohmann::json Supervisor::send_policy(const PolicyBytes& policy) {
  events_->record("policy_reload_requested", {{"policy", policy.source}, {"policy_sha256", policy.sha256}});
  nlohmann::json answer;
  try {
    answer = netmon_->request({{"command", "reload"}, {"policy_text", policy.text}, {"source", policy.source}},
                              kNetmonReloadTimeout);
  } catch (const std::exception& e) {
    return {{"ok", false}, {"error", std::string("netmon did not answer the reload: ") + e.what()}};
  }
  if (!answer.value("ok", false))
    return {{"ok", false}, {"error", "refused, the running policy stays in force: " + answer.value("error", "?")}};
  if (answer.value("policy_sha256", "") != policy.sha256)
    return {{"ok", false}, {"error", "netmon put another policy in force (" + answer.value("policy_sha256", "?") +
                                         ") than the one sent (" + policy.sha256 + ")"}};
  return {{"ok", true}, {"policy", policy.source}, {"policy_sha256", policy.sha256},
          {"flows_rejudged", answer.value("flows_rejudged", 0)}, {"flows_cut", answer.value("flows_cut", 0)}};
}

nlohmann::json Supervisor::handle(const nlohmann::json& request) {
  const std::string command = request["command"].get<std::string>();
  if (command == "status") return status();
  if (command == "events") {
    const auto n = request.value("last", static_cast<uint64_t>(50));
    return {{"ok", true},
            {"events", recent_events({{"hostd", events_path(".hostd-events.jsonl")}, {"netmon", events_path(".events.jsonl")}},
                                     static_cast<size_t>(n))}};
  }
  if (command == "stop") {
    set_operator_stopped(true);
    events_->record("operator_stop");
    const std::string how = stop_guest("operator");
    return {{"ok", true}, {"guest", "shut off"}, {"how", how}};
  }
  if (command == "start") {
    const bool was_crash_loop = restart_.crash_loop();
    set_operator_stopped(false);
    restart_.reset();
    events_->record("operator_start", {{"cleared_crash_loop", was_crash_loop}});
    check_netmon();
    if (!netmon_alive()) return {{"ok", false}, {"error", "netmon is not running: see " + path(".netmon.log")}};
    if (guest_active()) return {{"ok", true}, {"guest", "already running"}};
    start_guest("operator");
    return {{"ok", true}, {"guest", "started"}, {"cleared_crash_loop", was_crash_loop}};
  }
  if (command == "snapshot") return snapshot(request);
  if (command == "reload") return reload_policy_and_usb_rules();
  if (command == "devices") return usb_devices();
  return {{"ok", false}, {"error", "unknown command " + command + " (status, events, stop, start, snapshot, reload, devices)"}};
}

// --- USB passthrough ------------------------------------------------------------------------

void Supervisor::start_usb() {
  usb_registry_ = std::make_shared<prometheus::Registry>();
  usb_metrics_ = std::make_unique<passthrough::UsbMetrics>(*usb_registry_);
  usb_host_ = std::make_unique<passthrough::SysfsHostUsb>();
  usb_guest_ = std::make_unique<LibvirtGuestUsb>(conn_, cabinet_.name);
  usb_ = std::make_unique<passthrough::UsbPassthrough>(
      usb_rules_of(policy_), *usb_guest_, *usb_host_,
      [this](const passthrough::UsbEvent& e) { record_usb(e); }, *usb_metrics_);
  udev_ = std::make_unique<passthrough::UdevUsb>();
  watch_or_throw(udev_->fd(), usb_readable, this, "the udev monitor");
  usb_->guard_controllers(udev_->root_hubs());
  usb_->on_present(udev_->present());
}

void Supervisor::on_usb_readable() {
  while (const auto e = udev_->receive()) usb_->on_uevent(*e);
}

void Supervisor::record_usb(const passthrough::UsbEvent& e) {
  nlohmann::json fields = {{"action", e.action}, {"id", e.vendor_id + ":" + e.product_id}, {"serial", e.serial},
                           {"name", e.name}, {"port", e.port}, {"interfaces", e.interfaces}, {"rule", e.rule}};
  if (!e.rule_text.empty()) fields["rule_text"] = e.rule_text;
  if (!e.reason.empty()) fields["reason"] = e.reason;
  if (e.kind == "usb_blocked" || e.kind == "usb_rejected" || e.kind == "usb_host_refused" || e.kind == "usb_attach_failed")
    spdlog::warn("usb {} {}:{} at {}: {} ({})", e.kind, e.vendor_id, e.product_id, e.port, e.rule, e.reason);
  events_->record(e.kind, std::move(fields));
}

nlohmann::json Supervisor::usb_devices() const {
  nlohmann::json list = nlohmann::json::array();
  if (usb_)
    for (const auto& d : usb_->devices())
      list.push_back({{"port", d.port}, {"id", d.vendor_id + ":" + d.product_id}, {"serial", d.serial},
                      {"name", d.name}, {"interfaces", d.interfaces}, {"decision", d.decision},
                      {"rule", d.rule}, {"reason", d.reason}, {"attached", d.attached}});
  return {{"ok", true}, {"devices", list}};
}

// One read of the file: its USB rules are compiled first (a policy whose USB rules USBGuard
// refuses is refused whole, and netmon is not asked to load it), then netmon is handed the same
// bytes; only once it has them in force do the USB rules change.
nlohmann::json Supervisor::reload_policy_and_usb_rules() {
  if (!netmon_alive()) return {{"ok", false}, {"error", "netmon is not running: see " + path(".netmon.log")}};
  std::optional<PolicyBytes> policy;
  std::optional<passthrough::UsbRuleSet> rules;
  try {
    policy = PolicyBytes::read(cabinet_.policy);
    rules = usb_rules_of(*policy);
  } catch (const std::exception& e) {
    events_->record("policy_reload_refused", {{"policy", cabinet_.policy}, {"reason", e.what()}});
    return {{"ok", false}, {"error", std::string("refused, the running policy stays in force: ") + e.what()}};
  }
  nlohmann::json answer = send_policy(*policy);
  if (!answer.value("ok", false)) {
    events_->record("policy_reload_refused", {{"policy", cabinet_.policy}, {"reason", answer.value("error", "")}});
    return answer;
  }
  policy_ = std::move(*policy);
  save_policy_in_force(path(".policy-in-force"), policy_);
  usb_->set_rules(std::move(*rules));
  events_->record("usb_rules_reloaded", {{"policy", cabinet_.policy}, {"rules", usb_->rule_count()}});
  answer["usb_rules"] = usb_->rule_count();
  return answer;
}

// --- mediated serial ports -------------------------------------------------------------------

struct Supervisor::SerialWatch {
  Supervisor* self;
  std::unique_ptr<passthrough::SerialRelay> relay;
  int device_fd = -1, device_watch = -1, guest_fd = -1, guest_watch = -1;
};

namespace {
void serial_device_event(int, int, int events, void* opaque) {
  auto* w = static_cast<Supervisor::SerialWatch*>(opaque);
  w->self->on_serial_event(*w, true, events);
}
void serial_guest_event(int, int, int events, void* opaque) {
  auto* w = static_cast<Supervisor::SerialWatch*>(opaque);
  w->self->on_serial_event(*w, false, events);
}
// libvirt's loop watches whatever descriptors the relay has open now: for reading always, for
// writing while bytes wait for that side.
void sync_watches(Supervisor::SerialWatch& w) {
  auto sync = [&w](int fd, bool waiting, int& known, int& watch, virEventHandleCallback cb) {
    const int flags = VIR_EVENT_HANDLE_READABLE | (waiting ? VIR_EVENT_HANDLE_WRITABLE : 0);
    if (fd == known) {
      if (watch >= 0) virEventUpdateHandle(watch, flags);
      return;
    }
    if (watch >= 0) virEventRemoveHandle(watch);
    watch = fd >= 0 ? virEventAddHandle(fd, flags, cb, &w, nullptr) : -1;
    known = fd;
    if (fd >= 0 && watch < 0) {  // asked again on the next tick's sync, not forgotten
      spdlog::error("COM{}: libvirt's event loop does not watch its descriptor: {}", w.relay->config().com, libvirt_error());
      known = -1;
    }
  };
  sync(w.relay->device_fd(), w.relay->device_waiting(), w.device_fd, w.device_watch, serial_device_event);
  sync(w.relay->guest_fd(), w.relay->guest_waiting(), w.guest_fd, w.guest_watch, serial_guest_event);
}
}  // namespace

void Supervisor::start_serial() {
  serial_metrics_ = std::make_unique<passthrough::SerialMetrics>(*usb_registry_);
  for (const auto& s : cabinet_.serial) {
    if (s.kind != SerialPort::Kind::Mediated) continue;
    passthrough::SerialRelayConfig config{s.com, s.device, s.path, s.baud,
                                          {s.max_line_bytes, s.printable_only, s.bytes_per_second, s.burst_bytes}};
    auto w = std::make_unique<SerialWatch>();
    w->self = this;
    w->relay = std::make_unique<passthrough::SerialRelay>(
        std::move(config), *serial_metrics_, [this](const passthrough::SerialEvent& e) {
          nlohmann::json fields = {{"com", e.com}};
          if (!e.reason.empty()) fields["reason"] = e.reason;
          if (e.bytes) fields["bytes"] = e.bytes;
          if (e.kind == "serial_line_dropped" || e.kind == "serial_device_lost")
            spdlog::warn("COM{} {}: {}", e.com, e.kind, e.reason);
          events_->record(e.kind, std::move(fields));
        });
    serial_.push_back(std::move(w));
  }
  connect_serial();
}

void Supervisor::connect_serial() {
  if (serial_.empty()) return;
  const bool running = guest_active();
  for (auto& w : serial_) {
    w->relay->connect(running, monotonic_us());
    sync_watches(*w);
  }
}

void Supervisor::on_serial_event(SerialWatch& w, bool device_side, int events) {
  if (events & VIR_EVENT_HANDLE_WRITABLE) {
    if (device_side) w.relay->on_device_writable();
    else w.relay->on_guest_writable();
  }
  if (events & (VIR_EVENT_HANDLE_READABLE | VIR_EVENT_HANDLE_HANGUP | VIR_EVENT_HANDLE_ERROR)) {
    if (device_side) w.relay->on_device_readable(monotonic_us());
    else w.relay->on_guest_readable();
  }
  sync_watches(w);  // a side that closed is watched no more; one with nothing waiting, for reading only
}

// --- the loop -------------------------------------------------------------------------------

void Supervisor::run(const std::atomic<bool>& stop) {
  // Only root may read the events, reach the socket, or touch the pid files.
  for (const auto& dir : {options_.state_dir, options_.events_dir}) {
    if (dir.empty()) continue;
    fs::create_directories(dir);
    fs::permissions(dir, fs::perms::owner_all);
  }
  if (!options_.syslog_url.empty())
    syslog_ = std::make_shared<SyslogForwarder>(SyslogTarget::parse(options_.syslog_url, options_.syslog_facility),
                                                "vitrine-hostd", cabinet_.name);
  events_ = std::make_unique<HostdEventLog>(events_path(".hostd-events.jsonl"), cabinet_.name, syslog_.get());
  operator_stopped_ = fs::exists(path(".operator-stopped"));

  virSetErrorFunc(nullptr, quiet_libvirt_errors);
  if (virEventRegisterDefaultImpl() < 0) throw std::runtime_error("libvirt: no event loop");
  conn_ = virConnectOpen(options_.libvirt_uri.c_str());
  if (!conn_) throw std::runtime_error("cannot connect to libvirt at " + options_.libvirt_uri + ": " + libvirt_error());
  virConnectDomainEventRegisterAny(conn_, nullptr, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                   VIR_DOMAIN_EVENT_CALLBACK(lifecycle_callback), this, nullptr);
  virConnectDomainEventRegisterAny(conn_, nullptr, VIR_DOMAIN_EVENT_ID_REBOOT,
                                   VIR_DOMAIN_EVENT_CALLBACK(reboot_callback), this, nullptr);
  // Also makes the loop return regularly, to see `stop`.
  virEventAddTimeout(kEventTickMs, supervision_timer, this, nullptr);

  // The USB rules are checked before anything starts: a policy they break is refused whole.
  usb_rules_of(PolicyBytes::read(cabinet_.policy));
  events_->record("hostd_started", {{"pid", getpid()}});
  netmon_ = std::make_unique<NetmonProcess>(netmon_launch());
  ensure_tap();
  ensure_netmon();  // before the guest: it never has a moment of network without netmon
  start_usb();      // the USB rules of the policy netmon enforces
  start_serial();
  prometheus::Exposer exposer(cabinet_.metrics);
  exposer.RegisterCollectable(metrics_);
  exposer.RegisterCollectable(usb_registry_);
  if (syslog_) exposer.RegisterCollectable(syslog_);
  control_ = std::make_unique<ControlServer>(path(".sock"), [this](const nlohmann::json& r) { return handle(r); });
  watch_or_throw(control_->fd(), control_ready, control_.get(), "the control socket");
  ensure_guest();
  while (!stop.load()) virEventRunDefaultImpl();
  stop_guest("hostd stopping");
  stop_netmon();
  events_->record("hostd_stopped");  // the forwarder's destructor sends it, with the rest queued
}

}  // namespace vitrine::hostd
