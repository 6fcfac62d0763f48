// A cabinet as its operator describes it in cabinet.yaml: the guest, its disk, the XP
// hardware profile (each field may be overridden), its NIC behind netmon, its serial ports.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vitrine/common/net_types.h"
#include "vitrine/common/yaml_reader.h"

namespace vitrine::hostd {

// The hardware that Windows XP Embedded drives with the drivers it shipped with (DESIGN.md).
struct HardwareProfile {
  std::string arch = "i686";          // XP Embedded is 32-bit
  std::string machine = "pc";         // i440fx: q35 has only AHCI, which XP cannot boot from
  std::string cpu = "pentium3";       // a 32-bit-era model, without NX
  unsigned vcpus = 1;
  std::string disk_bus = "ide";
  std::string disk_cache = "none";    // O_DIRECT: what the guest flushed is on the disk
  std::string nic = "rtl8139";
  std::string video = "cirrus";
  std::string clock = "localtime";    // XP keeps local time in the RTC
  bool acpi = true;
};

struct SerialPort {
  enum class Kind { File, Pty, Unix, Mediated };
  unsigned com = 1;  // COM1..COM4
  Kind kind = Kind::Pty;
  // File: the log; Unix: the socket QEMU listens on; Mediated: the same socket, which hostd
  // connects to (default /run/vitrine/<cabinet>-com<N>.sock).
  std::string path;
  // Mediated: hostd relays between a host serial device and the guest's COM port, counting
  // bytes, filtering lines and limiting the rate (passthrough/serial_filter.h).
  std::string device;  // the host's device by a stable path (/dev/serial/by-id/...)
  unsigned baud = 9600;
  size_t max_line_bytes = 0;  // filter.maxLineBytes; 0: no line filter
  bool printable_only = false;  // filter.printable
  uint64_t bytes_per_second = 0;  // rateLimit.bytesPerSecond; 0: none
  uint64_t burst_bytes = 0;       // rateLimit.burstBytes (default: a second's worth)
};

// Boots a kernel directly instead of the disk's boot loader: only the stand-in test guest.
struct DirectBoot {
  std::string kernel;
  std::string initrd;
  std::string cmdline;
};

struct Cabinet {
  std::string name;         // [a-z0-9-], 1 to 32: also the libvirt domain's name
  std::string image_store;  // the folder `vitrine image import` filled
  unsigned memory_mib = 512;
  HardwareProfile hardware;
  std::optional<DirectBoot> direct_boot;
  // The guest's NIC: a tap that hostd creates and netmon guards.
  MacAddr mac;
  std::string tap;     // default "vt-" + the first 12 characters of the name
  std::string uplink;  // the interface towards the hospital network
  std::string policy;  // netmon's policy file
  std::vector<SerialPort> serial;
  std::string metrics = "127.0.0.1:9470";         // hostd's /metrics
  std::string netmon_metrics = "127.0.0.1:9471";  // the cabinet's netmon's /metrics
};

using CabinetError = ConfigError;

Cabinet load_cabinet_text(const std::string& yaml_text, const std::string& source);
Cabinet load_cabinet_file(const std::string& path);

}  // namespace vitrine::hostd
