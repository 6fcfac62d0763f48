// libFuzzer target: any bytes as both directions of an SMB connection, cut into pieces by the
// input itself, through the NetBIOS framer, the SMB1/SMB2 and DCE/RPC readers and the
// inspector. Nothing may read outside the input; names that reach events are printable.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "smb/smb_inspector.h"
#include "smb/smb_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vitrine::netmon;
  if (size < 2) return 0;
  const size_t piece = 1 + data[0] % 200;
  const uint8_t directions = data[1];  // bit i: piece i comes from the responder
  const std::vector<uint8_t> stream(data + 2, data + size);
  smb::looks_like_smb(stream.data(), stream.size());
  smb::SmbInspector inspector;
  InspectionOutput out;
  size_t i = 0;
  for (size_t at = 0; at < stream.size(); at += piece, ++i) {
    const std::vector<uint8_t> chunk(stream.begin() + static_cast<long>(at),
                                     stream.begin() + static_cast<long>(std::min(stream.size(), at + piece)));
    inspector.on_bytes(((directions >> (i % 8)) & 1) == 0, chunk.data(), chunk.size(), at, out);
  }
  for (const auto& m : out.messages)
    for (const auto a : {vitrine::policy::Attr::SmbShare, vitrine::policy::Attr::SmbCommand, vitrine::policy::Attr::SmbDialect})
      for (unsigned char c : m.attributes.get(a))
        if (c < 0x20 || c > 0x7e) abort();
  return 0;
}
