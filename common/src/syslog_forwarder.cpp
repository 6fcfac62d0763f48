#include "vitrine/common/syslog_forwarder.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <prometheus/metric_family.h>
#include <spdlog/spdlog.h>

#include "vitrine/common/version.h"

namespace vitrine {

namespace {

constexpr std::array<std::pair<std::string_view, int>, 13> kFacilities = {{
    {"kern", 0}, {"user", 1}, {"daemon", 3}, {"auth", 4}, {"authpriv", 10},
    {"local0", 16}, {"local1", 17}, {"local2", 18}, {"local3", 19},
    {"local4", 20}, {"local5", 21}, {"local6", 22}, {"local7", 23},
}};

// RFC 5424 6.2: the header's lengths.
constexpr size_t kMaxHostname = 255;
constexpr size_t kMaxAppName = 48;
constexpr size_t kMaxMsgId = 32;

// PRINTUSASCII (33..126), cut to `max`; "-" (NILVALUE) when empty.
std::string header_field(std::string_view value, size_t max) {
  std::string out;
  for (char c : value.substr(0, max)) out += (c >= 33 && c <= 126) ? c : '_';
  return out.empty() ? "-" : out;
}

bool parse_port(std::string_view text, uint16_t& port) {
  if (text.empty() || text.size() > 5) return false;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return false;
  port = static_cast<uint16_t>(value);
  return true;
}

}  // namespace

SyslogTarget SyslogTarget::parse(const std::string& url, const std::string& facility) {
  SyslogTarget t;
  std::string_view rest = url;
  if (rest.rfind("udp://", 0) == 0) {
    t.transport = Transport::Udp;
  } else if (rest.rfind("tcp://", 0) == 0) {
    t.transport = Transport::Tcp;
  } else {
    throw SyslogTargetError("syslog target '" + url + "' must start with udp:// or tcp://");
  }
  rest.remove_prefix(6);
  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) throw SyslogTargetError("syslog target '" + url + "': '[' without ']'");
    t.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') throw SyslogTargetError("syslog target '" + url + "': expected ':PORT' after ']'");
      port_text = rest.substr(1);
      if (port_text.empty()) throw SyslogTargetError("syslog target '" + url + "': empty port");
    }
  } else {
    const size_t colon = rest.rfind(':');
    if (colon != std::string_view::npos && rest.find(':') != colon)
      throw SyslogTargetError("syslog target '" + url + "': write an IPv6 address as [ADDRESS]:PORT");
    t.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = rest.substr(colon + 1);
      if (port_text.empty()) throw SyslogTargetError("syslog target '" + url + "': empty port");
    }
  }
  if (t.host.empty()) throw SyslogTargetError("syslog target '" + url + "' names no host");
  if (!port_text.empty() && !parse_port(port_text, t.port))
    throw SyslogTargetError("syslog target '" + url + "': port '" + std::string(port_text) +
                            "' is not a number from 1 to 65535");
  t.facility = -1;
  for (const auto& [name, code] : kFacilities)
    if (name == facility) t.facility = code;
  if (t.facility < 0) {
    std::string names;
    for (const auto& [name, code] : kFacilities) names += (names.empty() ? "" : ", ") + std::string(name);
    throw SyslogTargetError("syslog facility '" + facility + "' is not one of " + names);
  }
  return t;
}

std::string SyslogTarget::str() const {
  const bool v6 = host.find(':') != std::string::npos;
  return std::string(transport == Transport::Udp ? "udp://" : "tcp://") + (v6 ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

int syslog_severity(std::string_view event) {
  // 1 alert: an attack on the XP guest was stopped.
  if (event == "virtual_patch") return 1;
  // 2 critical: the cabinet is down and will stay down without someone.
  if (event == "crash_loop") return 2;
  // 3 error: something meant to run did not.
  if (event == "policy_refused" || event == "policy_reload_refused" || event == "guest_crashed" ||
      event == "guest_start_failed" || event == "netmon_exited" || event == "netmon_lock_lost" ||
      event == "usb_attach_failed")
    return 3;
  // 4 warning: traffic, frames, bytes or devices refused, or passed by a rule that alerts.
  if (event == "flow_denied" || event == "flow_alert" || event == "flow_would_deny" ||
      event == "layer2_violation" || event == "limit_reached" || event == "malformed" || event == "normaliser_drop" ||
      event == "usb_blocked" || event == "usb_rejected" || event == "usb_host_refused" ||
      event == "serial_line_dropped" || event == "serial_device_lost")
    return 4;
  // 6 info: devices passing as the policy says.
  if (event == "usb_allowed" || event == "usb_attached" || event == "usb_detached" || event == "usb_removed" ||
      event == "usb_controller_guarded")
    return 6;
  return 5;  // notice: the guest's and hostd's life, operators' commands, reloads
}

std::string escape_sd_value(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '"' || c == '\\' || c == ']') out += '\\';
    out += c;
  }
  return out;
}

std::string format_rfc5424(const Rfc5424Fields& f) {
  std::string out = "<" + std::to_string(f.facility * 8 + f.severity) + ">1 ";
  out += header_field(f.timestamp, 64) + ' ';
  out += header_field(f.hostname, kMaxHostname) + ' ';
  out += header_field(f.app_name, kMaxAppName) + ' ';
  out += std::to_string(f.procid) + ' ';
  out += header_field(f.msgid, kMaxMsgId) + ' ';
  out += f.structured_data.empty() ? "-" : std::string(f.structured_data);
  if (!f.msg.empty()) {
    out += " \xEF\xBB\xBF";
    out += f.msg;
  }
  return out;
}

SyslogForwarder::SyslogForwarder(SyslogTarget target, std::string app_name, std::string cabinet,
                                 size_t queue_capacity)
    : target_(std::move(target)),
      app_name_(std::move(app_name)),
      cabinet_(std::move(cabinet)),
      queue_capacity_(queue_capacity),
      structured_data_("[origin software=\"vitrine\" swVersion=\"" + escape_sd_value(kVersion) + "\"]"),
      pid_(getpid()) {
  std::array<char, 256> name{};
  if (gethostname(name.data(), name.size() - 1) == 0) hostname_ = name.data();
  sender_ = std::thread([this] { run(); });
}

SyslogForwarder::~SyslogForwarder() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    give_up_at_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(kSyslogStopMilliseconds);
  }
  wake_.notify_all();
  sender_.join();
  close_socket();
  if (const uint64_t lost = send_failed_ + queue_full_; lost > 0)
    spdlog::warn("syslog: {} of {} events could not be sent to {}", lost, lost + sent_, target_.str());
}

std::string SyslogForwarder::message_for(const nlohmann::json& event) const {
  bool oversized = false;
  return build_message(event, oversized);
}

std::string SyslogForwarder::build_message(const nlohmann::json& event, bool& oversized) const {
  nlohmann::json j = event.is_object() ? event : nlohmann::json{{"event", "not_an_object"}};
  if (!cabinet_.empty() && !j.contains("cabinet")) j["cabinet"] = cabinet_;
  const auto text_of = [&](const char* key, const char* fallback) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string(fallback);
  };
  const std::string name = text_of("event", "event");
  const std::string time = text_of("time", "-");
  Rfc5424Fields f{target_.facility, syslog_severity(name), time, hostname_, app_name_, pid_, name, structured_data_, {}};
  const std::string body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  f.msg = body;
  std::string message = format_rfc5424(f);
  oversized = message.size() > kMaxSyslogMessageBytes;
  if (!oversized) return message;
  nlohmann::json stub = {{"time", time}, {"event", name}, {"oversized_bytes", body.size()}};
  if (j.contains("cabinet")) stub["cabinet"] = j["cabinet"];
  const std::string stub_body = stub.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  f.msg = stub_body;
  return format_rfc5424(f);
}

void SyslogForwarder::forward(const nlohmann::json& event) {
  bool oversized = false;
  std::string message = build_message(event, oversized);
  if (oversized) ++oversized_;
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= queue_capacity_) {
      ++queue_full_;
      return;
    }
    queue_.push_back(std::move(message));
  }
  wake_.notify_one();
}

bool SyslogForwarder::drain(std::chrono::milliseconds deadline) {
  std::unique_lock lock(mutex_);
  return drained_.wait_for(lock, deadline, [&] { return queue_.empty() && !busy_; });
}

void SyslogForwarder::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_ && (queue_.empty() || std::chrono::steady_clock::now() > give_up_at_)) {
      send_failed_ += queue_.size();
      queue_.clear();
      drained_.notify_all();
      return;
    }
    std::string message = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    const bool sent = send_one(message);
    lock.lock();
    busy_ = false;
    if (sent) {
      ++sent_;
      if (queue_.empty()) drained_.notify_all();
      continue;
    }
    // The SIEM is down or reconnecting: the message goes back to the head of the queue (one
    // over its bound at most: the one that was in flight) and waits for the next attempt.
    // Only a stop gives the held ones up, counted as send_failed.
    queue_.push_front(std::move(message));
    const auto retry_at = std::max(next_connect_, std::chrono::steady_clock::now() +
                                                      std::chrono::milliseconds(kSyslogRetryMilliseconds));
    wake_.wait_until(lock, stopping_ ? std::min(retry_at, give_up_at_) : retry_at, [&] { return stopping_; });
  }
}

void SyslogForwarder::close_socket() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool SyslogForwarder::connect_socket() {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_connect_) return false;
  next_connect_ = now + std::chrono::milliseconds(kSyslogReconnectMilliseconds);
  const bool udp = target_.transport == SyslogTarget::Transport::Udp;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(target_.port);
  if (const int rc = getaddrinfo(target_.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    spdlog::warn("syslog: cannot resolve {}: {}", target_.str(), gai_strerror(rc));
    return false;
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(found, freeaddrinfo);
  for (addrinfo* a = found; a; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      // A SIEM that does not answer must not hold the sender longer than a reconnect interval.
      pollfd p{fd, POLLOUT, 0};
      int error = ETIMEDOUT;
      socklen_t len = sizeof error;
      if (poll(&p, 1, kSyslogReconnectMilliseconds) == 1) getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
      rc = error == 0 ? 0 : -1;
      errno = error;
    }
    if (rc == 0) {
      // Sends block (the sender is a thread of its own), but never for more than a second.
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      timeval timeout{1, 0};
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
      fd_ = fd;
      spdlog::info("syslog: forwarding events to {}", target_.str());
      return true;
    }
    spdlog::warn("syslog: cannot connect to {}: {}", target_.str(), std::strerror(errno));
    ::close(fd);
  }
  return false;
}

bool SyslogForwarder::send_one(const std::string& message) {
  if (fd_ < 0 && !connect_socket()) return false;
  const bool udp = target_.transport == SyslogTarget::Transport::Udp;
  // RFC 6587 3.4.1, octet counting: "LENGTH SP MESSAGE", so that a message may hold newlines.
  const std::string frame = udp ? message : std::to_string(message.size()) + " " + message;
  size_t done = 0;
  while (done < frame.size()) {
    const ssize_t n = ::send(fd_, frame.data() + done, frame.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || (udp && static_cast<size_t>(n) != frame.size())) {
      const int error = n < 0 ? errno : EPIPE;
      // UDP: a refused datagram (ICMP) says nothing of the next one; TCP: a half-sent frame
      // breaks the framing of the stream, so the connection is dropped and made again.
      if (!udp) close_socket();
      if (!udp || error != ECONNREFUSED) spdlog::warn("syslog: send to {} failed: {}", target_.str(), std::strerror(error));
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

std::vector<prometheus::MetricFamily> SyslogForwarder::Collect() const {
  prometheus::MetricFamily family{"vitrine_syslog_messages_total",
                                  "Events forwarded to syslog, by outcome (sent, send_failed, queue_full, oversized)",
                                  prometheus::MetricType::Counter,
                                  {}};
  const std::pair<const char*, uint64_t> outcomes[] = {{"sent", sent_.load()},
                                                        {"send_failed", send_failed_.load()},
                                                        {"queue_full", queue_full_.load()},
                                                        {"oversized", oversized_.load()}};
  for (const auto& [outcome, value] : outcomes) {
    prometheus::ClientMetric m;
    m.label.push_back({"outcome", outcome});
    m.counter.value = static_cast<double>(value);
    family.metric.push_back(std::move(m));
  }
  return {family};
}

}  // namespace vitrine
