#include "vitrine/hostd/libvirt_event_loop.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <spdlog/spdlog.h>

#include <memory>
#include <stdexcept>

namespace vitrine::hostd {

namespace {

constexpr int bit(int flag) { return flag; }
static_assert(bit(kReadable) == bit(VIR_EVENT_HANDLE_READABLE) && bit(kWritable) == bit(VIR_EVENT_HANDLE_WRITABLE) &&
                  bit(kError) == bit(VIR_EVENT_HANDLE_ERROR) && bit(kHangup) == bit(VIR_EVENT_HANDLE_HANGUP),
              "EventFlags are libvirt's VIR_EVENT_HANDLE_* bits");

// libvirt prints every error to stderr by default; hostd reports the ones that matter itself
// (a guest that is not there is a state it expects, not an error).
void quiet_libvirt_errors(void*, virErrorPtr) {}

// Each callback lives on the heap until libvirt frees it, after the watch or timer is removed
// (and never while it runs).
template <typename Callback>
void free_callback(void* opaque) {
  delete static_cast<Callback*>(opaque);
}

// An exception must not cross libvirt's C frames: it is logged, and the loop goes on.
template <typename Call>
void guarded(const Call& call) {
  try {
    call();
  } catch (const std::exception& e) {
    spdlog::error("hostd's event loop: a callback failed: {}", e.what());
  }
}

void on_fd(int, int, int events, void* opaque) {
  guarded([&] { (*static_cast<EventLoop::FdCallback*>(opaque))(events); });
}
void on_timer(int, void* opaque) {
  guarded([&] { (*static_cast<EventLoop::TimerCallback*>(opaque))(); });
}

}  // namespace

std::string libvirt_error() {
  const virErrorPtr e = virGetLastError();
  return e && e->message ? e->message : "unknown libvirt error";
}

LibvirtEventLoop::LibvirtEventLoop() {
  virSetErrorFunc(nullptr, quiet_libvirt_errors);
  if (virEventRegisterDefaultImpl() < 0) throw std::runtime_error("libvirt: no event loop: " + libvirt_error());
}

int LibvirtEventLoop::watch(int fd, int flags, FdCallback callback) {
  auto held = std::make_unique<FdCallback>(std::move(callback));
  const int id = virEventAddHandle(fd, flags, on_fd, held.get(), free_callback<FdCallback>);
  if (id >= 0) held.release();  // libvirt frees it now
  return id;
}

void LibvirtEventLoop::rewatch(int id, int flags) { virEventUpdateHandle(id, flags); }

void LibvirtEventLoop::unwatch(int id) { virEventRemoveHandle(id); }

int LibvirtEventLoop::every(std::chrono::milliseconds period, TimerCallback callback) {
  auto held = std::make_unique<TimerCallback>(std::move(callback));
  const int id = virEventAddTimeout(static_cast<int>(period.count()), on_timer, held.get(), free_callback<TimerCallback>);
  if (id >= 0) held.release();
  return id;
}

void LibvirtEventLoop::cancel(int timer_id) { virEventRemoveTimeout(timer_id); }

void LibvirtEventLoop::run_once() { virEventRunDefaultImpl(); }

}  // namespace vitrine::hostd
