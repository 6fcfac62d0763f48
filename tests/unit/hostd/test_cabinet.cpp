#include <gtest/gtest.h>

#include "vitrine/hostd/cabinet.h"
#include "vitrine/hostd/domain_xml.h"

using namespace vitrine;
using namespace vitrine::hostd;

namespace {

constexpr const char* kMinimal = R"(apiVersion: vitrine/v1
name: ward3
imageStore: /var/lib/vitrine/ward3
network:
  mac: "52:54:00:77:00:02"
  uplink: enp2s0
  policy: /etc/vitrine/ward3.yaml
)";

std::string error_of(const std::string& text) {
  try {
    load_cabinet_text(text, "c.yaml");
  } catch (const CabinetError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(Cabinet, DefaultsAreTheXpProfile) {
  const Cabinet c = load_cabinet_text(kMinimal, "c.yaml");
  EXPECT_EQ(c.name, "ward3");
  EXPECT_EQ(c.hardware.arch, "i686");
  EXPECT_EQ(c.hardware.machine, "pc");
  EXPECT_EQ(c.hardware.disk_bus, "ide");
  EXPECT_EQ(c.hardware.nic, "rtl8139");
  EXPECT_EQ(c.hardware.clock, "localtime");
  EXPECT_EQ(c.hardware.vcpus, 1u);
  EXPECT_TRUE(c.hardware.acpi);
  EXPECT_EQ(c.tap, "vt-ward3");
  EXPECT_EQ(c.mac.str(), "52:54:00:77:00:02");
  EXPECT_FALSE(c.direct_boot);
}

TEST(Cabinet, FieldsOverrideTheProfile) {
  const Cabinet c = load_cabinet_text(std::string(kMinimal) + R"(hardware:
  arch: x86_64
  cpu: qemu64
  clock: utc
directBoot:
  kernel: /boot/vmlinuz
  cmdline: console=ttyS0
serial:
  - {com: 2, type: unix, path: /run/vitrine/com2.sock}
  - {com: 1, type: pty}
memoryMiB: 256
)",
                                           "c.yaml");
  EXPECT_EQ(c.hardware.arch, "x86_64");
  EXPECT_EQ(c.hardware.cpu, "qemu64");
  EXPECT_EQ(c.hardware.clock, "utc");
  EXPECT_EQ(c.hardware.disk_bus, "ide");  // not overridden
  ASSERT_TRUE(c.direct_boot);
  EXPECT_EQ(c.direct_boot->kernel, "/boot/vmlinuz");
  ASSERT_EQ(c.serial.size(), 2u);
  EXPECT_EQ(c.serial[0].com, 2u);
  EXPECT_EQ(c.serial[0].kind, SerialPort::Kind::Unix);
  EXPECT_EQ(c.memory_mib, 256u);
}

TEST(Cabinet, MistakesAreRefusedWithTheirPosition) {
  const std::string m = kMinimal;  // 7 lines
  EXPECT_EQ(error_of(m + "hardware:\n  machine: q35\n"),
            "c.yaml:9:12: hardware.machine: expected pc or pc-i440fx-<version> (XP does not boot on q35), got 'q35'");
  EXPECT_EQ(error_of(m + "hardware:\n  nics: e1000\n"),
            "c.yaml:9:3: hardware: unknown key 'nics' (expected one of: acpi, arch, clock, cpu, diskBus, diskCache, machine, nic, vcpus, video)");
  EXPECT_EQ(error_of(m + "memoryMiB: 16384\n"),
            "c.yaml:8:12: memoryMiB: expected a whole number from 64 to 4096, got '16384'");
  EXPECT_EQ(error_of(m + "serial:\n  - {com: 1, type: pty}\n  - {com: 1, type: file, path: /tmp/x}\n"),
            "c.yaml:10:5: serial[1]: COM1 is described twice");
  EXPECT_EQ(error_of(m + "serial:\n  - {com: 2, type: file, path: relative.log}\n"),
            "c.yaml:9:32: serial[0].path: expected an absolute path, got 'relative.log'");
  EXPECT_NE(error_of(m + "serial:\n  - {com: 2, type: pty, path: /tmp/x}\n").find("takes no 'path'"),
            std::string::npos);
  EXPECT_NE(error_of("apiVersion: vitrine/v1\nname: Ward_3\n").find("use 1 to 32 of a-z 0-9 -"),
            std::string::npos);
  EXPECT_NE(error_of("apiVersion: vitrine/v1\nname: w\nimageStore: /x\n").find("missing 'network'"),
            std::string::npos);
  const std::string head = "apiVersion: vitrine/v1\nname: ward3\nimageStore: /var/lib/vitrine/ward3\n";
  EXPECT_NE(error_of(head + "network: {mac: \"52:54:00:77:00:02\", uplink: eth0, policy: /p, tap: eth0}\n")
                .find("tap and the uplink must be different"),
            std::string::npos);
  // A key given twice says two things: refused, not the last one taken.
  EXPECT_NE(error_of(m + "network: {mac: \"52:54:00:77:00:03\", uplink: eth1, policy: /p}\n").find("'network' is given twice"),
            std::string::npos);
  EXPECT_NE(error_of("").find("c.yaml: the cabinet description is empty"), std::string::npos);
  EXPECT_EQ(error_of(m + "metrics: localhost:9470\n"),
            "c.yaml:8:10: metrics: expected IPV4:PORT (as 127.0.0.1:9470), got 'localhost:9470'");
  EXPECT_EQ(error_of(m + "netmonMetrics: 127.0.0.1:70000\n"),
            "c.yaml:8:16: netmonMetrics: expected IPV4:PORT (as 127.0.0.1:9470), got '127.0.0.1:70000'");
  EXPECT_EQ(error_of(m + "metrics: 127.0.0.1:9471\n"),
            "c.yaml:8:10: metrics: hostd's and netmon's metrics cannot share 127.0.0.1:9471");
}

TEST(DomainXml, CarriesTheXpProfile) {
  Cabinet c = load_cabinet_text(std::string(kMinimal) +
                                    "serial:\n  - {com: 2, type: unix, path: /run/vitrine/com2.sock}\n",
                                "c.yaml");
  const std::string xml = domain_xml(c, "/var/lib/vitrine/ward3/overlay.qcow2");
  for (const char* expected :
       {"<type arch=\"i686\" machine=\"pc\">hvm</type>", "<target dev=\"hda\" bus=\"ide\"/>",
        "<driver name=\"qemu\" type=\"qcow2\" cache=\"none\"/>", "model=\"ich9-ehci1\"",
        "model=\"ich9-uhci1\"", "<model type=\"rtl8139\"/>", "<target dev=\"vt-ward3\" managed=\"no\"/>",
        "<clock offset=\"localtime\">", "tickpolicy=\"catchup\"", "<acpi/>", "<model type=\"cirrus\"/>",
        "<source mode=\"bind\" path=\"/run/vitrine/com2.sock\"/>", "<target port=\"1\"/>"})
    EXPECT_NE(xml.find(expected), std::string::npos) << expected << "\n" << xml;
  EXPECT_EQ(xml.find("virtio"), std::string::npos);
  EXPECT_EQ(xml.find("q35"), std::string::npos);
}

TEST(DomainXml, EscapesWhatTheOperatorWrote) {
  Cabinet c = load_cabinet_text(kMinimal, "c.yaml");
  const std::string xml = domain_xml(c, "/images/a\"b<c>&d'/overlay.qcow2");
  EXPECT_NE(xml.find("/images/a&quot;b&lt;c&gt;&amp;d'/overlay.qcow2"), std::string::npos) << xml;
  EXPECT_EQ(xml.find("<c>"), std::string::npos);
}

TEST(DomainXml, AUsbHostDeviceIsPinnedByItsIdsAndItsAddress) {
  const std::string xml = usb_hostdev_xml("05e0", "1200", 1, 7);
  for (const char* expected : {"<hostdev mode=\"subsystem\" type=\"usb\">", "<vendor id=\"0x05e0\"/>",
                               "<product id=\"0x1200\"/>", "<address bus=\"1\" device=\"7\"/>"})
    EXPECT_NE(xml.find(expected), std::string::npos) << expected << "\n" << xml;
}

TEST(Cabinet, AMediatedSerialPortRelaysAHostDeviceThroughHostd) {
  const Cabinet c = load_cabinet_text(std::string(kMinimal) + R"(serial:
  - com: 2
    type: mediated
    device: /dev/serial/by-id/usb-Symbol_Scanner-if00
    filter: {maxLineBytes: 64, printable: true}
    rateLimit: {bytesPerSecond: 960}
)",
                                      "c.yaml");
  ASSERT_EQ(c.serial.size(), 1u);
  const SerialPort& s = c.serial[0];
  EXPECT_EQ(s.kind, SerialPort::Kind::Mediated);
  EXPECT_EQ(s.device, "/dev/serial/by-id/usb-Symbol_Scanner-if00");
  EXPECT_EQ(s.path, "/run/vitrine/ward3-com2.sock") << "QEMU's socket, which hostd connects to";
  EXPECT_EQ(s.baud, 9600u);
  EXPECT_EQ(s.max_line_bytes, 64u);
  EXPECT_TRUE(s.printable_only);
  EXPECT_EQ(s.bytes_per_second, 960u);
  const std::string xml = domain_xml(c, "/d.qcow2");
  EXPECT_NE(xml.find("<source mode=\"bind\" path=\"/run/vitrine/ward3-com2.sock\"/>"), std::string::npos) << xml;

  const std::string m = kMinimal;
  EXPECT_NE(error_of(m + "serial:\n  - {com: 2, type: mediated}\n").find("needs the host's 'device'"), std::string::npos);
  EXPECT_NE(error_of(m + "serial:\n  - {com: 2, type: mediated, device: /dev/ttyUSB0, baud: 9601}\n").find("expected one of 1200"),
            std::string::npos);
  EXPECT_NE(error_of(m + "serial:\n  - {com: 2, type: mediated, device: /dev/ttyUSB0, filter: {printable: true}}\n")
                .find("needs 'maxLineBytes'"),
            std::string::npos);
  EXPECT_NE(error_of(m + "serial:\n  - {com: 2, type: mediated, device: /dev/ttyUSB0, filter: {maxLineBytes: 5000}}\n")
                .find("from 1 to 4096"),
            std::string::npos);
  EXPECT_NE(error_of(m + "serial:\n  - {com: 2, type: unix, path: /run/a.sock, device: /dev/ttyUSB0}\n")
                .find("are for a mediated serial port"),
            std::string::npos);
}
