// libFuzzer target: any text as a policy file is either a policy or a PolicyError.
#include <cstddef>
#include <cstdint>
#include <string>

#include "vitrine/netmon/classifier.h"
#include "vitrine/policy/load.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static vitrine::netmon::NdpiClassifier catalog;
  try {
    vitrine::policy::load_policy_text(std::string(reinterpret_cast<const char*>(data), size),
                                      "fuzz.yaml", catalog);
  } catch (const vitrine::policy::PolicyError&) {
  }
  return 0;
}
