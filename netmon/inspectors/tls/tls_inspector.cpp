#include "tls_inspector.h"

extern "C" {
#include <ndpi/ndpi_protocol_ids.h>
}

#include "tls_hello.h"
#include "vitrine/netmon/ndpi_attributes.h"

namespace vitrine::netmon::tls {

void inspect_server_payload(Classification& c, const uint8_t* payload, size_t len) {
  if (c.server_hello_read || len == 0 || !c.names(NDPI_PROTOCOL_TLS)) return;
  ServerHello hello;
  const ParseResult status = parse_server_hello(payload, len, hello);
  // The server speaks first in its own record; whatever its first payload is, the choice of
  // version is not read later (a hello cut short still gave its hello version, which never
  // overstates what was chosen).
  c.server_hello_read = true;
  if (status == ParseStatus::Error || hello.version == 0) {
    c.report(&ndpi_attr::kTlsVersion, "");  // unknown: a minimum version rule cannot hold
    return;
  }
  c.report(&ndpi_attr::kTlsVersion, tls_version_name(hello.version));
}

InspectorRegistration registration() {
  return {.protocol = "TLS", .block = "", .naming = Naming::None, .protocol_of = nullptr, .patches = {},
          .recognises = nullptr, .create = nullptr, .reads_responder = &inspect_server_payload};
}

}  // namespace vitrine::netmon::tls
