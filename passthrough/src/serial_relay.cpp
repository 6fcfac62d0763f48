#include "vitrine/passthrough/serial_relay.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vitrine::passthrough {

namespace {

constexpr uint64_t kMinuteUs = 60'000'000;

speed_t speed_of(unsigned baud) {
  switch (baud) {
    case 1200: return B1200;
    case 2400: return B2400;
    case 4800: return B4800;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    default: return B9600;
  }
}

std::string com_label(unsigned com) { return std::to_string(com); }

}  // namespace

SerialMetrics::SerialMetrics(prometheus::Registry& registry)
    : bytes_(prometheus::BuildCounter()
                 .Name("vitrine_serial_bytes_total")
                 .Help("Bytes relayed by a mediated serial port, by COM port and direction (to_guest, from_guest)")
                 .Register(registry)),
      lines_(prometheus::BuildCounter()
                 .Name("vitrine_serial_lines_total")
                 .Help("Lines from a mediated serial port's device, by COM port and verdict (forwarded, dropped)")
                 .Register(registry)),
      dropped_(prometheus::BuildCounter()
                   .Name("vitrine_serial_dropped_total")
                   .Help("What a mediated serial port did not pass to the guest, by COM port and reason "
                         "(too_long, not_printable, rate_limited, guest_not_reading, device_not_reading)")
                   .Register(registry)),
      suppressed_(prometheus::BuildCounter()
                      .Name("vitrine_serial_drop_events_suppressed_total")
                      .Help("serial_line_dropped events not written (more than 60 a minute on the port)")
                      .Register(registry)),
      connected_(prometheus::BuildGauge()
                     .Name("vitrine_serial_connected")
                     .Help("Whether a mediated serial port's side is open (side: device, guest)")
                     .Register(registry)) {}

prometheus::Counter& SerialMetrics::bytes(unsigned com, const char* direction) {
  return bytes_.Add({{"com", com_label(com)}, {"direction", direction}});
}
prometheus::Counter& SerialMetrics::lines(unsigned com, const char* verdict) {
  return lines_.Add({{"com", com_label(com)}, {"verdict", verdict}});
}
prometheus::Counter& SerialMetrics::dropped(unsigned com, const char* reason) {
  return dropped_.Add({{"com", com_label(com)}, {"reason", reason}});
}
prometheus::Counter& SerialMetrics::suppressed_events(unsigned com) { return suppressed_.Add({{"com", com_label(com)}}); }
prometheus::Gauge& SerialMetrics::connected(unsigned com, const char* side) {
  return connected_.Add({{"com", com_label(com)}, {"side", side}});
}

SerialRelay::SerialRelay(SerialRelayConfig config, SerialMetrics& metrics, SerialEventSink events)
    : config_(std::move(config)), metrics_(metrics), events_(std::move(events)), filter_(config_.filter) {
  metrics_.connected(config_.com, "device").Set(0);
  metrics_.connected(config_.com, "guest").Set(0);
}

SerialRelay::~SerialRelay() {
  if (device_fd_ >= 0) close(device_fd_);
  if (guest_fd_ >= 0) close(guest_fd_);
}

void SerialRelay::emit(const std::string& kind, const std::string& reason, size_t bytes) {
  if (events_) events_({kind, config_.com, reason, bytes});
}

void SerialRelay::connect(bool guest_running, uint64_t) {
  if (device_fd_ < 0) {
    const int fd = open(config_.device.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      if (!device_reported_missing_) emit("serial_device_lost", config_.device + ": " + std::strerror(errno));
      device_reported_missing_ = true;
    } else {
      termios t{};
      if (tcgetattr(fd, &t) == 0) {  // a tty: raw bytes at the port's speed
        cfmakeraw(&t);
        cfsetspeed(&t, speed_of(config_.baud));
        t.c_cflag |= CLOCAL | CREAD;
        tcsetattr(fd, TCSANOW, &t);
      }
      device_fd_ = fd;
      device_reported_missing_ = false;
      metrics_.connected(config_.com, "device").Set(1);
      emit("serial_device_opened", config_.device);
    }
  }
  if (!guest_running && guest_fd_ >= 0) lose_guest("the guest stopped");
  if (guest_running && guest_fd_ < 0) {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (fd >= 0 && config_.guest_socket.size() < sizeof addr.sun_path) {
      std::memcpy(addr.sun_path, config_.guest_socket.c_str(), config_.guest_socket.size());
      if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        guest_fd_ = fd;
        metrics_.connected(config_.com, "guest").Set(1);
        emit("serial_guest_connected", config_.guest_socket);
        return;
      }
    }
    if (fd >= 0) close(fd);  // QEMU not listening yet: tried again on the next tick
  }
}

void SerialRelay::lose_device(const std::string& why) {
  close(device_fd_);
  device_fd_ = -1;
  to_device_.clear();
  metrics_.connected(config_.com, "device").Set(0);
  emit("serial_device_lost", why);
  device_reported_missing_ = true;
}

void SerialRelay::lose_guest(const std::string& why) {
  close(guest_fd_);
  guest_fd_ = -1;
  to_guest_.clear();
  metrics_.connected(config_.com, "guest").Set(0);
  emit("serial_guest_lost", why);
}

void SerialRelay::record_drop(const char* reason, size_t bytes, uint64_t now_us) {
  metrics_.dropped(config_.com, reason).Increment();
  if (!drop_window_start_us_ || now_us - *drop_window_start_us_ >= kMinuteUs) {
    drop_window_start_us_ = now_us;
    drop_events_in_window_ = 0;
  }
  if (drop_events_in_window_++ < kMaxDropEventsPerMinute)
    emit("serial_line_dropped", reason, bytes);
  else
    metrics_.suppressed_events(config_.com).Increment();
}

// Writes what is pending and then `data`; keeps what the peer cannot take now, up to
// kMaxPendingBytes. What comes is taken whole or not at all: the filter hands over whole lines,
// and a line is never cut to fit (a half barcode is a wrong barcode). What is not taken is
// counted; the rest is written when the peer becomes writable (on_*_writable).
void SerialRelay::send(int& fd, std::vector<uint8_t>& pending, const uint8_t* data, size_t len, bool to_guest) {
  const char* not_reading = to_guest ? "guest_not_reading" : "device_not_reading";
  if (fd < 0) {
    if (len > 0 || !pending.empty()) metrics_.dropped(config_.com, not_reading).Increment();
    pending.clear();
    return;
  }
  if (pending.size() + len > kMaxPendingBytes) {
    metrics_.dropped(config_.com, not_reading).Increment();
  } else {
    pending.insert(pending.end(), data, data + len);
  }
  flush(fd, pending, to_guest);
}

void SerialRelay::flush(int fd, std::vector<uint8_t>& pending, bool to_guest) {
  size_t written = 0;
  while (written < pending.size()) {
    const ssize_t n = write(fd, pending.data() + written, pending.size() - written);
    if (n > 0) {
      written += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;  // EAGAIN: the rest waits for on_*_writable; an error shows as EOF on the next read
    }
  }
  metrics_.bytes(config_.com, to_guest ? "to_guest" : "from_guest").Increment(static_cast<double>(written));
  pending.erase(pending.begin(), pending.begin() + static_cast<long>(written));
}

void SerialRelay::on_guest_writable() {
  if (guest_fd_ >= 0) flush(guest_fd_, to_guest_, true);
}

void SerialRelay::on_device_writable() {
  if (device_fd_ >= 0) flush(device_fd_, to_device_, false);
}

void SerialRelay::on_device_readable(uint64_t now_us) {
  if (device_fd_ < 0) return;
  uint8_t buffer[4096];
  const ssize_t n = read(device_fd_, buffer, sizeof buffer);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    lose_device(n == 0 ? config_.device + ": closed" : config_.device + ": " + std::strerror(errno));
    return;
  }
  const SerialFiltered f = filter_.feed(buffer, static_cast<size_t>(n), now_us);
  if (filter_.line_mode()) metrics_.lines(config_.com, "forwarded").Increment(static_cast<double>(f.lines_forwarded));
  for (const auto& d : f.dropped) {
    if (filter_.line_mode()) metrics_.lines(config_.com, "dropped").Increment();
    record_drop(to_string(d.reason), d.bytes, now_us);
  }
  if (!f.forward.empty()) send(guest_fd_, to_guest_, f.forward.data(), f.forward.size(), true);
}

void SerialRelay::on_guest_readable() {
  if (guest_fd_ < 0) return;
  uint8_t buffer[4096];
  const ssize_t n = read(guest_fd_, buffer, sizeof buffer);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    lose_guest(n == 0 ? "QEMU closed the port" : std::strerror(errno));
    return;
  }
  send(device_fd_, to_device_, buffer, static_cast<size_t>(n), false);
}

}  // namespace vitrine::passthrough
