// The version a TLS server chose, read from its ServerHello. nDPI 4.2 records the server's
// choice only when it is TLS 1.3 (the supported_versions extension); a server that settles
// for 1.0 or 1.1 leaves nDPI reporting what the client offered, which is what a minimum
// version rule must not trust. Pure: no I/O, no state, bounds-checked over the given bytes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "vitrine/netmon/parse_result.h"

namespace vitrine::netmon::tls {


struct ServerHello {
  uint16_t version = 0;  // as chosen: supported_versions if present, else the hello's version
};

// `data` is the start of the server's first payload (a TLS record). Incomplete: the hello
// goes on past `len` (the caller may not see more). Error: these bytes are not one.
ParseResult parse_server_hello(const uint8_t* data, size_t len, ServerHello& out);

}  // namespace vitrine::netmon::tls
