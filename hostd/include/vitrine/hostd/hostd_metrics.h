// hostd's /metrics: the guest as libvirt sees it and the state of its supervision. Names
// follow the libvirt exporters' (libvirt_domain_info_*, libvirt_domain_block_stats_*,
// libvirt_domain_interface_stats_*) with the vitrine_ prefix, so dashboards written for those
// carry over. libvirt's own counters are reported as it gives them, not re-counted.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace vitrine::hostd {

struct GuestStats {
  bool libvirt_up = false;
  bool running = false;
  int state = 0;                 // virDomainState: 0 none (no domain), 1 running, 3 paused, 5 shut off...
  double cpu_seconds = 0;
  double memory_bytes = 0;
  double max_memory_bytes = 0;
  unsigned vcpus = 0;
  double uptime_seconds = 0;     // since its QEMU started (kept across hostd restarts)
  struct Disk {
    std::string device;
    double read_requests = 0, read_bytes = 0, write_requests = 0, write_bytes = 0;
  };
  std::vector<Disk> disks;
  struct Nic {
    std::string device;
    double rx_bytes = 0, rx_packets = 0, rx_errors = 0, rx_drops = 0;
    double tx_bytes = 0, tx_packets = 0, tx_errors = 0, tx_drops = 0;
  };
  std::vector<Nic> nics;
  uint64_t restarts_total = 0;          // restarts hostd made after the guest stopped unasked
  uint64_t reboots_total = 0;           // reboots the guest made itself (QEMU carried on)
  bool crash_loop = false;
  bool operator_stopped = false;
  bool netmon_up = false;
  uint64_t netmon_restarts_total = 0;
  uint64_t event_write_failures_total = 0;
  uint64_t control_refused_total = 0;
};

std::vector<prometheus::MetricFamily> metric_families(const GuestStats& stats, const std::string& domain);

// The Collectable the exposer asks at each scrape: the last snapshot hostd took.
class HostdMetrics : public prometheus::Collectable {
 public:
  explicit HostdMetrics(std::string domain) : domain_(std::move(domain)) {}
  void update(const GuestStats& stats);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::string domain_;
  mutable std::mutex mutex_;
  GuestStats stats_;
};

}  // namespace vitrine::hostd
