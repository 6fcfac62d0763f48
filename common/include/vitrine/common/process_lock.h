// A lock that a process holds for as long as it lives, and that tells others who holds it: a
// POSIX record lock on a file (the kernel drops it when the holder dies, however it dies, and
// F_GETLK names the holder's pid). netmon takes one per cabinet before it opens the rings, so
// that two relays never share a tap; hostd asks who holds it before it starts another.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace vitrine {

class ProcessLock {
 public:
  // Takes the lock on `path` (created 0600 if missing). Throws std::runtime_error naming the
  // holder when another process has it, or the error when the file cannot be opened.
  explicit ProcessLock(const std::string& path);
  ~ProcessLock();
  ProcessLock(const ProcessLock&) = delete;
  ProcessLock& operator=(const ProcessLock&) = delete;

  // The pid holding the lock on `path`, if any process of this pid namespace does (never the
  // caller itself).
  static std::optional<pid_t> holder(const std::string& path);

 private:
  int fd_ = -1;
};

// A handle on a process that stays true to it (a pidfd): a pid that is reused after the
// process is gone never passes for it. -1 when the process does not exist.
int open_process_handle(pid_t pid);
// Whether the process behind `handle` has ended (the handle is readable then).
bool process_ended(int handle);
// Waits up to `timeout_ms` for it to end; true if it did.
bool wait_process_end(int handle, int timeout_ms);

}  // namespace vitrine
