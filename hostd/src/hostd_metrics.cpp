#include "vitrine/hostd/hostd_metrics.h"

namespace vitrine::hostd {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

class Families {
 public:
  explicit Families(std::string domain) : domain_(std::move(domain)) {}

  void gauge(const std::string& name, const std::string& help, double value,
             std::vector<ClientMetric::Label> labels = {}) {
    ClientMetric m = metric(std::move(labels));
    m.gauge.value = value;
    add(name, help, MetricType::Gauge, std::move(m));
  }
  void counter(const std::string& name, const std::string& help, double value,
               std::vector<ClientMetric::Label> labels = {}) {
    ClientMetric m = metric(std::move(labels));
    m.counter.value = value;
    add(name, help, MetricType::Counter, std::move(m));
  }
  std::vector<MetricFamily> take() { return std::move(families_); }

 private:
  ClientMetric metric(std::vector<ClientMetric::Label> labels) {
    ClientMetric m;
    m.label.push_back({"domain", domain_});
    for (auto& l : labels) m.label.push_back(std::move(l));
    return m;
  }
  void add(const std::string& name, const std::string& help, MetricType type, ClientMetric m) {
    for (auto& f : families_) {
      if (f.name == name) {
        f.metric.push_back(std::move(m));
        return;
      }
    }
    families_.push_back(MetricFamily{name, help, type, {std::move(m)}});
  }

  std::string domain_;
  std::vector<MetricFamily> families_;
};

}  // namespace

std::vector<MetricFamily> metric_families(const GuestStats& s, const std::string& domain) {
  Families f(domain);
  f.gauge("vitrine_libvirt_up", "1 if hostd's connection to libvirtd works", s.libvirt_up);
  f.gauge("vitrine_domain_up", "1 if the guest is running", s.running);
  f.gauge("vitrine_domain_info_state",
          "libvirt's domain state: 0 none, 1 running, 2 blocked, 3 paused, 4 shutting down, 5 shut off, "
          "6 crashed, 7 suspended", s.state);
  f.counter("vitrine_domain_info_cpu_time_seconds_total", "CPU time the guest has used", s.cpu_seconds);
  f.gauge("vitrine_domain_info_memory_usage_bytes", "Memory the guest has", s.memory_bytes);
  f.gauge("vitrine_domain_info_maximum_memory_bytes", "Memory the guest may have", s.max_memory_bytes);
  f.gauge("vitrine_domain_info_virtual_cpus", "The guest's virtual CPUs", s.vcpus);
  f.gauge("vitrine_domain_uptime_seconds", "Seconds since the guest's QEMU started", s.uptime_seconds);
  for (const auto& d : s.disks) {
    const std::vector<ClientMetric::Label> l = {{"target_device", d.device}};
    f.counter("vitrine_domain_block_stats_read_requests_total", "Reads from the guest's disk", d.read_requests, l);
    f.counter("vitrine_domain_block_stats_read_bytes_total", "Bytes read from the guest's disk", d.read_bytes, l);
    f.counter("vitrine_domain_block_stats_write_requests_total", "Writes to the guest's disk", d.write_requests, l);
    f.counter("vitrine_domain_block_stats_write_bytes_total", "Bytes written to the guest's disk", d.write_bytes, l);
  }
  for (const auto& n : s.nics) {
    const std::vector<ClientMetric::Label> l = {{"target_device", n.device}};
    f.counter("vitrine_domain_interface_stats_receive_bytes_total", "Bytes the guest's NIC received", n.rx_bytes, l);
    f.counter("vitrine_domain_interface_stats_receive_packets_total", "Packets the guest's NIC received", n.rx_packets, l);
    f.counter("vitrine_domain_interface_stats_receive_errors_total", "Receive errors on the guest's NIC", n.rx_errors, l);
    f.counter("vitrine_domain_interface_stats_receive_drops_total", "Received packets dropped", n.rx_drops, l);
    f.counter("vitrine_domain_interface_stats_transmit_bytes_total", "Bytes the guest's NIC sent", n.tx_bytes, l);
    f.counter("vitrine_domain_interface_stats_transmit_packets_total", "Packets the guest's NIC sent", n.tx_packets, l);
    f.counter("vitrine_domain_interface_stats_transmit_errors_total", "Transmit errors on the guest's NIC", n.tx_errors, l);
    f.counter("vitrine_domain_interface_stats_transmit_drops_total", "Sent packets dropped", n.tx_drops, l);
  }
  f.counter("vitrine_domain_restarts_total", "Restarts hostd made after the guest stopped unasked",
            static_cast<double>(s.restarts_total));
  f.counter("vitrine_domain_reboots_total", "Reboots the guest made itself (a blue screen, a panic)",
            static_cast<double>(s.reboots_total));
  f.gauge("vitrine_domain_crash_loop", "1 if the guest stopped too often and hostd no longer restarts it",
          s.crash_loop);
  f.gauge("vitrine_domain_operator_stopped", "1 if an operator stopped the guest (`vitrine stop`)",
          s.operator_stopped);
  f.gauge("vitrine_netmon_up", "1 if the cabinet's netmon is running: without it the guest is cut off",
          s.netmon_up);
  f.counter("vitrine_netmon_restarts_total", "Times hostd restarted a netmon that had exited",
            static_cast<double>(s.netmon_restarts_total));
  f.counter("vitrine_hostd_event_write_failures_total", "hostd events that could not be written",
            static_cast<double>(s.event_write_failures_total));
  f.counter("vitrine_hostd_control_refused_total", "Control socket requests refused (not root, malformed)",
            static_cast<double>(s.control_refused_total));
  return f.take();
}

void HostdMetrics::update(const GuestStats& stats) {
  std::lock_guard lock(mutex_);
  stats_ = stats;
}

std::vector<prometheus::MetricFamily> HostdMetrics::Collect() const {
  std::lock_guard lock(mutex_);
  return metric_families(stats_, domain_);
}

}  // namespace vitrine::hostd
