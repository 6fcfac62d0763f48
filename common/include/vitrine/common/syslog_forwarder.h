// Forwards vitrine's events to a SIEM as RFC 5424 syslog messages: over UDP (RFC 5426) or TCP
// with octet counting (RFC 6587). The JSON-lines event file stays the record; the forwarder
// sends a copy of each event, never holds up its caller (the data path emits events), holds
// what it could not send yet (a SIEM down or reconnecting) up to its queue's bound, and counts
// what it had to give up.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include <nlohmann/json.hpp>
#include <prometheus/collectable.h>

namespace vitrine {

// Events waiting for the sender thread. 200 events a second is netmon's own cap; this holds
// more than a minute of them while a SIEM is unreachable or reconnecting, and bounds memory.
inline constexpr size_t kMaxQueuedSyslogMessages = 16384;
// rsyslog's and syslog-ng's default largest message; RFC 5426 asks receivers for 2048 at least.
// An event whose message would be longer is sent as a stub naming it (counted as oversized).
inline constexpr size_t kMaxSyslogMessageBytes = 8192;
// A TCP connection that failed is tried again at most this often; meanwhile the events wait in
// the queue, in order, none counted as lost.
inline constexpr int kSyslogReconnectMilliseconds = 1000;
// A datagram the receiver refused (UDP reports it on the next send) is sent again after this.
inline constexpr int kSyslogRetryMilliseconds = 100;
// Once the forwarder is being destroyed, what is still queued after this long is given up (and
// counted as send_failed): a stalled SIEM must not hold a stopping hostd or netmon.
inline constexpr int kSyslogStopMilliseconds = 2000;

class SyslogTargetError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct SyslogTarget {
  enum class Transport { Udp, Tcp };
  Transport transport = Transport::Udp;
  std::string host;  // an IPv4 or IPv6 address or a name
  uint16_t port = 514;
  int facility = 16;  // local0

  // "udp://HOST:PORT", "tcp://HOST:PORT" ("[v6]:PORT" for IPv6; the port defaults to 514) and a
  // facility name (kern, user, daemon, auth, authpriv, local0..local7). Throws
  // SyslogTargetError saying what is wrong.
  static SyslogTarget parse(const std::string& url, const std::string& facility = "local0");
  std::string str() const;
};

// RFC 5424 severities by event: an attack stopped is an alert, a refused flow or device a
// warning, a refused policy an error, the rest notice or info. Unknown events are notice.
int syslog_severity(std::string_view event);

struct Rfc5424Fields {
  int facility = 16;
  int severity = 5;
  std::string_view timestamp;  // RFC 3339; "-" when unknown
  std::string_view hostname;
  std::string_view app_name;
  int procid = 0;
  std::string_view msgid;
  std::string_view structured_data;  // "-" or "[id name=\"value\"...]"
  std::string_view msg;              // UTF-8: sent after a byte order mark, as RFC 5424 6.4 asks
};

// One message: "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD BOM MSG". Header fields are cut
// to RFC 5424's lengths and any byte outside printable US-ASCII becomes '_' ("-" when empty).
std::string format_rfc5424(const Rfc5424Fields& f);

// A structured-data element's parameter value escaped as RFC 5424 6.3.3 asks ('"', '\' and ']').
std::string escape_sd_value(std::string_view value);

class SyslogForwarder : public prometheus::Collectable {
 public:
  // Nothing is connected here: the sender thread connects, and reconnects after a failure.
  // `cabinet` is added to every event that does not name one (empty: left out).
  SyslogForwarder(SyslogTarget target, std::string app_name, std::string cabinet,
                  size_t queue_capacity = kMaxQueuedSyslogMessages);
  ~SyslogForwarder() override;
  SyslogForwarder(const SyslogForwarder&) = delete;
  SyslogForwarder& operator=(const SyslogForwarder&) = delete;

  // Queues one event (a JSON object with "time" and "event"); never blocks on the network.
  void forward(const nlohmann::json& event);
  // Waits until every queued message was sent or given up, or the deadline passed; true when
  // the queue is empty. (The destructor itself waits up to kSyslogStopMilliseconds.)
  bool drain(std::chrono::milliseconds deadline);

  // The message this forwarder sends for an event (what forward() queues).
  std::string message_for(const nlohmann::json& event) const;

  // vitrine_syslog_messages_total{outcome}: sent, send_failed, queue_full, oversized.
  std::vector<prometheus::MetricFamily> Collect() const override;
  uint64_t sent() const { return sent_.load(); }
  uint64_t failed() const { return send_failed_.load(); }
  uint64_t queue_full() const { return queue_full_.load(); }
  uint64_t oversized() const { return oversized_.load(); }

 private:
  std::string build_message(const nlohmann::json& event, bool& oversized) const;
  void run();
  bool send_one(const std::string& message);
  bool connect_socket();
  void close_socket();

  const SyslogTarget target_;
  const std::string app_name_;
  const std::string cabinet_;
  const size_t queue_capacity_;
  const std::string structured_data_;  // the same for every message: who sent it
  std::string hostname_;
  int pid_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable drained_;
  std::deque<std::string> queue_;
  bool busy_ = false;  // the sender holds a message taken from the queue
  bool stopping_ = false;
  std::chrono::steady_clock::time_point give_up_at_{};

  int fd_ = -1;
  std::chrono::steady_clock::time_point next_connect_{};

  std::atomic<uint64_t> sent_{0}, send_failed_{0}, queue_full_{0}, oversized_{0};
  std::thread sender_;
};

}  // namespace vitrine
