// GuestDriver over libvirt: the cabinet's domain, created transient from domain_xml() (libvirt
// keeps no definition of it: hostd's cabinet.yaml is the one), looked up by name, so that a
// hostd restarted over a running guest finds it. Needs libvirt's event loop registered first
// (LibvirtEventLoop): its domain events come through it.
#pragma once

#include <string>

#include "vitrine/hostd/cabinet.h"
#include "vitrine/hostd/guest_driver.h"

struct _virConnect;

namespace vitrine::hostd {

class LibvirtGuestDriver : public GuestDriver {
 public:
  // Connects to `uri`. Throws std::runtime_error if it cannot.
  LibvirtGuestDriver(const std::string& uri, Cabinet cabinet);
  ~LibvirtGuestDriver() override;
  LibvirtGuestDriver(const LibvirtGuestDriver&) = delete;
  LibvirtGuestDriver& operator=(const LibvirtGuestDriver&) = delete;

  void listen(Listener listener) override;
  bool active() override;
  void start() override;
  bool request_shutdown() override;
  void destroy() override;
  void fill_stats(GuestStats& stats) override;

  _virConnect* connection() const { return conn_; }  // for the USB passthrough's guest side
  // Called by libvirt's event callbacks.
  void deliver(const char* domain, GuestLifecycle event, const std::string& detail);

 private:
  Cabinet cabinet_;
  _virConnect* conn_ = nullptr;
  int lifecycle_callback_ = -1;
  int reboot_callback_ = -1;
  Listener listener_;
};

}  // namespace vitrine::hostd
