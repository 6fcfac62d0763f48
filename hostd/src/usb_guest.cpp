#include "vitrine/hostd/usb_guest.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <memory>

#include "vitrine/hostd/domain_xml.h"

namespace vitrine::hostd {

namespace {

std::string last_error() {
  const virError* e = virGetLastError();
  return e && e->message ? e->message : "unknown libvirt error";
}

using Domain = std::unique_ptr<virDomain, int (*)(virDomainPtr)>;

Domain lookup(_virConnect* conn, const std::string& name) {
  return Domain(virDomainLookupByName(conn, name.c_str()), virDomainFree);
}

std::string hostdev_xml(const passthrough::UsbDeviceAttributes& d) {
  return usb_hostdev_xml(d.vendor_id, d.product_id, d.busnum, d.devnum);
}

bool hostdev_attached(const std::string& domain_xml, const passthrough::UsbDeviceAttributes& d) {
  return domain_xml.find("<address bus='" + std::to_string(d.busnum) + "' device='" + std::to_string(d.devnum) + "'/>") !=
         std::string::npos;
}

}  // namespace

LibvirtGuestUsb::LibvirtGuestUsb(_virConnect* conn, std::string domain)
    : LibvirtGuestUsb(conn, std::move(domain), hostdev_xml, hostdev_attached) {}

LibvirtGuestUsb::LibvirtGuestUsb(_virConnect* conn, std::string domain, DeviceXml xml, Attached attached)
    : conn_(conn), domain_(std::move(domain)), xml_(std::move(xml)), attached_(std::move(attached)) {}

bool LibvirtGuestUsb::attach(const passthrough::UsbDeviceAttributes& device, std::string& error) {
  const Domain dom = lookup(conn_, domain_);
  if (!dom) {
    error = "no domain " + domain_ + ": " + last_error();
    return false;
  }
  if (char* live = virDomainGetXMLDesc(dom.get(), 0)) {
    const bool already = attached_(live, device);
    free(live);
    if (already) return true;
  }
  if (virDomainAttachDeviceFlags(dom.get(), xml_(device).c_str(), VIR_DOMAIN_AFFECT_LIVE) < 0) {
    error = "libvirt: " + last_error();
    return false;
  }
  return true;
}

bool LibvirtGuestUsb::detach(const passthrough::UsbDeviceAttributes& device, std::string& error) {
  const Domain dom = lookup(conn_, domain_);
  if (!dom) {
    error = "no domain " + domain_ + ": " + last_error();
    return false;
  }
  if (virDomainDetachDeviceFlags(dom.get(), xml_(device).c_str(), VIR_DOMAIN_AFFECT_LIVE) < 0) {
    error = "libvirt: " + last_error();
    return false;
  }
  return true;
}

bool LibvirtGuestUsb::running() const {
  const Domain dom = lookup(conn_, domain_);
  return dom && virDomainIsActive(dom.get()) == 1;
}

}  // namespace vitrine::hostd
