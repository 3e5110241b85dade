#pragma once
// Logging configuration (Herald logs through spdlog).
#include <string_view>

namespace herald {

/// Sets the minimum level: "trace", "debug", "info", "warn", "error", "critical" or "off".
/// Throws herald::error for an unknown name.
void set_log_level(std::string_view level);

}  // namespace herald
