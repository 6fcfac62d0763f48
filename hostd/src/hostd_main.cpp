// vitrine-hostd: runs one cabinet. SIGTERM shuts the guest down gracefully; SIGKILL leaves
// guest and netmon running for the next hostd to adopt.
//
//   vitrine-hostd --cabinet FILE --netmon BINARY [--state-dir DIR] [--shutdown-timeout S] [--syslog URL]
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <iostream>

#include "vitrine/common/log.h"
#include "vitrine/common/syslog_forwarder.h"
#include "vitrine/common/version.h"
#include "vitrine/hostd/cabinet.h"
#include "vitrine/hostd/supervisor.h"

namespace {
std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vitrine-hostd: boots a cabinet's guest behind netmon and keeps it running"};
  std::string cabinet_file, log_level = "info";
  vitrine::hostd::SupervisorOptions options;
  unsigned shutdown_s = 60;
  app.add_option("--cabinet", cabinet_file, "cabinet.yaml")->required();
  app.add_option("--netmon", options.netmon_binary, "The vitrine-netmon binary")->required();
  app.add_option("--state-dir", options.state_dir, "Pid files, netmon's log, the control socket (and events)")
      ->capture_default_str();
  app.add_option("--events-dir", options.events_dir, "hostd's and netmon's event logs (default: the state directory)");
  app.add_option("--libvirt-uri", options.libvirt_uri)->capture_default_str();
  app.add_option("--netmon-user", options.netmon_user,
                 "The system user netmon runs as once its packet sockets are open ('' keeps root's uid, "
                 "without capabilities)")
      ->capture_default_str();
  app.add_option("--shutdown-timeout", shutdown_s, "Seconds of ACPI shutdown before destroy")->capture_default_str();
  app.add_option("--log-level", log_level)->capture_default_str();
  app.add_option("--syslog", options.syslog_url,
                 "Also forward hostd's and netmon's events to a syslog receiver as RFC 5424: udp://HOST[:PORT] or "
                 "tcp://HOST[:PORT]");
  app.add_option("--syslog-facility", options.syslog_facility, "Facility of forwarded events")->capture_default_str();
  app.set_version_flag("--version", std::string("vitrine-hostd ") + vitrine::kVersion);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  vitrine::configure_logging(log_level);
  options.shutdown_timeout = std::chrono::seconds(shutdown_s);
  if (!options.syslog_url.empty()) {
    try {
      vitrine::SyslogTarget::parse(options.syslog_url, options.syslog_facility);
    } catch (const vitrine::SyslogTargetError& e) {
      spdlog::critical("refusing to start: {}", e.what());
      return 2;
    }
  }
  vitrine::hostd::Cabinet cabinet;
  try {
    cabinet = vitrine::hostd::load_cabinet_file(cabinet_file);
  } catch (const vitrine::hostd::CabinetError& e) {
    spdlog::critical("refusing to start: {}", e.what());
    return 2;
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  try {
    vitrine::hostd::Supervisor(cabinet, options).run(g_stop);
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
  return 0;
}
