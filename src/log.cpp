#include "log.hpp"

#include <herald/error.hpp>
#include <herald/log.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace herald {

spdlog::logger& log() {
    static std::shared_ptr<spdlog::logger> logger = [] {
        auto l = spdlog::get("herald");
        if (!l) l = spdlog::stderr_color_mt("herald");
        l->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%t] %v");
        return l;
    }();
    return *logger;
}

void set_log_level(std::string_view level) {
    auto parsed = spdlog::level::from_str(std::string(level));
    // from_str answers "off" for any unknown name; only accept "off" when it was asked for.
    if (parsed == spdlog::level::off && level != "off")
        throw error("unknown log level '" + std::string(level) +
                    "' (use trace, debug, info, warn, error, critical or off)");
    log().set_level(parsed);
}

}  // namespace herald
