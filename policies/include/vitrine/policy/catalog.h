// What the policy loader asks of the protocol classifier, without the loader itself: the
// classifier implements it on the data path, which parses no YAML.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vitrine/policy/policy.h"

namespace vitrine::policy {

// The seam to the protocol classifier: the loader checks protocol names against it, so that
// a name the classifier does not know is refused at load time, not silently never matched.
class ProtocolCatalog {
 public:
  virtual ~ProtocolCatalog() = default;
  virtual std::optional<uint16_t> protocol_id(std::string_view name) const = 0;
  // Every name it knows: for suggesting the one an author probably meant.
  virtual std::vector<std::string> protocol_names() const = 0;
  // nDPI's flow risks by name ("SMB Insecure Version"): the bit in the flow's risk bitmap.
  virtual std::optional<uint8_t> risk_bit(std::string_view name) const = 0;
  virtual std::vector<std::string> risk_names() const = 0;
  // Every attribute a rule can put a condition on: those the classifier reads and those
  // netmon's inspectors declare beside themselves. A block or field not among them is refused.
  virtual const std::vector<Attr>& attributes() const = 0;
};

}  // namespace vitrine::policy
