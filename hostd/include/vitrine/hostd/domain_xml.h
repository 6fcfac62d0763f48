// The libvirt domain a cabinet runs as. Pure: the same cabinet always gives the same XML.
#pragma once

#include <string>

#include "vitrine/hostd/cabinet.h"

namespace vitrine::hostd {

// `disk` is the overlay the guest writes to. The NIC is an unmanaged tap that hostd created
// and netmon already guards, so libvirt neither creates nor bridges it.
std::string domain_xml(const Cabinet& cabinet, const std::string& disk);

// A host USB device passed to the guest (libvirt <hostdev type='usb'>), by its ids and its
// bus and device numbers, for a live attach or detach. The ids are 4 hex digits (checked by
// passthrough before a device is allowed).
std::string usb_hostdev_xml(const std::string& vendor_id, const std::string& product_id, unsigned bus,
                            unsigned device);

// The guest's disk as libvirt names it (hda for IDE): for its block statistics.
std::string disk_target(const Cabinet& cabinet);

}  // namespace vitrine::hostd
