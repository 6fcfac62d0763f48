// EventLoop over libvirt's default event loop implementation (virEventRegisterDefaultImpl),
// which hostd must run for libvirt's domain events. Made before the libvirt connection.
#pragma once

#include <string>

#include "vitrine/hostd/event_loop.h"

namespace vitrine::hostd {

class LibvirtEventLoop : public EventLoop {
 public:
  // Registers libvirt's default implementation. Throws std::runtime_error if it cannot.
  LibvirtEventLoop();

  int watch(int fd, int flags, FdCallback callback) override;
  void rewatch(int id, int flags) override;
  void unwatch(int id) override;
  int every(std::chrono::milliseconds period, TimerCallback callback) override;
  void cancel(int timer_id) override;
  void run_once() override;
};

// libvirt's last error message, for errors hostd reports itself.
std::string libvirt_error();

}  // namespace vitrine::hostd
