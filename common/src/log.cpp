#include "vitrine/common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace vitrine {

bool configure_logging(const std::string& level_name) {
  const auto level = spdlog::level::from_str(level_name);
  // from_str answers "off" for any unknown name; only accept "off" when it was asked for.
  if (level == spdlog::level::off && level_name != "off") return false;
  // Services log to stderr, where service managers and test harnesses collect it; stdout
  // stays free for command output.
  if (!spdlog::get("vitrine")) spdlog::set_default_logger(spdlog::stderr_color_mt("vitrine"));
  spdlog::set_level(level);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  return true;
}

}  // namespace vitrine
