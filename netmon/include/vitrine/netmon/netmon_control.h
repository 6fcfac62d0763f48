// netmon's control socket, which hostd (root, the only client it accepts) uses instead of
// signals, pid files and scraping: the framing and peer checks of hostd's own socket
// (vitrine/common/control_socket.h), served on a thread of its own so that no client can hold
// the relay. Commands:
//   {"command":"ready"}   -> {"ok":true,"ready":true,"pid":N,"policy":{"name","source","sha256"}}
//   {"command":"status"}  -> the same, with "counters" (packets, bytes and flows by verdict)
//   {"command":"reload","policy_text":"...","source":"/etc/vitrine/ward3.yaml"}
//                         -> {"ok":true,"policy":NAME,"policy_sha256":HEX,"flows_rejudged":N,"flows_cut":N}
//                         or {"ok":false,"error":"file:line:column: what","line":L,"column":C}
// A reload's answer waits for the policy to load, on the same thread, while `ready` and `status`
// go on being answered: a hostd that restarts during a slow reload finds netmon ready, not
// silent (it would stop a netmon that does not answer).
// The thread starts serving only once netmon is ready (rings open, the policy loaded, signals
// handled): a `ready` sent before then waits in the socket's backlog and is answered then.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "vitrine/common/control_socket.h"
#include "vitrine/netmon/policy_reload.h"

namespace prometheus {
class Registry;
}

namespace vitrine::netmon {

// A policy is a few KiB, a site's largest a few hundred; its text travels JSON-escaped inside
// the request. Beyond this it is not a policy a person wrote.
inline constexpr size_t kMaxPolicyBytes = 4 << 20;
// netmon loads a policy in milliseconds, a huge one on a loaded host within seconds.
inline constexpr std::chrono::seconds kReloadAnswerTimeout{15};
// Reloads waiting for their answer at once. hostd sends one at a time; more are refused, each
// holding a policy's text.
inline constexpr size_t kMaxPendingReloads = 4;

class NetmonControl {
 public:
  // Binds the socket now (before privileges are dropped: its directory is root's); serves
  // nothing until start().
  NetmonControl(const std::string& path, PolicyReloader& reloader, std::shared_ptr<prometheus::Registry> registry);
  ~NetmonControl();
  NetmonControl(const NetmonControl&) = delete;
  NetmonControl& operator=(const NetmonControl&) = delete;

  void start();
  // What the thread calls, per request: answered now, or (a reload) once the policy loaded.
  void handle(const nlohmann::json& request, ControlReply reply);
  // The thread's loop, until the destructor: requests, and the answers of pending reloads.
  void serve();

 private:
  struct PendingReload {
    std::future<ReloadOutcome> outcome;
    std::chrono::steady_clock::time_point deadline;
    ControlReply reply;
  };
  nlohmann::json policy_json() const;
  void answer(const nlohmann::json& request, ControlReply& reply);
  void reload(const nlohmann::json& request, ControlReply reply);
  void answer_reloads();

  PolicyReloader& reloader_;
  std::shared_ptr<prometheus::Registry> registry_;
  ControlServer server_;
  std::vector<PendingReload> pending_;  // the thread's own
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace vitrine::netmon
