// The libvirt domain a cabinet runs as. Pure: the same cabinet always gives the same XML.
#pragma once

#include <string>

#include "vitrine/hostd/cabinet.h"

namespace vitrine::hostd {

// `disk` is the overlay the guest writes to. The NIC is an unmanaged tap that hostd created
// and netmon already guards, so libvirt neither creates nor bridges it.
std::string domain_xml(const Cabinet& cabinet, const std::string& disk);

}  // namespace vitrine::hostd
