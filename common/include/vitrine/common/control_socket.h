// The control sockets of hostd (operators ask it) and of netmon (hostd asks it): a Unix stream
// socket that only root can open (the socket is 0600 in a 0700 directory, and the peer's
// credentials are checked as well). One request per connection: a JSON object on one line,
// answered by one JSON object on one line, e.g.
//   {"command":"status"}  ->  {"ok":true,"guest":{...},...}
//   anything refused      ->  {"ok":false,"error":"why"}
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace vitrine {

// A request is a short JSON object; anything longer is not one of ours.
inline constexpr size_t kMaxControlRequestBytes = 64 * 1024;
// A client that connects and then says nothing must not hold the server for long.
inline constexpr std::chrono::milliseconds kControlReadTimeout{2000};
// A client that has not read its whole answer within this (or reads none of it) is left: it
// must not hold a server that others wait on. Tens of MB reach a reading client in ms.
inline constexpr std::chrono::milliseconds kControlWriteTimeout{5000};
// An answer can be long (hostd's events): far more than a request, but not without end.
inline constexpr size_t kMaxControlAnswerBytes = 64 << 20;

// The answer owed to one client. A handler that cannot answer at once (hostd's graceful stop,
// which may take a minute) keeps it and sends later, while its loop goes on serving others and
// its own events. Sent at most once; one dropped unsent answers {"ok":false,...}, so that no
// client waits for its timeout on an answer nobody will give.
class ControlReply {
 public:
  ControlReply() = default;
  explicit ControlReply(int client_fd) : fd_(client_fd) {}
  ControlReply(ControlReply&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  ControlReply& operator=(ControlReply&& other) noexcept;
  ControlReply(const ControlReply&) = delete;
  ControlReply& operator=(const ControlReply&) = delete;
  ~ControlReply();

  void send(const nlohmann::json& answer);
  bool pending() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

class ControlServer {
 public:
  using Handler = std::function<nlohmann::json(const nlohmann::json& request)>;
  // Answers through `reply`, now or later.
  using DeferringHandler = std::function<void(const nlohmann::json& request, ControlReply reply)>;
  struct Limits {
    size_t max_request_bytes = kMaxControlRequestBytes;
  };

  // Binds `path` (replacing a stale socket left by a killed server). Throws std::runtime_error.
  ControlServer(std::string path, Handler handler, Limits limits);
  ControlServer(std::string path, Handler handler) : ControlServer(std::move(path), std::move(handler), Limits{}) {}
  ControlServer(std::string path, DeferringHandler handler, Limits limits);
  ControlServer(std::string path, DeferringHandler handler)
      : ControlServer(std::move(path), std::move(handler), Limits{}) {}
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  int fd() const { return fd_; }
  // Accepts one waiting client and reads its request; a Handler's answer is sent and the
  // connection closed before this returns, a DeferringHandler's when it sends. Never throws.
  void serve_one();
  // Serves clients until `stop` is set (seen within `kStopPollMs`): for a server on a thread
  // of its own.
  void serve_until(const std::atomic<bool>& stop);
  static constexpr int kStopPollMs = 100;

  uint64_t requests() const { return requests_.load(); }
  uint64_t refused() const { return refused_.load(); }  // not root, malformed, too long, too slow

 private:
  std::string path_;
  DeferringHandler handler_;
  Limits limits_;
  int fd_ = -1;
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> refused_{0};
};

// The client's side: sends `request` to the socket at `path` and returns the answer. Waits up
// to `timeout` for it (a graceful stop may take a minute). `server_pid`, when given, receives
// the pid of the process that listens (SO_PEERCRED): who answered, as the kernel says.
// Throws std::runtime_error ("cannot reach PATH: ..." when nothing listens there).
nlohmann::json control_request(const std::string& path, const nlohmann::json& request,
                               std::chrono::milliseconds timeout, pid_t* server_pid = nullptr);

}  // namespace vitrine
