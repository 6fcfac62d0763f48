// A reload sent to netmon, whose answer a thread of its own waits for, so that hostd's loop
// goes on meanwhile (supervisor_commands.cpp). Private to the supervisor's sources.
#pragma once

#include <sys/types.h>

#include <future>

#include <nlohmann/json.hpp>

#include "vitrine/common/control_socket.h"
#include "vitrine/hostd/cabinet_policy.h"
#include "vitrine/hostd/supervisor.h"
#include "vitrine/passthrough/usb_passthrough.h"

namespace vitrine::hostd {

struct Supervisor::PendingReload {
  PolicyBytes policy;
  passthrough::UsbRuleSet rules;
  std::future<nlohmann::json> answer;
  ControlReply reply;
  int timer = -1;  // the loop's poll for the answer
  pid_t netmon_pid = -1;  // the netmon it was sent to
};

}  // namespace vitrine::hostd
