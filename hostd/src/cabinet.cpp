#include "vitrine/hostd/cabinet.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <optional>

namespace vitrine::hostd {

namespace {

constexpr const char* kApiVersion = "vitrine/v1";
// Linux interface names are at most 15 characters.
constexpr size_t kMaxInterfaceName = 15;
constexpr size_t kMaxCabinetName = 32;
// XP Embedded (32-bit, no PAE by default) addresses at most 4 GiB; 64 MiB is below what it boots in.
constexpr uint64_t kMinMemoryMib = 64, kMaxMemoryMib = 4096;
constexpr uint64_t kMaxVcpus = 4;

bool plain_name(const std::string& s, size_t max, bool allow_upper) {
  return !s.empty() && s.size() <= max &&
         std::all_of(s.begin(), s.end(), [&](unsigned char c) {
           return std::islower(c) || std::isdigit(c) || c == '-' || c == '_' || c == '.' ||
                  (allow_upper && std::isupper(c));
         });
}

std::string absolute_path(const YamlReader& r, const YAML::Node& n, const std::string& path) {
  const auto text = r.scalar(n, path);
  if (text.empty() || text[0] != '/') r.fail(n, path, "expected an absolute path, got '" + text + "'");
  return text;
}

// Where a /metrics endpoint listens: an IPv4 address and a port, as both exposers take it.
std::string listen_address(const YamlReader& r, const YAML::Node& n, const std::string& path) {
  const auto text = r.scalar(n, path);
  const auto colon = text.rfind(':');
  in_addr addr{};
  const std::string port = colon == std::string::npos ? "" : text.substr(colon + 1);
  const bool port_ok = !port.empty() && port.size() <= 5 &&
                       std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); }) &&
                       std::stoul(port) >= 1 && std::stoul(port) <= 65535;
  if (colon == std::string::npos || inet_pton(AF_INET, text.substr(0, colon).c_str(), &addr) != 1 || !port_ok)
    r.fail(n, path, "expected IPV4:PORT (as 127.0.0.1:9470), got '" + text + "'");
  return text;
}

void parse_hardware(const YamlReader& r, const YAML::Node& n, const std::string& path,
                    HardwareProfile& h) {
  auto pick = [&r](std::string& field, std::vector<std::pair<const char*, std::string>> options) {
    return [&r, &field, options](const YAML::Node& v, const std::string& p) {
      field = r.choice<std::string>(v, p, options);
    };
  };
  r.map(n, path,
        {{"arch", pick(h.arch, {{"i686", "i686"}, {"x86_64", "x86_64"}})},
         {"machine", [&](const YAML::Node& v, const std::string& p) {
            h.machine = r.scalar(v, p);
            if (h.machine != "pc" && h.machine.rfind("pc-i440fx-", 0) != 0)
              r.fail(v, p, "expected pc or pc-i440fx-<version> (XP does not boot on q35), got '" +
                               h.machine + "'");
          }},
         {"cpu", [&](const YAML::Node& v, const std::string& p) {
            h.cpu = r.scalar(v, p);
            if (!plain_name(h.cpu, 64, true)) r.fail(v, p, "expected a CPU model name, got '" + h.cpu + "'");
          }},
         {"vcpus", [&](const YAML::Node& v, const std::string& p) {
            h.vcpus = static_cast<unsigned>(r.number(v, p, 1, kMaxVcpus));
          }},
         {"diskBus", pick(h.disk_bus, {{"ide", "ide"}, {"sata", "sata"}, {"virtio", "virtio"}})},
         {"diskCache", pick(h.disk_cache, {{"none", "none"}, {"writethrough", "writethrough"},
                                           {"directsync", "directsync"}})},
         {"nic", pick(h.nic, {{"rtl8139", "rtl8139"}, {"e1000", "e1000"}, {"ne2k_pci", "ne2k_pci"},
                              {"virtio", "virtio"}})},
         {"video", pick(h.video, {{"cirrus", "cirrus"}, {"vga", "vga"}, {"none", "none"}})},
         {"clock", pick(h.clock, {{"localtime", "localtime"}, {"utc", "utc"}})},
         {"acpi", [&](const YAML::Node& v, const std::string& p) { h.acpi = r.boolean(v, p); }}});
}

bool baud_supported(unsigned baud) {
  for (unsigned b : {1200u, 2400u, 4800u, 9600u, 19200u, 38400u, 57600u, 115200u})
    if (b == baud) return true;
  return false;
}

// A scanner's line is tens of bytes, a label printer's command a few hundred.
constexpr uint64_t kMaxSerialLineBytes = 4096;
// 115200 baud is 11,520 bytes a second: a limit above a serial line's speed limits nothing.
constexpr uint64_t kMaxSerialBytesPerSecond = 11520;

SerialPort parse_serial(const YamlReader& r, const YAML::Node& n, const std::string& path) {
  SerialPort s;
  bool has_com = false, has_kind = false;
  r.map(n, path,
        {{"com", [&](const YAML::Node& v, const std::string& p) {
            s.com = static_cast<unsigned>(r.number(v, p, 1, 4));
            has_com = true;
          }},
         {"type", [&](const YAML::Node& v, const std::string& p) {
            s.kind = r.choice<SerialPort::Kind>(v, p, {{"file", SerialPort::Kind::File},
                                                       {"pty", SerialPort::Kind::Pty},
                                                       {"unix", SerialPort::Kind::Unix},
                                                       {"mediated", SerialPort::Kind::Mediated}});
            has_kind = true;
          }},
         {"path", [&](const YAML::Node& v, const std::string& p) { s.path = absolute_path(r, v, p); }},
         {"device", [&](const YAML::Node& v, const std::string& p) { s.device = absolute_path(r, v, p); }},
         {"baud", [&](const YAML::Node& v, const std::string& p) {
            s.baud = static_cast<unsigned>(r.number(v, p, 0, 115200));
            if (!baud_supported(s.baud))
              r.fail(v, p, "expected one of 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200");
          }},
         {"filter", [&](const YAML::Node& v, const std::string& p) {
            r.map(v, p, {{"maxLineBytes", [&](const YAML::Node& b, const std::string& bp) {
                            s.max_line_bytes = r.number(b, bp, 1, kMaxSerialLineBytes);
                          }},
                         {"printable", [&](const YAML::Node& b, const std::string& bp) { s.printable_only = r.boolean(b, bp); }}});
            if (s.max_line_bytes == 0) r.fail(v, p, "a filter needs 'maxLineBytes' (its lines end at CR or LF)");
          }},
         {"rateLimit", [&](const YAML::Node& v, const std::string& p) {
            r.map(v, p, {{"bytesPerSecond", [&](const YAML::Node& b, const std::string& bp) {
                            s.bytes_per_second = r.number(b, bp, 1, kMaxSerialBytesPerSecond);
                          }},
                         {"burstBytes", [&](const YAML::Node& b, const std::string& bp) {
                            s.burst_bytes = r.number(b, bp, 1, kMaxSerialBytesPerSecond);
                          }}});
            if (s.bytes_per_second == 0) r.fail(v, p, "a rateLimit needs 'bytesPerSecond'");
          }}});
  if (!has_com) r.fail(n, path, "missing 'com' (1 to 4)");
  if (!has_kind) r.fail(n, path, "missing 'type' (file, pty, unix or mediated)");
  const bool mediated = s.kind == SerialPort::Kind::Mediated;
  if ((s.kind == SerialPort::Kind::File || s.kind == SerialPort::Kind::Unix) && s.path.empty())
    r.fail(n, path, "a file or unix serial port needs a 'path'");
  if (s.kind == SerialPort::Kind::Pty && !s.path.empty())
    r.fail(n, path, "a pty serial port takes no 'path'");
  if (mediated && s.device.empty())
    r.fail(n, path, "a mediated serial port needs the host's 'device' (a stable path: /dev/serial/by-id/...)");
  if (!mediated && (!s.device.empty() || s.max_line_bytes || s.bytes_per_second || n["baud"]))
    r.fail(n, path, "'device', 'baud', 'filter' and 'rateLimit' are for a mediated serial port");
  return s;
}

DirectBoot parse_direct_boot(const YamlReader& r, const YAML::Node& v, const std::string& p) {
  DirectBoot b;
  r.map(v, p,
        {{"kernel", [&](const YAML::Node& x, const std::string& xp) { b.kernel = absolute_path(r, x, xp); }},
         {"initrd", [&](const YAML::Node& x, const std::string& xp) { b.initrd = absolute_path(r, x, xp); }},
         {"cmdline", [&](const YAML::Node& x, const std::string& xp) { b.cmdline = r.scalar(x, xp); }}});
  if (b.kernel.empty()) r.fail(v, p, "missing 'kernel'");
  return b;
}

// The guest's NIC: its MAC, the uplink netmon relays it to, the tap, the policy.
void parse_network(const YamlReader& r, const YAML::Node& v, const std::string& p, Cabinet& c) {
  bool has_mac = false, has_uplink = false, has_policy = false;
  r.map(v, p,
        {{"mac", [&](const YAML::Node& x, const std::string& xp) {
            auto mac = MacAddr::parse(r.scalar(x, xp));
            if (!mac || mac->is_multicast())
              r.fail(x, xp, "expected a unicast MAC like 52:54:00:12:34:56, got '" + r.scalar(x, xp) + "'");
            c.mac = *mac;
            has_mac = true;
          }},
         {"uplink", [&](const YAML::Node& x, const std::string& xp) {
            c.uplink = r.scalar(x, xp);
            if (!plain_name(c.uplink, kMaxInterfaceName, true))
              r.fail(x, xp, "expected an interface name (at most 15 characters), got '" + c.uplink + "'");
            has_uplink = true;
          }},
         {"tap", [&](const YAML::Node& x, const std::string& xp) {
            c.tap = r.scalar(x, xp);
            if (!plain_name(c.tap, kMaxInterfaceName, true))
              r.fail(x, xp, "expected an interface name (at most 15 characters), got '" + c.tap + "'");
          }},
         {"policy", [&](const YAML::Node& x, const std::string& xp) {
            c.policy = absolute_path(r, x, xp);
            has_policy = true;
          }}});
  if (!has_mac) r.fail(v, p, "missing 'mac'");
  if (!has_uplink) r.fail(v, p, "missing 'uplink'");
  if (!has_policy) r.fail(v, p, "missing 'policy'");
}

Cabinet parse_cabinet(const YamlReader& r, const YAML::Node& root) {
  Cabinet c;
  bool has_api = false, has_name = false, has_store = false, has_network = false;
  std::optional<YAML::Node> metrics_node, netmon_metrics_node;  // where a clash of the two is reported
  r.map(root, "",
        {{"apiVersion", [&](const YAML::Node& v, const std::string& p) {
            if (r.scalar(v, p) != kApiVersion)
              r.fail(v, p, std::string("expected ") + kApiVersion + ", got '" + r.scalar(v, p) + "'");
            has_api = true;
          }},
         {"name", [&](const YAML::Node& v, const std::string& p) {
            c.name = r.scalar(v, p);
            if (!plain_name(c.name, kMaxCabinetName, false) || c.name.find_first_of("._") != std::string::npos)
              r.fail(v, p, "use 1 to 32 of a-z 0-9 -, got '" + c.name + "'");
            has_name = true;
          }},
         {"imageStore", [&](const YAML::Node& v, const std::string& p) {
            c.image_store = absolute_path(r, v, p);
            has_store = true;
          }},
         {"memoryMiB", [&](const YAML::Node& v, const std::string& p) {
            c.memory_mib = static_cast<unsigned>(r.number(v, p, kMinMemoryMib, kMaxMemoryMib));
          }},
         {"hardware", [&](const YAML::Node& v, const std::string& p) { parse_hardware(r, v, p, c.hardware); }},
         {"directBoot", [&](const YAML::Node& v, const std::string& p) { c.direct_boot = parse_direct_boot(r, v, p); }},
         {"network", [&](const YAML::Node& v, const std::string& p) {
            parse_network(r, v, p, c);
            has_network = true;
          }},
         {"serial", [&](const YAML::Node& v, const std::string& p) {
            r.list(v, p, [&](const YAML::Node& item, const std::string& ip) {
              const SerialPort s = parse_serial(r, item, ip);
              for (const auto& other : c.serial)
                if (other.com == s.com) r.fail(item, ip, "COM" + std::to_string(s.com) + " is described twice");
              c.serial.push_back(s);
            });
          }},
         {"metrics", [&](const YAML::Node& v, const std::string& p) {
            c.metrics = listen_address(r, v, p);
            metrics_node.emplace(v);
          }},
         {"netmonMetrics", [&](const YAML::Node& v, const std::string& p) {
            c.netmon_metrics = listen_address(r, v, p);
            netmon_metrics_node.emplace(v);
          }}});
  if (!has_api) r.fail(root, "", std::string("missing 'apiVersion: ") + kApiVersion + "'");
  if (!has_name) r.fail(root, "", "missing 'name'");
  if (!has_store) r.fail(root, "", "missing 'imageStore'");
  if (!has_network) r.fail(root, "", "missing 'network' (the guest's NIC: mac, uplink, policy)");
  if (c.tap.empty()) c.tap = "vt-" + c.name.substr(0, kMaxInterfaceName - 3);
  for (auto& s : c.serial)
    if (s.kind == SerialPort::Kind::Mediated && s.path.empty())
      s.path = "/run/vitrine/" + c.name + "-com" + std::to_string(s.com) + ".sock";
  if (c.tap == c.uplink) r.fail(root, "network", "the tap and the uplink must be different interfaces");
  if (c.metrics == c.netmon_metrics)
    r.fail(netmon_metrics_node ? *netmon_metrics_node : metrics_node ? *metrics_node : root,
           netmon_metrics_node ? "netmonMetrics" : "metrics",
           "hostd's and netmon's metrics cannot share " + c.metrics);
  return c;
}

}  // namespace

Cabinet load_cabinet_text(const std::string& yaml_text, const std::string& source) {
  const YAML::Node root = YamlReader::parse(yaml_text, source, "cabinet description");
  return YamlReader::guarded(source, [&] { return parse_cabinet(YamlReader(source), root); });
}

Cabinet load_cabinet_file(const std::string& path) {
  return load_cabinet_text(YamlReader::read_file(path, "cabinet description"), path);
}

}  // namespace vitrine::hostd
