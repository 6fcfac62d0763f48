// A mediated serial port: hostd opens the host's serial device (a scanner, a drawer
// controller) and the guest's COM port (QEMU's unix socket), and relays between them. What the
// device sends passes the port's filter (serial_filter.h) on its way to the guest; what the
// guest sends reaches the device as it is. Both are counted; what the filter drops is counted
// and recorded (reason and length, never the content). Driven by hostd's event loop: it calls
// connect() on its tick and the on_*_readable() handlers when a descriptor is readable.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "vitrine/passthrough/serial_filter.h"

namespace vitrine::passthrough {

struct SerialRelayConfig {
  unsigned com = 1;
  std::string device;        // the host's serial device
  std::string guest_socket;  // QEMU's socket for the guest's COM port
  unsigned baud = 9600;
  SerialFilterConfig filter;
};

struct SerialEvent {
  std::string kind;  // serial_device_opened, serial_device_lost, serial_guest_connected,
                     // serial_guest_lost, serial_line_dropped
  unsigned com = 0;
  std::string reason;
  size_t bytes = 0;
};
using SerialEventSink = std::function<void(const SerialEvent&)>;

class SerialMetrics {
 public:
  explicit SerialMetrics(prometheus::Registry& registry);
  prometheus::Counter& bytes(unsigned com, const char* direction);
  prometheus::Counter& lines(unsigned com, const char* verdict);
  prometheus::Counter& dropped(unsigned com, const char* reason);
  prometheus::Counter& suppressed_events(unsigned com);
  prometheus::Gauge& connected(unsigned com, const char* side);

 private:
  prometheus::Family<prometheus::Counter>& bytes_;
  prometheus::Family<prometheus::Counter>& lines_;
  prometheus::Family<prometheus::Counter>& dropped_;
  prometheus::Family<prometheus::Counter>& suppressed_;
  prometheus::Family<prometheus::Gauge>& connected_;
};

class SerialRelay {
 public:
  // Bytes waiting for a side that does not read: a scanner line is tens of bytes; a guest that
  // leaves 4 KiB unread is not reading, and what comes after is dropped and counted.
  static constexpr size_t kMaxPendingBytes = 4096;
  // A device sending garbage must not flood the event log: per port and minute, the rest counted.
  static constexpr unsigned kMaxDropEventsPerMinute = 60;

  SerialRelay(SerialRelayConfig config, SerialMetrics& metrics, SerialEventSink events);
  ~SerialRelay();
  SerialRelay(const SerialRelay&) = delete;
  SerialRelay& operator=(const SerialRelay&) = delete;

  // Opens whichever side is not open: the device always, the guest's socket while the guest
  // runs. Cheap when both are open.
  void connect(bool guest_running, uint64_t now_us);
  int device_fd() const { return device_fd_; }
  int guest_fd() const { return guest_fd_; }
  void on_device_readable(uint64_t now_us);
  void on_guest_readable();
  // Bytes wait for a side that could not take them all: its descriptor is to be watched for
  // writability, and on_*_writable() called when it is.
  bool guest_waiting() const { return guest_fd_ >= 0 && !to_guest_.empty(); }
  bool device_waiting() const { return device_fd_ >= 0 && !to_device_.empty(); }
  void on_guest_writable();
  void on_device_writable();
  const SerialRelayConfig& config() const { return config_; }

 private:
  void lose_device(const std::string& why);
  void lose_guest(const std::string& why);
  void send(int& fd, std::vector<uint8_t>& pending, const uint8_t* data, size_t len, bool to_guest);
  void flush(int fd, std::vector<uint8_t>& pending, bool to_guest);
  void record_drop(const char* reason, size_t bytes, uint64_t now_us);
  void emit(const std::string& kind, const std::string& reason = "", size_t bytes = 0);

  SerialRelayConfig config_;
  SerialMetrics& metrics_;
  SerialEventSink events_;
  SerialLineFilter filter_;
  int device_fd_ = -1, guest_fd_ = -1;
  bool device_reported_missing_ = false;
  std::vector<uint8_t> to_guest_, to_device_;
  std::optional<uint64_t> drop_window_start_us_;  // the minute whose drop events are being counted
  unsigned drop_events_in_window_ = 0;
};

}  // namespace vitrine::passthrough
