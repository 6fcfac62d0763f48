// hostd's supervision of one cabinet: its tap, its netmon (always started, and ready, before
// the guest), and its libvirt domain, restarted with back-off when it stops unasked until a
// crash loop is declared. Both the guest and netmon outlive hostd: a restarted hostd adopts
// them instead of starting new ones. Operators reach it through the control socket.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vitrine/hostd/cabinet.h"
#include "vitrine/hostd/cabinet_policy.h"
#include "vitrine/hostd/event_log.h"
#include "vitrine/hostd/hostd_metrics.h"
#include "vitrine/hostd/restart_policy.h"

namespace prometheus {
class Registry;
}
namespace vitrine::passthrough {
class UdevUsb;
class UsbMetrics;
class UsbPassthrough;
class SysfsHostUsb;
struct UsbEvent;
}  // namespace vitrine::passthrough

namespace vitrine {
class ControlServer;
class ControlReply;
}  // namespace vitrine

namespace vitrine::hostd {

class GuestDomain;
class LibvirtEventLoop;
class LibvirtGuestDriver;
class LibvirtGuestUsb;
class NetmonProcess;
class SerialPorts;
struct NetmonLaunch;

struct SupervisorOptions {
  std::string netmon_binary;
  // Pid file, netmon's log, both event logs, the control socket. Created 0700.
  std::string state_dir = "/run/vitrine";
  // hostd's and netmon's event logs; empty: the state directory. The packaged unit keeps them
  // in /var/lib/vitrine/events, so that they outlive a reboot (/run does not).
  std::string events_dir;
  std::string libvirt_uri = "qemu:///system";
  // XP's ACPI shutdown, under TCG, may take a minute; then the guest is destroyed.
  std::chrono::seconds shutdown_timeout{60};
  // Forward hostd's and netmon's events to a SIEM (RFC 5424): udp://HOST[:PORT] or tcp://...,
  // empty for none. Checked by SyslogTarget::parse before the supervisor is made.
  std::string syslog_url;
  std::string syslog_facility = "local0";
  // netmon's own system user (netmon/include/vitrine/netmon/sandbox.h); empty: netmon keeps
  // root's uid, though still no capability.
  std::string netmon_user = "vitrine-netmon";
};

class Supervisor {
 public:
  Supervisor(Cabinet cabinet, SupervisorOptions options);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Brings the cabinet up (or adopts it) and supervises it until `stop` is set; then shuts the
  // guest down gracefully and stops netmon. Throws std::runtime_error if it cannot start.
  void run(const std::atomic<bool>& stop);

  // One control request ({"command":"status"|"events"|"stop"|"start"|"snapshot"|"reload"|
  // "devices",...}), answered through `reply` now or, for a stop or a reload, once it is done.
  void handle(const nlohmann::json& request, ControlReply reply);

 private:
  struct PendingReload;
  using Command = void (Supervisor::*)(const nlohmann::json& request, ControlReply& reply);
  struct CommandEntry {
    const char* name;
    Command run;
  };
  static const std::vector<CommandEntry> kCommands;

  // Every kEventTickMs: netmon alive, the guest running (or its restart due), statistics.
  void tick();
  // netmon
  void ensure_tap();
  NetmonLaunch netmon_launch() const;
  void ensure_netmon();
  void settle_policy(const PolicyBytes& wanted);
  bool netmon_alive();
  void check_netmon();
  nlohmann::json netmon_counters() const;
  nlohmann::json reload_request(const PolicyBytes& policy);
  nlohmann::json send_policy(const PolicyBytes& policy);
  static nlohmann::json judge_reload_answer(const nlohmann::json& answer, const PolicyBytes& policy);
  // what operators and Prometheus see
  void refresh_stats();
  // the control commands
  void command_status(const nlohmann::json& request, ControlReply& reply);
  void command_events(const nlohmann::json& request, ControlReply& reply);
  void command_stop(const nlohmann::json& request, ControlReply& reply);
  void command_start(const nlohmann::json& request, ControlReply& reply);
  void command_snapshot(const nlohmann::json& request, ControlReply& reply);
  void command_reload(const nlohmann::json& request, ControlReply& reply);
  void command_devices(const nlohmann::json& request, ControlReply& reply);
  nlohmann::json snapshot_now(const std::string& action, const std::string& name, bool restart);
  void poll_reload();
  // USB passthrough: the policy's usb rules over the host's devices, into the guest
  void start_usb();
  void record_usb(const passthrough::UsbEvent& e);
  void record(const std::string& event, nlohmann::json fields);

  std::string path(const std::string& suffix) const;
  std::string events_path(const std::string& suffix) const;

  Cabinet cabinet_;
  SupervisorOptions options_;
  std::shared_ptr<SyslogForwarder> syslog_;  // before events_, which sends to it
  std::unique_ptr<HostdEventLog> events_;
  std::unique_ptr<LibvirtEventLoop> loop_;
  std::unique_ptr<LibvirtGuestDriver> driver_;
  std::unique_ptr<GuestDomain> guest_;
  std::unique_ptr<ControlServer> control_;
  std::shared_ptr<HostdMetrics> metrics_;
  GuestStats stats_;
  std::unique_ptr<NetmonProcess> netmon_;
  pid_t netmon_pid_ = -1;  // the last one seen, for its exit event
  uint64_t netmon_restarts_ = 0;
  std::chrono::steady_clock::time_point next_stats_{};
  PolicyBytes policy_;  // in force: netmon's network rules and the USB rules are of these bytes
  std::unique_ptr<PendingReload> reload_;
  std::shared_ptr<prometheus::Registry> usb_registry_;
  std::unique_ptr<passthrough::UsbMetrics> usb_metrics_;
  std::unique_ptr<passthrough::SysfsHostUsb> usb_host_;
  std::unique_ptr<LibvirtGuestUsb> usb_guest_;
  std::unique_ptr<passthrough::UdevUsb> udev_;
  std::unique_ptr<passthrough::UsbPassthrough> usb_;
  std::unique_ptr<SerialPorts> serial_;
  // What hostd watches on the loop, unwatched before what they call is gone.
  int tick_timer_ = -1, control_watch_ = -1, udev_watch_ = -1;
};

}  // namespace vitrine::hostd
