#include "vitrine/common/log.h"

#include <spdlog/spdlog.h>

namespace vitrine {

bool configure_logging(const std::string& level_name) {
  const auto level = spdlog::level::from_str(level_name);
  // from_str answers "off" for any unknown name; only accept "off" when it was asked for.
  if (level == spdlog::level::off && level_name != "off") return false;
  spdlog::set_level(level);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  return true;
}

}  // namespace vitrine
