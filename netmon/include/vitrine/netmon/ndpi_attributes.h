// The policy attributes netmon's classifier reads from nDPI (DNS, HTTP and TLS), declared
// beside what reports them, as each inspector declares its own in its folder.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vitrine/policy/l7.h"

namespace vitrine::netmon {

namespace ndpi_attr {
extern const policy::Attribute kDnsName;
extern const policy::Attribute kHttpHost;
extern const policy::Attribute kHttpMethod;
extern const policy::Attribute kHttpPath;
extern const policy::Attribute kTlsSni;
// "1.0" .. "1.3": what the client offers at best, then what the server chose (inspectors/tls).
extern const policy::Attribute kTlsVersion;
}  // namespace ndpi_attr

// "1.2" for 0x0303 and so on; empty for anything else (SSL 2/3, garbage).
std::string tls_version_name(uint16_t wire_version);

// Every attribute a rule can name: nDPI's above, then each inspector's (inspectors/attributes.cpp).
const std::vector<policy::Attr>& declared_attributes();

}  // namespace vitrine::netmon
