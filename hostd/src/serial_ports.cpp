#include "vitrine/hostd/serial_ports.h"

#include <spdlog/spdlog.h>

#include "vitrine/common/clock.h"
#include "vitrine/passthrough/serial_relay.h"

namespace vitrine::hostd {

struct SerialPorts::Port {
  std::unique_ptr<passthrough::SerialRelay> relay;
  // The descriptors the loop watches now, and their watches (-1: none).
  int device_fd = -1, device_watch = -1, guest_fd = -1, guest_watch = -1;
};

SerialPorts::SerialPorts(const Cabinet& cabinet, EventLoop& loop, prometheus::Registry& registry, Record record)
    : loop_(loop), record_(std::move(record)), metrics_(std::make_unique<passthrough::SerialMetrics>(registry)) {
  for (const auto& s : cabinet.serial) {
    if (s.kind != SerialPort::Kind::Mediated) continue;
    passthrough::SerialRelayConfig config{s.com, s.device, s.path, s.baud,
                                          {s.max_line_bytes, s.printable_only, s.bytes_per_second, s.burst_bytes}};
    auto port = std::make_unique<Port>();
    port->relay = std::make_unique<passthrough::SerialRelay>(
        std::move(config), *metrics_, [this](const passthrough::SerialEvent& e) {
          nlohmann::json fields = {{"com", e.com}};
          if (!e.reason.empty()) fields["reason"] = e.reason;
          if (e.bytes) fields["bytes"] = e.bytes;
          if (e.kind == "serial_line_dropped" || e.kind == "serial_device_lost")
            spdlog::warn("COM{} {}: {}", e.com, e.kind, e.reason);
          record_(e.kind, std::move(fields));
        });
    ports_.push_back(std::move(port));
  }
}

SerialPorts::~SerialPorts() {
  for (auto& p : ports_) {
    if (p->device_watch >= 0) loop_.unwatch(p->device_watch);
    if (p->guest_watch >= 0) loop_.unwatch(p->guest_watch);
  }
}

void SerialPorts::connect(bool guest_running) {
  for (auto& p : ports_) {
    p->relay->connect(guest_running, monotonic_us());
    sync_watches(*p);
  }
}

void SerialPorts::on_event(Port& p, bool device_side, int flags) {
  if (flags & kWritable) {
    if (device_side) p.relay->on_device_writable();
    else p.relay->on_guest_writable();
  }
  if (flags & (kReadable | kHangup | kError)) {
    if (device_side) p.relay->on_device_readable(monotonic_us());
    else p.relay->on_guest_readable();
  }
  sync_watches(p);  // a side that closed is watched no more; one with nothing waiting, for reading only
}

// The loop watches whatever descriptors the relay has open now.
void SerialPorts::sync_watches(Port& p) {
  auto sync = [this, &p](int fd, bool waiting, int& known, int& watch, bool device_side) {
    const int flags = kReadable | (waiting ? kWritable : 0);
    if (fd == known) {
      if (watch >= 0) loop_.rewatch(watch, flags);
      return;
    }
    if (watch >= 0) loop_.unwatch(watch);
    watch = fd >= 0 ? loop_.watch(fd, flags, [this, &p, device_side](int f) { on_event(p, device_side, f); }) : -1;
    known = fd;
    if (fd >= 0 && watch < 0) {  // asked again on the next tick's sync, not forgotten
      spdlog::error("COM{}: hostd's event loop does not watch its descriptor", p.relay->config().com);
      known = -1;
    }
  };
  sync(p.relay->device_fd(), p.relay->device_waiting(), p.device_fd, p.device_watch, true);
  sync(p.relay->guest_fd(), p.relay->guest_waiting(), p.guest_fd, p.guest_watch, false);
}

}  // namespace vitrine::hostd
