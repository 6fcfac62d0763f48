#include "vitrine/hostd/libvirt_guest.h"

#include <libvirt/libvirt.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "vitrine/hostd/domain_xml.h"
#include "vitrine/hostd/libvirt_event_loop.h"

namespace vitrine::hostd {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct DomainRef {
  virDomainPtr dom = nullptr;
  explicit DomainRef(virDomainPtr d) : dom(d) {}
  ~DomainRef() {
    if (dom) virDomainFree(dom);
  }
  DomainRef(const DomainRef&) = delete;
  DomainRef& operator=(const DomainRef&) = delete;
};

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

// libvirt reports every domain on the host: the driver passes on only its cabinet's.
int lifecycle_callback(virConnectPtr, virDomainPtr dom, int event, int detail, void* opaque) {
  auto* self = static_cast<LibvirtGuestDriver*>(opaque);
  if (event == VIR_DOMAIN_EVENT_STOPPED) self->deliver(virDomainGetName(dom), GuestLifecycle::Stopped, stop_reason(detail));
  else if (event == VIR_DOMAIN_EVENT_CRASHED) self->deliver(virDomainGetName(dom), GuestLifecycle::Crashed, "");
  else if (event == VIR_DOMAIN_EVENT_STARTED) self->deliver(virDomainGetName(dom), GuestLifecycle::Started, "");
  return 0;
}

void reboot_callback(virConnectPtr, virDomainPtr dom, void* opaque) {
  static_cast<LibvirtGuestDriver*>(opaque)->deliver(virDomainGetName(dom), GuestLifecycle::Rebooted, "");
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

double non_negative(long long v) { return static_cast<double>(v < 0 ? 0 : v); }

}  // namespace

// guest_state_name (guest_domain.cpp) names these by number, without libvirt's header.
static_assert(VIR_DOMAIN_RUNNING == 1 && VIR_DOMAIN_BLOCKED == 2 && VIR_DOMAIN_PAUSED == 3 &&
              VIR_DOMAIN_SHUTDOWN == 4 && VIR_DOMAIN_SHUTOFF == 5 && VIR_DOMAIN_CRASHED == 6 &&
              VIR_DOMAIN_PMSUSPENDED == 7);

LibvirtGuestDriver::LibvirtGuestDriver(const std::string& uri, Cabinet cabinet) : cabinet_(std::move(cabinet)) {
  conn_ = virConnectOpen(uri.c_str());
  if (!conn_) throw std::runtime_error("cannot connect to libvirt at " + uri + ": " + libvirt_error());
  lifecycle_callback_ = virConnectDomainEventRegisterAny(conn_, nullptr, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                         VIR_DOMAIN_EVENT_CALLBACK(lifecycle_callback), this, nullptr);
  reboot_callback_ = virConnectDomainEventRegisterAny(conn_, nullptr, VIR_DOMAIN_EVENT_ID_REBOOT,
                                                      VIR_DOMAIN_EVENT_CALLBACK(reboot_callback), this, nullptr);
  if (lifecycle_callback_ < 0 || reboot_callback_ < 0) {
    const std::string error = libvirt_error();
    virConnectClose(conn_);
    throw std::runtime_error("libvirt does not report domain events: " + error);
  }
}

LibvirtGuestDriver::~LibvirtGuestDriver() {
  virConnectDomainEventDeregisterAny(conn_, lifecycle_callback_);
  virConnectDomainEventDeregisterAny(conn_, reboot_callback_);
  virConnectClose(conn_);
}

void LibvirtGuestDriver::listen(Listener listener) { listener_ = std::move(listener); }

void LibvirtGuestDriver::deliver(const char* domain, GuestLifecycle event, const std::string& detail) {
  if (!domain || cabinet_.name != domain || !listener_) return;
  try {  // an exception must not cross libvirt's C frames
    listener_(event, detail);
  } catch (const std::exception& e) {
    spdlog::error("guest {}: a lifecycle event's handling failed: {}", cabinet_.name, e.what());
  }
}

bool LibvirtGuestDriver::active() {
  const DomainRef d(virDomainLookupByName(conn_, cabinet_.name.c_str()));
  return d.dom && virDomainIsActive(d.dom) == 1;
}

void LibvirtGuestDriver::start() {
  const std::string xml = domain_xml(cabinet_, cabinet_.image_store + "/overlay.qcow2");
  const DomainRef d(virDomainCreateXML(conn_, xml.c_str(), 0));
  if (!d.dom) throw std::runtime_error("cannot start the guest: " + libvirt_error());
}

bool LibvirtGuestDriver::request_shutdown() {
  const DomainRef d(virDomainLookupByName(conn_, cabinet_.name.c_str()));
  return d.dom && virDomainShutdown(d.dom) == 0;
}

void LibvirtGuestDriver::destroy() {
  const DomainRef d(virDomainLookupByName(conn_, cabinet_.name.c_str()));
  if (d.dom) virDomainDestroy(d.dom);
}

void LibvirtGuestDriver::fill_stats(GuestStats& s) {
  s.libvirt_up = virConnectIsAlive(conn_) == 1;
  const DomainRef d(virDomainLookupByName(conn_, cabinet_.name.c_str()));
  virDomainInfo info{};
  if (!d.dom || virDomainGetInfo(d.dom, &info) != 0) return;
  s.state = info.state;
  s.running = virDomainIsActive(d.dom) == 1;
  s.cpu_seconds = static_cast<double>(info.cpuTime) / 1e9;
  s.memory_bytes = static_cast<double>(info.memory) * 1024;
  s.max_memory_bytes = static_cast<double>(info.maxMem) * 1024;
  s.vcpus = info.nrVirtCpu;
  if (!s.running) return;
  // libvirt keeps QEMU's pid here; its age is the guest's uptime, also for an adopted guest.
  const std::string pid = read_file("/run/libvirt/qemu/" + cabinet_.name + ".pid");
  if (!pid.empty()) s.uptime_seconds = process_age_seconds(std::atoi(pid.c_str()));
  virDomainBlockStatsStruct block{};
  const std::string disk = disk_target(cabinet_);
  if (virDomainBlockStats(d.dom, disk.c_str(), &block, sizeof block) == 0)
    s.disks.push_back({disk, static_cast<double>(block.rd_req), static_cast<double>(block.rd_bytes),
                       static_cast<double>(block.wr_req), static_cast<double>(block.wr_bytes)});
  virDomainInterfaceStatsStruct nic{};
  if (virDomainInterfaceStats(d.dom, cabinet_.tap.c_str(), &nic, sizeof nic) == 0)
    s.nics.push_back({cabinet_.tap, non_negative(nic.rx_bytes), non_negative(nic.rx_packets),
                      non_negative(nic.rx_errs), non_negative(nic.rx_drop), non_negative(nic.tx_bytes),
                      non_negative(nic.tx_packets), non_negative(nic.tx_errs), non_negative(nic.tx_drop)});
}

}  // namespace vitrine::hostd
