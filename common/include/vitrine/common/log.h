// Logging set-up shared by every vitrine process: one stderr logger, level from the
// command line, so that a service manager's journal gets one consistent format.
#pragma once

#include <string>

namespace vitrine {

// Sets the default spdlog logger's level ("trace".."critical", "off").
// Returns false and leaves the level unchanged when the name is not a level.
bool configure_logging(const std::string& level_name);

}  // namespace vitrine
