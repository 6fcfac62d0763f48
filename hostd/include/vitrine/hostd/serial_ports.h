// The cabinet's mediated serial ports: for each, a SerialRelay between the host's device and the
// guest's COM socket, its descriptors watched on hostd's loop (for reading always, for writing
// while bytes wait for that side), its events recorded.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vitrine/hostd/cabinet.h"
#include "vitrine/hostd/event_loop.h"

namespace prometheus {
class Registry;
}
namespace vitrine::passthrough {
class SerialMetrics;
}

namespace vitrine::hostd {

class SerialPorts {
 public:
  using Record = std::function<void(const std::string& event, nlohmann::json fields)>;

  SerialPorts(const Cabinet& cabinet, EventLoop& loop, prometheus::Registry& registry, Record record);
  ~SerialPorts();
  SerialPorts(const SerialPorts&) = delete;
  SerialPorts& operator=(const SerialPorts&) = delete;

  // Each tick: opens what is not open (the device plugged in, the guest's socket there).
  void connect(bool guest_running);
  size_t size() const { return ports_.size(); }

 private:
  struct Port;
  void on_event(Port& port, bool device_side, int flags);
  void sync_watches(Port& port);

  EventLoop& loop_;
  Record record_;
  std::unique_ptr<passthrough::SerialMetrics> metrics_;
  std::vector<std::unique_ptr<Port>> ports_;
};

}  // namespace vitrine::hostd
