// libFuzzer target: any bytes as both directions of an SMB connection, in records of the
// input's own making, through the NetBIOS framer, the SMB1/SMB2 and DCE/RPC readers and the
// inspector. Nothing may read outside the input; names that reach events are printable.
// Records: two bytes whose top bit says the direction (1: the server) and whose other 15 bits
// a length, then that many bytes; so that a seed is a real conversation, in its order, cut
// where its segments were.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "closed_reasons.h"
#include "smb/smb_attributes.h"
#include "smb/smb_inspector.h"
#include "smb/smb_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vitrine::netmon;
  const auto inspector = smb::create("");  // as the engine makes it
  InspectionOutput out;
  std::vector<uint8_t> client;
  for (size_t at = 0; at + 2 <= size;) {
    const bool from_server = data[at] & 0x80;
    const size_t n = std::min<size_t>(size_t{data[at] & 0x7fu} << 8 | data[at + 1], size - at - 2);
    const std::vector<uint8_t> chunk(data + at + 2, data + at + 2 + n);  // exact size: ASan sees overreads
    if (!from_server) client.insert(client.end(), chunk.begin(), chunk.end());
    inspector->on_bytes(!from_server, chunk.data(), chunk.size(), uint64_t{at} * 1000, out);  // time moves on
    at += 2 + n;
  }
  smb::recognises(client.data(), client.size());
  smb::protocol_of(client.data(), client.size());
  for (const auto& m : out.messages)
    for (const auto a : {&vitrine::netmon::smb::kShare, &vitrine::netmon::smb::kCommand, &vitrine::netmon::smb::kDialect})
      for (unsigned char c : m.attributes.get(a))
        if (c < 0x20 || c > 0x7e) abort();
  abort_unless_declared(out, smb::registration());
  return 0;
}
