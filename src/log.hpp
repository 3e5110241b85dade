#pragma once
// Internal logging: the library's spdlog logger.
#include <spdlog/spdlog.h>

namespace herald {

/// The logger every part of the library writes to (named "herald", colour to stderr).
spdlog::logger& log();

}  // namespace herald
