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
#include <stdexcept>
#include <thread>

#include "vitrine/hostd/domain_xml.h"

extern char** environ;

namespace vitrine::hostd {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// netmon answers on its metrics port within a second of starting; a loaded host gets longer.
constexpr std::chrono::seconds kNetmonReadyTimeout{30};
constexpr int kEventTickMs = 500;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void no_op_timer(int, void*) {}

// libvirt prints every error to stderr by default; hostd reports the ones that matter itself
// (a guest that is not there is a state it expects, not an error).
void quiet_libvirt_errors(void*, virErrorPtr) {}

int on_lifecycle(virConnectPtr, virDomainPtr dom, int event, int detail, void*) {
  spdlog::info("guest {}: libvirt lifecycle event {} (detail {})", virDomainGetName(dom), event, detail);
  return 0;
}

struct DomainRef {
  virDomainPtr dom = nullptr;
  ~DomainRef() {
    if (dom) virDomainFree(dom);
  }
};

bool tcp_answers(const std::string& address) {
  const auto colon = address.rfind(':');
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  if (inet_pton(AF_INET, address.substr(0, colon).c_str(), &sa.sin_addr) != 1) return false;
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  close(fd);
  return ok;
}

}  // namespace

Supervisor::Supervisor(Cabinet cabinet, SupervisorOptions options)
    : cabinet_(std::move(cabinet)), options_(std::move(options)) {}

Supervisor::~Supervisor() {
  if (conn_) virConnectClose(conn_);
}

std::string Supervisor::pidfile() const {
  return options_.state_dir + "/" + cabinet_.name + ".netmon.pid";
}

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
  const int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, cabinet_.tap.c_str(), IFNAMSIZ - 1);
  if (ioctl(sock, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags |= IFF_UP;
    ioctl(sock, SIOCSIFFLAGS, &ifr);
  }
  close(sock);
}

bool Supervisor::netmon_alive() {
  if (netmon_pid_ <= 0) return false;
  if (netmon_is_child_) {
    int status = 0;
    if (waitpid(netmon_pid_, &status, WNOHANG) == netmon_pid_) {
      spdlog::warn("netmon (pid {}) exited: the guest is cut off until it is back", netmon_pid_);
      netmon_pid_ = -1;
      return false;
    }
    return true;
  }
  // Adopted: not our child, so check that the pid is still that netmon.
  const std::string cmdline = read_file("/proc/" + std::to_string(netmon_pid_) + "/cmdline");
  if (cmdline.find("vitrine-netmon") == std::string::npos || cmdline.find(cabinet_.tap) == std::string::npos) {
    spdlog::warn("netmon (pid {}) is gone: the guest is cut off until it is back", netmon_pid_);
    netmon_pid_ = -1;
    return false;
  }
  return true;
}

void Supervisor::ensure_netmon() {
  if (netmon_pid_ <= 0 && fs::exists(pidfile())) {
    netmon_pid_ = std::atoi(read_file(pidfile()).c_str());
    netmon_is_child_ = false;
    if (netmon_alive()) spdlog::info("adopted netmon (pid {})", netmon_pid_);
  }
  if (netmon_alive()) return;
  const std::vector<std::string> args = {
      options_.netmon_binary, "--guest", cabinet_.tap, "--uplink", cabinet_.uplink, "--policy",
      cabinet_.policy, "--metrics", cabinet_.netmon_metrics, "--events",
      options_.state_dir + "/" + cabinet_.name + ".events.jsonl"};
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string log = options_.state_dir + "/" + cabinet_.name + ".netmon.log";
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0640);
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
  netmon_pid_ = pid;
  netmon_is_child_ = true;
  std::ofstream(pidfile()) << pid << "\n";
  spdlog::info("started netmon (pid {}) on {} <-> {}", pid, cabinet_.tap, cabinet_.uplink);
  wait_netmon_ready();
}

void Supervisor::wait_netmon_ready() {
  const auto deadline = Clock::now() + kNetmonReadyTimeout;
  while (!tcp_answers(cabinet_.netmon_metrics)) {
    if (!netmon_alive()) throw std::runtime_error("netmon exited at start: see its log in " + options_.state_dir);
    if (Clock::now() > deadline) throw std::runtime_error("netmon did not become ready");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void Supervisor::start_guest() {
  const std::string xml = domain_xml(cabinet_, cabinet_.image_store + "/overlay.qcow2");
  DomainRef d{virDomainCreateXML(conn_, xml.c_str(), 0)};
  if (!d.dom) {
    const virErrorPtr e = virGetLastError();
    throw std::runtime_error(std::string("cannot start the guest: ") + (e && e->message ? e->message : "?"));
  }
  spdlog::info("started guest {}", cabinet_.name);
}

void Supervisor::ensure_guest() {
  DomainRef d{virDomainLookupByName(conn_, cabinet_.name.c_str())};
  if (d.dom && virDomainIsActive(d.dom) == 1) {
    spdlog::info("adopted running guest {}", cabinet_.name);
    return;
  }
  start_guest();
}

void Supervisor::supervise_guest() {
  if (crash_loop_) return;
  DomainRef d{virDomainLookupByName(conn_, cabinet_.name.c_str())};
  if (d.dom && virDomainIsActive(d.dom) == 1) return;
  const auto now = Clock::now();
  if (next_start_ == Clock::time_point{}) {
    next_start_ = now + backoff_;
    spdlog::warn("guest {} is not running: restarting in {} s", cabinet_.name, backoff_.count());
    return;
  }
  if (now < next_start_) return;
  while (!restarts_.empty() && now - restarts_.front() > kCrashLoopWindow) restarts_.pop_front();
  if (restarts_.size() >= kCrashLoopRestarts) {
    crash_loop_ = true;
    spdlog::error("guest {}: crash loop ({} restarts within {} min): no more restarts until an "
                  "operator starts it", cabinet_.name, restarts_.size(), kCrashLoopWindow.count());
    return;
  }
  restarts_.push_back(now);
  next_start_ = {};
  backoff_ = std::min(backoff_ * 2, kMaxBackoff);
  try {
    start_guest();
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
  }
}

void Supervisor::shutdown() {
  DomainRef d{virDomainLookupByName(conn_, cabinet_.name.c_str())};
  if (d.dom && virDomainIsActive(d.dom) == 1) {
    spdlog::info("shutting guest {} down (ACPI), {} s before it is destroyed", cabinet_.name,
                 options_.shutdown_timeout.count());
    virDomainShutdown(d.dom);
    const auto deadline = Clock::now() + options_.shutdown_timeout;
    while (virDomainIsActive(d.dom) == 1 && Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (virDomainIsActive(d.dom) == 1) {
      spdlog::warn("guest {} did not shut down: destroying it", cabinet_.name);
      virDomainDestroy(d.dom);
    }
  }
  if (netmon_alive()) {
    kill(netmon_pid_, SIGTERM);
    if (netmon_is_child_) waitpid(netmon_pid_, nullptr, 0);
  }
  fs::remove(pidfile());
}

void Supervisor::run(const std::atomic<bool>& stop) {
  fs::create_directories(options_.state_dir);
  virSetErrorFunc(nullptr, quiet_libvirt_errors);
  if (virEventRegisterDefaultImpl() < 0) throw std::runtime_error("libvirt: no event loop");
  conn_ = virConnectOpen(options_.libvirt_uri.c_str());
  if (!conn_) throw std::runtime_error("cannot connect to libvirt at " + options_.libvirt_uri);
  virConnectDomainEventRegisterAny(conn_, nullptr, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                   VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), this, nullptr);
  // A tick so that the event loop returns regularly to supervise and to see `stop`.
  virEventAddTimeout(kEventTickMs, no_op_timer, nullptr, nullptr);

  ensure_tap();
  ensure_netmon();  // before the guest: it never has a moment of network without netmon
  ensure_guest();
  while (!stop.load()) {
    virEventRunDefaultImpl();
    if (!netmon_alive()) {
      try {
        ensure_netmon();
      } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
      }
    }
    supervise_guest();
  }
  shutdown();
}

}  // namespace vitrine::hostd
