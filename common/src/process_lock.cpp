#include "vitrine/common/process_lock.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace vitrine {

namespace {

flock whole_file_write_lock() {
  flock l{};
  l.l_type = F_WRLCK;
  l.l_whence = SEEK_SET;  // start 0, length 0: the whole file
  return l;
}

}  // namespace

ProcessLock::ProcessLock(const std::string& path) {
  // Not through a symlink: the lock is this path's own file.
  fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd_ < 0) throw std::runtime_error("lock " + path + ": " + std::strerror(errno));
  flock l = whole_file_write_lock();
  if (fcntl(fd_, F_SETLK, &l) != 0) {
    const int err = errno;
    close(fd_);
    fd_ = -1;
    const auto pid = holder(path);
    throw std::runtime_error("lock " + path + ": " +
                             (pid ? "held by pid " + std::to_string(*pid) : std::string(std::strerror(err))));
  }
}

ProcessLock::~ProcessLock() {
  if (fd_ >= 0) close(fd_);  // closing releases the lock
}

std::optional<pid_t> ProcessLock::holder(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;  // no file: nobody ever took it here
  flock l = whole_file_write_lock();
  const int rc = fcntl(fd, F_GETLK, &l);
  close(fd);
  // A lock without a pid of this namespace (an OFD lock: -1; another pid namespace: 0) names
  // nobody hostd could signal: kill(-1) would reach every process.
  if (rc != 0 || l.l_type == F_UNLCK || l.l_pid <= 0) return std::nullopt;
  return l.l_pid;
}

int open_process_handle(pid_t pid) {
  if (pid <= 0) return -1;
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

bool process_ended(int handle) { return wait_process_end(handle, 0); }

bool wait_process_end(int handle, int timeout_ms) {
  if (handle < 0) return true;
  pollfd p{handle, POLLIN, 0};
  int rc;
  while ((rc = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
  }
  return rc > 0;
}

}  // namespace vitrine
