// The cabinet's guest as the hypervisor has it: the one seam between hostd's supervision
// (guest_domain.h) and libvirt. LibvirtGuestDriver (libvirt_guest.h) is the real one; unit tests
// drive a fake through crashes, restarts, adoption and stops without a hypervisor.
#pragma once

#include <functional>
#include <string>

#include "vitrine/hostd/hostd_metrics.h"

namespace vitrine::hostd {

// What the hypervisor says happened to the guest, as it happens.
enum class GuestLifecycle {
  Started,   // a QEMU started (by hostd or anyone)
  Stopped,   // it ended; `detail` says how (shutdown, destroyed, crashed, failed, saved, other)
  Crashed,   // the guest reported a crash (QEMU may carry on)
  Rebooted,  // the guest reset itself: QEMU and the domain carry on
};

class GuestDriver {
 public:
  using Listener = std::function<void(GuestLifecycle event, const std::string& detail)>;

  virtual ~GuestDriver() = default;
  // Lifecycle events of this guest only, delivered on the event loop's thread.
  virtual void listen(Listener listener) = 0;
  // Whether the guest runs now.
  virtual bool active() = 0;
  // Starts it from its definition. Throws std::runtime_error with the hypervisor's reason.
  virtual void start() = 0;
  // Asks the guest to shut down (ACPI); false if the request could not even be made.
  virtual bool request_shutdown() = 0;
  // Ends it at once (pulls the plug).
  virtual void destroy() = 0;
  // The hypervisor's side of the statistics: libvirt_up, running, state, CPU, memory, disks,
  // NICs, uptime. The supervision fields are left as they are.
  virtual void fill_stats(GuestStats& stats) = 0;
};

// The name of a virDomainState, for `vitrine status`.
const char* guest_state_name(int state);

}  // namespace vitrine::hostd
