// libFuzzer target: what a USB device says of itself (its raw descriptors, and the ids, name
// and serial sysfs shows from them) through USBGuard's descriptor parser and the policy's
// rules. Nothing may crash or read outside the input; a device that is not described is
// blocked. Input: [mode:1]; mode 0: the recorded scanner's ids, name and serial, then the
// descriptors; otherwise [vendor:4][product:4][name length:1][name][serial length:1][serial],
// then the descriptors.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <string>

#include "vitrine/passthrough/usb_rules.h"

namespace {

// The next `n` bytes of the input as a string (fewer if it ends first).
std::string take(const uint8_t* data, size_t size, size_t& at, size_t n) {
  n = std::min(n, size - at);
  std::string s(reinterpret_cast<const char*>(data + at), n);
  at += n;
  return s;
}

}  // namespace

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
  size_t at = size > 0 ? 1 : 0;
  if (size > 0 && data[0] != 0) {
    a.vendor_id = take(data, size, at, 4);
    a.product_id = take(data, size, at, 4);
    const size_t name_length = at < size ? data[at++] : 0;
    a.name = take(data, size, at, name_length);
    const size_t serial_length = at < size ? data[at++] : 0;
    a.serial = take(data, size, at, serial_length);
  }
  a.descriptors.assign(data + at, data + size);
  const auto description = describe(a);
  const auto decision = rules.decide(description);
  if (!description.ok && decision.target != UsbTarget::Block) abort();
  if (description.mass_storage && decision.target == UsbTarget::Allow && decision.rule_index != 0) abort();
  for (unsigned char c : description.summary)  // it reaches events and logs: escaped
    if (c < 0x20 || c > 0x7e) abort();
  return 0;
}
