#pragma once
// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") formatting, cached per second for the Date field.
#include <ctime>
#include <string_view>

namespace herald::http {

/// Writes the IMF-fixdate of `t` into `out` (exactly 29 characters, not NUL-terminated).
void format_http_date(std::time_t t, char (&out)[29]) noexcept;

/// The current date, reformatted at most once per second. One per event loop.
class DateCache {
public:
    std::string_view now() noexcept;

private:
    std::time_t second_ = -1;
    char text_[29] = {};
};

}  // namespace herald::http
