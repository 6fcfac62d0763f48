// libFuzzer target: a USB device's raw descriptors (what the device itself says of itself,
// read from sysfs) through USBGuard's descriptor parser and the policy's rules. Nothing may
// crash or read outside the input; a device that is not described is blocked.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "vitrine/passthrough/usb_rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vitrine::passthrough;
  static const UsbRuleSet rules = UsbRuleSet::compile({
      {R"(allow id 05e0:1200 serial "S19042" with-interface 03:01:01)", "fuzz", 1, 1},
      {"allow with-interface one-of { 03:*:* 08:*:* }", "fuzz", 2, 1},
      {"block with-interface 08:*:*", "fuzz", 3, 1},
  });
  UsbDeviceAttributes a;
  a.syspath = "/sys/devices/usb1/1-1";
  a.port = "1-1";
  a.vendor_id = "05e0";
  a.product_id = "1200";
  a.serial = "S19042";
  a.name = "Symbol Bar Code Scanner";
  a.descriptors.assign(data, data + size);
  const auto description = describe(a);
  const auto decision = rules.decide(description);
  if (!description.ok && decision.target != UsbTarget::Block) abort();
  if (description.mass_storage && decision.target == UsbTarget::Allow && decision.rule_index != 0) abort();
  return 0;
}
