// The thin side of the TLS hello parser: on a TLS flow's first payload from the server, the
// version the server chose becomes the flow's tls.version, replacing the client's offer.
#pragma once

#include <cstddef>
#include <cstdint>

#include "vitrine/netmon/classifier.h"
#include "vitrine/netmon/inspector.h"

namespace vitrine::netmon::tls {

// `payload`: one TCP segment's payload from the responder.
void inspect_server_payload(Classification& c, const uint8_t* payload, size_t len);
// What the engine knows of this inspector (netmon/inspectors/registry.cpp).
InspectorRegistration registration();

}  // namespace vitrine::netmon::tls
