// A protocol catalogue standing in for nDPI in unit tests: the loader only needs names to ids,
// and the attributes netmon declares.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vitrine/netmon/ndpi_attributes.h"
#include "vitrine/policy/load.h"

namespace vitrine::testing {

using policy::Attr;

class FakeCatalog : public policy::ProtocolCatalog {
 public:
  std::optional<uint16_t> protocol_id(std::string_view name) const override {
    static const std::map<std::string, uint16_t, std::less<>> ids = {
        {"DNS", 5}, {"HTTP", 7}, {"SMBv1", 16}, {"NetBIOS", 10}, {"SMBv23", 41}, {"TLS", 91}, {"HL7", 0xF001}, {"DICOM", 0xF002}};
    auto it = ids.find(name);
    if (it == ids.end()) return std::nullopt;
    return it->second;
  }
  std::vector<std::string> protocol_names() const override { return {"DNS", "HTTP", "SMBv1", "NetBIOS", "SMBv23", "TLS", "HL7", "DICOM"}; }
  std::optional<uint8_t> risk_bit(std::string_view name) const override {
    if (name == "SMB Insecure Version") return 10;
    if (name == "Unsafe Protocol") return 20;
    return std::nullopt;
  }
  std::vector<std::string> risk_names() const override { return {"SMB Insecure Version", "Unsafe Protocol"}; }
  // netmon's own: nDPI's and those its inspectors declare.
  const std::vector<Attr>& attributes() const override { return netmon::declared_attributes(); }
};

}  // namespace vitrine::testing
