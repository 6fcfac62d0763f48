// libFuzzer target: any bytes as a server's first TLS payload must parse or be refused
// without reading outside the input, and a version is only ever one the bytes carried.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "tls/tls_hello.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);  // exact size: ASan sees overreads
  vitrine::netmon::tls::ServerHello hello;
  const auto status = vitrine::netmon::tls::parse_server_hello(bytes.data(), bytes.size(), hello);
  if (status == vitrine::netmon::ParseStatus::Error && size >= 9 && data[0] == 0x16 &&
      data[1] == 0x03 && data[5] == 0x02 && size >= 11 && data[9] == 0x03)
    abort();  // a well-formed start was refused
  return 0;
}
