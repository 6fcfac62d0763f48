// The input of the fuzz targets that play both sides of a TCP conversation (fuzz_rdp,
// fuzz_modbus): records of a byte whose top bit says the direction (1: the client) and whose
// low 7 bits a length, then that many bytes; so that a seed is a real conversation, in its
// order (tests/fuzz/seeds/protocols.py writes them).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "vitrine/netmon/inspector.h"

// Each record's bytes to the inspector, in order; returns the client's bytes joined.
inline std::vector<uint8_t> feed_direction_records(vitrine::netmon::Inspector& inspector, const uint8_t* data,
                                                   size_t size, vitrine::netmon::InspectionOutput& out) {
  std::vector<uint8_t> client;
  for (size_t at = 0; at < size;) {
    const bool from_client = data[at] & 0x80;
    const size_t n = std::min<size_t>(data[at] & 0x7f, size - at - 1);
    const std::vector<uint8_t> chunk(data + at + 1, data + at + 1 + n);  // exact size: ASan sees overreads
    if (from_client) client.insert(client.end(), chunk.begin(), chunk.end());
    inspector.on_bytes(from_client, chunk.data(), chunk.size(), at, out);
    at += 1 + n;
  }
  return client;
}
