#include "vitrine/hostd/domain_xml.h"

#include <libxml/tree.h>

#include <memory>
#include <stdexcept>

namespace vitrine::hostd {

namespace {

// A thin layer over libxml2's tree API, which does the escaping: names and paths come from
// an operator's file and must never be able to add elements to the domain.
class Element {
 public:
  explicit Element(xmlNodePtr node) : node_(node) {}
  Element add(const char* name, const std::string& text = {}) {
    return Element(xmlNewTextChild(node_, nullptr, BAD_CAST name,
                                   text.empty() ? nullptr : BAD_CAST text.c_str()));
  }
  Element& attr(const char* name, const std::string& value) {
    xmlNewProp(node_, BAD_CAST name, BAD_CAST value.c_str());
    return *this;
  }

 private:
  xmlNodePtr node_;
};

const char* serial_type(SerialPort::Kind k) {
  switch (k) {
    case SerialPort::Kind::File: return "file";
    case SerialPort::Kind::Pty: return "pty";
    case SerialPort::Kind::Unix:
    case SerialPort::Kind::Mediated: return "unix";  // QEMU listens; hostd is the one that connects
  }
  return "pty";
}

std::string serialise(xmlDocPtr doc) {
  xmlChar* text = nullptr;
  int size = 0;
  xmlDocDumpFormatMemoryEnc(doc, &text, &size, "UTF-8", 1);
  if (text == nullptr) throw std::runtime_error("cannot serialise the domain XML");
  std::string out(reinterpret_cast<char*>(text), static_cast<size_t>(size));
  xmlFree(text);
  return out;
}

using Doc = std::unique_ptr<xmlDoc, void (*)(xmlDocPtr)>;

}  // namespace

std::string disk_target(const Cabinet& c) {
  return c.hardware.disk_bus == "virtio" ? "vda" : c.hardware.disk_bus == "sata" ? "sda" : "hda";
}

std::string domain_xml(const Cabinet& c, const std::string& disk) {
  Doc doc(xmlNewDoc(BAD_CAST "1.0"), xmlFreeDoc);
  xmlNodePtr root_node = xmlNewNode(nullptr, BAD_CAST "domain");
  xmlDocSetRootElement(doc.get(), root_node);
  Element root(root_node);
  // TCG ("qemu"): the cabinet hosts have no need of KVM for a single-core XP guest, and the
  // type stays the same on hosts without it.
  root.attr("type", "qemu");
  root.add("name", c.name);
  root.add("memory", std::to_string(c.memory_mib)).attr("unit", "MiB");
  root.add("vcpu", std::to_string(c.hardware.vcpus));

  Element os = root.add("os");
  os.add("type", "hvm").attr("arch", c.hardware.arch).attr("machine", c.hardware.machine);
  if (c.direct_boot) {
    os.add("kernel", c.direct_boot->kernel);
    if (!c.direct_boot->initrd.empty()) os.add("initrd", c.direct_boot->initrd);
    if (!c.direct_boot->cmdline.empty()) os.add("cmdline", c.direct_boot->cmdline);
  } else {
    os.add("boot").attr("dev", "hd");
  }
  Element features = root.add("features");
  if (c.hardware.acpi) features.add("acpi");
  Element cpu = root.add("cpu").attr("mode", "custom").attr("match", "exact");
  cpu.add("model", c.hardware.cpu).attr("fallback", "allow");
  Element clock = root.add("clock").attr("offset", c.hardware.clock);
  // After a pause (host load, TCG) the RTC catches up instead of leaving XP's clock behind.
  clock.add("timer").attr("name", "rtc").attr("tickpolicy", "catchup");
  root.add("on_poweroff", "destroy");
  root.add("on_reboot", "restart");
  // hostd decides what a crash means (restart with back-off, or stop a crash loop).
  root.add("on_crash", "destroy");

  Element devices = root.add("devices");
  Element d = devices.add("disk").attr("type", "file").attr("device", "disk");
  d.add("driver").attr("name", "qemu").attr("type", "qcow2").attr("cache", c.hardware.disk_cache);
  d.add("source").attr("file", disk);
  d.add("target").attr("dev", disk_target(c))
      .attr("bus", c.hardware.disk_bus);
  // USB 1.1 and 2.0 only: XP Embedded has no xHCI driver. The UHCI companion shares the bus.
  devices.add("controller").attr("type", "usb").attr("index", "0").attr("model", "ich9-ehci1");
  devices.add("controller").attr("type", "usb").attr("index", "0").attr("model", "ich9-uhci1")
      .add("master").attr("startport", "0");
  Element nic = devices.add("interface").attr("type", "ethernet");
  nic.add("mac").attr("address", c.mac.str());
  nic.add("target").attr("dev", c.tap).attr("managed", "no");
  nic.add("model").attr("type", c.hardware.nic);
  for (const auto& s : c.serial) {
    Element serial = devices.add("serial").attr("type", serial_type(s.kind));
    if (s.kind == SerialPort::Kind::File) serial.add("source").attr("path", s.path);
    if (s.kind == SerialPort::Kind::Unix || s.kind == SerialPort::Kind::Mediated)
      serial.add("source").attr("mode", "bind").attr("path", s.path);
    serial.add("target").attr("port", std::to_string(s.com - 1));
  }
  devices.add("video").add("model").attr("type", c.hardware.video);
  devices.add("memballoon").attr("model", "none");  // XP has no balloon driver

  return serialise(doc.get());
}

std::string usb_hostdev_xml(const std::string& vendor_id, const std::string& product_id, unsigned bus,
                            unsigned device) {
  Doc doc(xmlNewDoc(BAD_CAST "1.0"), xmlFreeDoc);
  xmlNodePtr root_node = xmlNewNode(nullptr, BAD_CAST "hostdev");
  xmlDocSetRootElement(doc.get(), root_node);
  Element hostdev(root_node);
  hostdev.attr("mode", "subsystem").attr("type", "usb");
  Element source = hostdev.add("source");
  source.add("vendor").attr("id", "0x" + vendor_id);
  source.add("product").attr("id", "0x" + product_id);
  // The address pins this very device: two scanners of one model are two devices.
  source.add("address").attr("bus", std::to_string(bus)).attr("device", std::to_string(device));
  return serialise(doc.get());
}

}  // namespace vitrine::hostd
