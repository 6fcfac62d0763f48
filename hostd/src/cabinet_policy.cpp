#include "vitrine/hostd/cabinet_policy.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "vitrine/common/sha256.h"
#include "vitrine/common/yaml_reader.h"
#include "vitrine/netmon/ndpi_attributes.h"
#include "vitrine/policy/load.h"

namespace vitrine::hostd {

namespace {

// Every protocol and risk name is taken: hostd reads only the usb rules (see the header).
class AnyNameCatalog : public policy::ProtocolCatalog {
 public:
  std::optional<uint16_t> protocol_id(std::string_view) const override { return kAnyProtocol; }
  std::vector<std::string> protocol_names() const override { return {}; }
  std::optional<uint8_t> risk_bit(std::string_view) const override { return 0; }
  std::vector<std::string> risk_names() const override { return {}; }
  // The attributes themselves, so that the rules' blocks are read as netmon reads them.
  const std::vector<policy::Attr>& attributes() const override { return netmon::declared_attributes(); }

 private:
  // Not 0, which the loader takes for "unknown"; one id for all, so any carrier check holds.
  static constexpr uint16_t kAnyProtocol = 1;
};

}  // namespace

PolicyBytes PolicyBytes::read(const std::string& path) {
  PolicyBytes p;
  p.source = path;
  p.text = YamlReader::read_file(path, "policy");
  p.sha256 = sha256_hex(p.text);
  return p;
}

passthrough::UsbRuleSet usb_rules_of(const PolicyBytes& policy) {
  const AnyNameCatalog catalog;
  return passthrough::UsbRuleSet::compile(policy::load_policy_text(policy.text, policy.source, catalog).usb_rules);
}

void save_policy_in_force(const std::string& path, const PolicyBytes& policy) {
  const std::string written = path + ".tmp";
  const mode_t old = umask(0177);
  {
    std::ofstream out(written, std::ios::binary | std::ios::trunc);
    out << policy.source << "\n" << policy.text;
    if (!out) {
      umask(old);
      throw std::runtime_error("cannot write " + written);
    }
  }
  umask(old);
  std::filesystem::rename(written, path);
}

std::optional<PolicyBytes> load_policy_in_force(const std::string& path, const std::string& expected_sha256) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  PolicyBytes p;
  std::getline(in, p.source);
  p.text.assign(std::istreambuf_iterator<char>(in), {});
  p.sha256 = sha256_hex(p.text);
  if (p.sha256 != expected_sha256) return std::nullopt;
  return p;
}

}  // namespace vitrine::hostd
