// The loop hostd runs on: descriptors watched for reading and writing, and timers. hostd runs
// libvirt's default event loop (libvirt_event_loop.h), which must run anyway for libvirt's
// domain events; everything else hostd waits for (its control socket, the udev monitor, the
// mediated serial ports, supervision's tick, a graceful stop's deadline) is put on the same
// loop through this interface, so that one thread does it all and nothing waits for another.
// Callbacks run on the loop's thread and must not block.
#pragma once

#include <chrono>
#include <functional>

namespace vitrine::hostd {

// What a watched descriptor is waited for, and what happened to it.
enum EventFlags : int {
  kReadable = 1,
  kWritable = 2,
  kError = 4,
  kHangup = 8,
};

class EventLoop {
 public:
  using FdCallback = std::function<void(int flags)>;
  using TimerCallback = std::function<void()>;

  virtual ~EventLoop() = default;
  // Watches `fd` for `flags`; the id, or -1 if it cannot (the caller says what is not watched).
  virtual int watch(int fd, int flags, FdCallback callback) = 0;
  virtual void rewatch(int id, int flags) = 0;
  virtual void unwatch(int id) = 0;
  // Calls `callback` every `period` until cancelled; the id, or -1 if it cannot.
  virtual int every(std::chrono::milliseconds period, TimerCallback callback) = 0;
  virtual void cancel(int timer_id) = 0;
  // Waits for the next event (or timer) and runs its callbacks.
  virtual void run_once() = 0;
};

}  // namespace vitrine::hostd
