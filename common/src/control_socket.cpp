#include "vitrine/common/control_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <spdlog/spdlog.h>

namespace vitrine {

namespace {

sockaddr_un unix_address(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) throw std::runtime_error("socket path too long: " + path);
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  return sa;
}

int64_t ms_left(std::chrono::steady_clock::time_point deadline) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
}

// Reads up to a newline, at most `limit` bytes, until `deadline`. Returns false on timeout,
// overflow or a closed connection before the newline.
bool read_line(int fd, std::string& line, size_t limit, std::chrono::steady_clock::time_point deadline) {
  char buf[4096];
  while (line.find('\n') == std::string::npos) {
    if (line.size() > limit) return false;
    pollfd p{fd, POLLIN, 0};
    const int64_t left = ms_left(deadline);
    if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    line.append(buf, static_cast<size_t>(n));
  }
  line.resize(line.find('\n'));
  return line.size() <= limit;
}

// Writes `text` until `deadline`; a peer that went away, or reads too slowly, is left.
void write_all(int fd, const std::string& text, std::chrono::steady_clock::time_point deadline) {
  size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = send(fd, text.data() + off, text.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return;
    pollfd p{fd, POLLOUT, 0};
    const int64_t left = ms_left(deadline);
    if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) return;
  }
}

std::string answer_line(const nlohmann::json& answer) {
  return answer.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace

ControlReply& ControlReply::operator=(ControlReply&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) send({{"ok", false}, {"error", "the server dropped the request unanswered"}});
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

ControlReply::~ControlReply() {
  if (fd_ >= 0) send({{"ok", false}, {"error", "the server dropped the request unanswered"}});
}

void ControlReply::send(const nlohmann::json& answer) {
  if (fd_ < 0) return;
  write_all(fd_, answer_line(answer), std::chrono::steady_clock::now() + kControlWriteTimeout);
  close(fd_);
  fd_ = -1;
}

ControlServer::ControlServer(std::string path, Handler handler, Limits limits)
    : ControlServer(
          std::move(path),
          DeferringHandler([handler = std::move(handler)](const nlohmann::json& request, ControlReply reply) {
            try {
              reply.send(handler(request));
            } catch (const std::exception& e) {
              reply.send({{"ok", false}, {"error", e.what()}});
            }
          }),
          limits) {}

ControlServer::ControlServer(std::string path, DeferringHandler handler, Limits limits)
    : path_(std::move(path)), handler_(std::move(handler)), limits_(limits) {
  const sockaddr_un sa = unix_address(path_);
  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("control socket: ") + std::strerror(errno));
  unlink(path_.c_str());  // a killed hostd leaves its socket behind
  // Created 0600 from the start: no moment in which another user could connect.
  const mode_t old = umask(0177);
  const int rc = bind(fd_, reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
  umask(old);
  if (rc != 0 || listen(fd_, 8) != 0) {
    const int err = errno;
    close(fd_);
    throw std::runtime_error("control socket " + path_ + ": " + std::strerror(err));
  }
}

ControlServer::~ControlServer() {
  if (fd_ >= 0) {
    close(fd_);
    unlink(path_.c_str());
  }
}

void ControlServer::serve_one() {
  const int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (c < 0) return;
  ++requests_;
  nlohmann::json answer;
  ucred peer{};
  socklen_t len = sizeof peer;
  std::string line;
  if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0 || peer.uid != 0) {
    ++refused_;
    spdlog::warn("control socket: refused a client with uid {} (root only)", peer.uid);
    answer = {{"ok", false}, {"error", "root only"}};
  } else if (!read_line(c, line, limits_.max_request_bytes,
                        std::chrono::steady_clock::now() + kControlReadTimeout)) {
    ++refused_;
    answer = {{"ok", false}, {"error", "no request line (at most " + std::to_string(limits_.max_request_bytes) +
                                           " bytes, within " + std::to_string(kControlReadTimeout.count()) + " ms)"}};
  } else {
    const nlohmann::json request = nlohmann::json::parse(line, nullptr, false);
    if (request.is_discarded() || !request.is_object() || !request.contains("command") ||
        !request["command"].is_string()) {
      ++refused_;
      answer = {{"ok", false}, {"error", "a request is a JSON object with a \"command\" string"}};
    } else {
      ControlReply reply(c);
      try {
        handler_(request, std::move(reply));
      } catch (const std::exception& e) {
        // The reply went with the call: it answers "dropped unanswered" unless it was sent.
        spdlog::warn("control socket: a handler failed: {}", e.what());
      }
      return;
    }
  }
  ControlReply(c).send(answer);
}

void ControlServer::serve_until(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, kStopPollMs) > 0) serve_one();
  }
}

nlohmann::json control_request(const std::string& path, const nlohmann::json& request,
                               std::chrono::milliseconds timeout, pid_t* server_pid) {
  const sockaddr_un sa = unix_address(path);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  if (connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    const int err = errno;
    close(fd);
    throw std::runtime_error("cannot reach " + path + ": " + std::strerror(err) +
                             (err == ENOENT || err == ECONNREFUSED ? " (nothing listens there)" : ""));
  }
  if (server_pid) {
    ucred peer{};
    socklen_t len = sizeof peer;
    *server_pid = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) == 0 ? peer.pid : -1;
  }
  write_all(fd, request.dump() + "\n", std::chrono::steady_clock::now() + timeout);
  std::string line;
  const bool ok = read_line(fd, line, kMaxControlAnswerBytes, std::chrono::steady_clock::now() + timeout);
  close(fd);
  if (!ok) throw std::runtime_error("no answer from " + path + " within " + std::to_string(timeout.count()) + " ms");
  nlohmann::json answer = nlohmann::json::parse(line, nullptr, false);
  if (answer.is_discarded() || !answer.is_object()) throw std::runtime_error("the answer from " + path + " is not JSON");
  return answer;
}

}  // namespace vitrine
