#include "vitrine/hostd/supervisor.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include "vitrine/common/control_socket.h"
#include "vitrine/hostd/guest_domain.h"
#include "vitrine/hostd/libvirt_event_loop.h"
#include "vitrine/hostd/libvirt_guest.h"
#include "vitrine/hostd/netmon_process.h"
#include "vitrine/hostd/serial_ports.h"
#include "vitrine/hostd/usb_guest.h"
#include "vitrine/passthrough/udev_usb.h"
#include "vitrine/passthrough/usb_passthrough.h"
#include "pending_reload.h"

namespace vitrine::hostd {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

// How often the loop wakes without an event: supervision is this prompt.
constexpr std::chrono::milliseconds kEventTickMs{500};
// How often the metrics are read from libvirt. Each read is a round trip through libvirtd to
// QEMU's monitor, which a TCG guest pays for in CPU; Prometheus scrapes every 15 s or so.
constexpr std::chrono::seconds kStatsInterval{5};

}  // namespace

Supervisor::Supervisor(Cabinet cabinet, SupervisorOptions options)
    : cabinet_(std::move(cabinet)), options_(std::move(options)),
      metrics_(std::make_shared<HostdMetrics>(cabinet_.name)) {}

Supervisor::~Supervisor() {
  if (loop_) {
    for (const int id : {control_watch_, udev_watch_})
      if (id >= 0) loop_->unwatch(id);
    if (tick_timer_ >= 0) loop_->cancel(tick_timer_);
    if (reload_ && reload_->timer >= 0) loop_->cancel(reload_->timer);
  }
}

std::string Supervisor::path(const std::string& suffix) const {
  return options_.state_dir + "/" + cabinet_.name + suffix;
}

std::string Supervisor::events_path(const std::string& suffix) const {
  return (options_.events_dir.empty() ? options_.state_dir : options_.events_dir) + "/" + cabinet_.name + suffix;
}

void Supervisor::record(const std::string& event, json fields) { events_->record(event, std::move(fields)); }

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
    record("netmon_exited", {{"pid", netmon_pid_}, {"status", netmon_->exit_status()}});
    netmon_pid_ = -1;
  }
  return false;
}

// The bytes netmon enforces become the ones in force here too: USB rules and network rules from
// one version. A netmon whose policy is not `wanted` is handed `wanted` (a file changed while
// hostd started); one it refuses stops hostd, which would otherwise run on two versions.
void Supervisor::settle_policy(const PolicyBytes& wanted) {
  if (netmon_->enforced_sha256() != wanted.sha256) {
    const json r = send_policy(wanted);
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
    record("netmon_adopted", {{"pid", netmon_pid_}, {"policy_sha256", policy_.sha256}});
    return;
  }
  // A netmon started again after a crash enforces what was in force, not an edit nobody reloaded.
  const PolicyBytes wanted = policy_.text.empty() ? PolicyBytes::read(cabinet_.policy) : policy_;
  usb_rules_of(wanted);  // a policy whose USB rules are broken starts nothing
  netmon_->start();
  netmon_pid_ = netmon_->pid();
  spdlog::info("started netmon (pid {}) on {} <-> {}", netmon_pid_, cabinet_.tap, cabinet_.uplink);
  settle_policy(wanted);
  record("netmon_started", {{"pid", netmon_pid_}, {"policy", cabinet_.policy}, {"policy_sha256", policy_.sha256}});
}

void Supervisor::check_netmon() {
  if (netmon_alive()) {
    if (netmon_->holds_lock()) return;
    // The lock file was replaced under it: a netmon started now would not see it relaying.
    // Started again, it holds the lock on the file there is.
    spdlog::error("netmon (pid {}) no longer holds {}: restarting it", netmon_pid_, path(".netmon.lock"));
    record("netmon_lock_lost", {{"pid", netmon_pid_}, {"lock", path(".netmon.lock")}});
    netmon_->stop();
    netmon_alive();  // records its exit
  }
  try {
    ensure_netmon();
    ++netmon_restarts_;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
  }
}

// netmon's counters, from its `status`; {"reachable":false,"error":...} when it does not answer.
json Supervisor::netmon_counters() const {
  try {
    const json answer = netmon_->request({{"command", "status"}}, kNetmonQueryTimeout);
    json counters = answer.value("counters", json::object());
    counters["reachable"] = answer.value("ok", false);
    return counters;
  } catch (const std::exception& e) {
    return {{"reachable", false}, {"error", e.what()}};
  }
}

// netmon's reload request for `policy`, recorded as asked for.
json Supervisor::reload_request(const PolicyBytes& policy) {
  record("policy_reload_requested", {{"policy", policy.source}, {"policy_sha256", policy.sha256}});
  return {{"command", "reload"}, {"policy_text", policy.text}, {"source", policy.source}};
}

json Supervisor::send_policy(const PolicyBytes& policy) {
  const json request = reload_request(policy);
  try {
    return judge_reload_answer(netmon_->request(request, kNetmonReloadTimeout), policy);
  } catch (const std::exception& e) {
    return {{"ok", false}, {"error", std::string("netmon did not answer the reload: ") + e.what()}};
  }
}

// netmon's answer names the sha256 of what it validated, which must be that of the bytes sent.
json Supervisor::judge_reload_answer(const json& answer, const PolicyBytes& policy) {
  if (!answer.value("ok", false))
    return {{"ok", false}, {"error", "refused, the running policy stays in force: " + answer.value("error", "?")}};
  if (answer.value("policy_sha256", "") != policy.sha256)
    return {{"ok", false}, {"error", "netmon put another policy in force (" + answer.value("policy_sha256", "?") +
                                         ") than the one sent (" + policy.sha256 + ")"}};
  return {{"ok", true}, {"policy", policy.source}, {"policy_sha256", policy.sha256},
          {"flows_rejudged", answer.value("flows_rejudged", 0)}, {"flows_cut", answer.value("flows_cut", 0)}};
}

// --- supervision ----------------------------------------------------------------------------

void Supervisor::tick() {
  check_netmon();
  guest_->supervise();
  if (serial_->size() > 0) serial_->connect(guest_->active());
  if (Clock::now() >= next_stats_) {
    refresh_stats();
    next_stats_ = Clock::now() + kStatsInterval;
  }
}

void Supervisor::refresh_stats() {
  GuestStats s;
  driver_->fill_stats(s);
  guest_->fill_stats(s);
  s.netmon_up = netmon_alive();
  s.netmon_restarts_total = netmon_restarts_;
  s.event_write_failures_total = events_->write_failures();
  s.control_refused_total = control_ ? control_->refused() : 0;
  stats_ = s;
  metrics_->update(s);
}

// --- USB passthrough ------------------------------------------------------------------------

void Supervisor::start_usb() {
  usb_registry_ = std::make_shared<prometheus::Registry>();
  usb_metrics_ = std::make_unique<passthrough::UsbMetrics>(*usb_registry_);
  usb_host_ = std::make_unique<passthrough::SysfsHostUsb>();
  usb_guest_ = std::make_unique<LibvirtGuestUsb>(driver_->connection(), cabinet_.name);
  usb_ = std::make_unique<passthrough::UsbPassthrough>(
      usb_rules_of(policy_), *usb_guest_, *usb_host_,
      [this](const passthrough::UsbEvent& e) { record_usb(e); }, *usb_metrics_);
  udev_ = std::make_unique<passthrough::UdevUsb>();
  // A descriptor the loop does not watch is one nobody reads: hostd refuses to run so.
  udev_watch_ = loop_->watch(udev_->fd(), kReadable, [this](int) {
    while (const auto e = udev_->receive()) usb_->on_uevent(*e);
  });
  if (udev_watch_ < 0) throw std::runtime_error("libvirt's event loop does not watch the udev monitor: " + libvirt_error());
  usb_->guard_controllers(udev_->root_hubs());
  usb_->on_present(udev_->present());
}

void Supervisor::record_usb(const passthrough::UsbEvent& e) {
  json fields = {{"action", e.action}, {"id", e.vendor_id + ":" + e.product_id}, {"serial", e.serial},
                 {"name", e.name}, {"port", e.port}, {"interfaces", e.interfaces}, {"rule", e.rule}};
  if (!e.rule_text.empty()) fields["rule_text"] = e.rule_text;
  if (!e.reason.empty()) fields["reason"] = e.reason;
  if (e.kind == "usb_blocked" || e.kind == "usb_rejected" || e.kind == "usb_host_refused" || e.kind == "usb_attach_failed")
    spdlog::warn("usb {} {}:{} at {}: {} ({})", e.kind, e.vendor_id, e.product_id, e.port, e.rule, e.reason);
  record(e.kind, std::move(fields));
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
  auto recorder = [this](const std::string& event, json fields) { record(event, std::move(fields)); };

  loop_ = std::make_unique<LibvirtEventLoop>();
  driver_ = std::make_unique<LibvirtGuestDriver>(options_.libvirt_uri, cabinet_);
  guest_ = std::make_unique<GuestDomain>(
      *driver_, *loop_, GuestDomainOptions{cabinet_.name, options_.shutdown_timeout, path(".operator-stopped")}, recorder);
  guest_->on_started([this] {
    if (usb_) usb_->on_guest_started();  // a new QEMU has none of the devices: attach them again
  });
  // Supervision runs on this timer, not on every return of the loop: the loop also wakes for
  // libvirt's own traffic, which supervising (itself calls to libvirt) would keep busy. It
  // also makes the loop return regularly, to see `stop`.
  tick_timer_ = loop_->every(kEventTickMs, [this] { tick(); });
  if (tick_timer_ < 0) throw std::runtime_error("libvirt's event loop has no timer for supervision");

  // The USB rules are checked before anything starts: a policy they break is refused whole.
  usb_rules_of(PolicyBytes::read(cabinet_.policy));
  record("hostd_started", {{"pid", getpid()}});
  netmon_ = std::make_unique<NetmonProcess>(netmon_launch());
  ensure_tap();
  ensure_netmon();  // before the guest: it never has a moment of network without netmon
  start_usb();      // the USB rules of the policy netmon enforces
  serial_ = std::make_unique<SerialPorts>(cabinet_, *loop_, *usb_registry_, recorder);
  if (serial_->size() > 0) serial_->connect(guest_->active());
  prometheus::Exposer exposer(cabinet_.metrics);
  exposer.RegisterCollectable(metrics_);
  exposer.RegisterCollectable(usb_registry_);
  if (syslog_) exposer.RegisterCollectable(syslog_);
  control_ = std::make_unique<ControlServer>(
      path(".sock"), ControlServer::DeferringHandler([this](const json& r, ControlReply reply) { handle(r, std::move(reply)); }));
  control_watch_ = loop_->watch(control_->fd(), kReadable, [this](int) { control_->serve_one(); });
  if (control_watch_ < 0) throw std::runtime_error("libvirt's event loop does not watch the control socket: " + libvirt_error());
  guest_->adopt_or_start();
  while (!stop.load()) loop_->run_once();

  // The guest's graceful stop runs on the loop too: netmon, USB, serial and the control
  // socket are served until it is down, and a reload in flight is answered.
  guest_->hold();
  bool down = false;
  guest_->stop("hostd stopping", [&down](const std::string&) { down = true; });
  while (!down || reload_) loop_->run_once();
  netmon_->stop();
  record("hostd_stopped", json::object());  // the forwarder's destructor sends it, with the rest queued
}

}  // namespace vitrine::hostd
