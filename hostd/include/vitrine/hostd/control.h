// hostd's control socket: a Unix stream socket that only root can open (the socket is 0600 in
// a 0700 directory, and the peer's credentials are checked as well). One request per
// connection: a JSON object on one line, answered by one JSON object on one line, e.g.
//   {"command":"status"}  ->  {"ok":true,"guest":{...},...}
//   anything refused      ->  {"ok":false,"error":"why"}
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace vitrine::hostd {

// A request is a short JSON object; anything longer is not one of ours.
inline constexpr size_t kMaxControlRequestBytes = 64 * 1024;
// A client that connects and then says nothing must not hold hostd's loop for long.
inline constexpr std::chrono::milliseconds kControlReadTimeout{2000};

class ControlServer {
 public:
  using Handler = std::function<nlohmann::json(const nlohmann::json& request)>;

  // Binds `path` (replacing a stale socket left by a killed hostd). Throws std::runtime_error.
  ControlServer(std::string path, Handler handler);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  int fd() const { return fd_; }
  // Accepts one waiting client, answers it and closes the connection. Never throws.
  void serve_one();

  uint64_t requests() const { return requests_; }
  uint64_t refused() const { return refused_; }  // not root, malformed, too long, too slow

 private:
  std::string path_;
  Handler handler_;
  int fd_ = -1;
  uint64_t requests_ = 0;
  uint64_t refused_ = 0;
};

// The client's side: sends `request` to the socket at `path` and returns the answer. Waits up
// to `timeout` for it (a graceful stop may take a minute). Throws std::runtime_error.
nlohmann::json control_request(const std::string& path, const nlohmann::json& request,
                               std::chrono::seconds timeout);

}  // namespace vitrine::hostd
