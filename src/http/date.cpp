#include "http/date.hpp"

namespace herald::http {
namespace {
constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void put2(char* at, int v) noexcept {
    at[0] = static_cast<char>('0' + v / 10);
    at[1] = static_cast<char>('0' + v % 10);
}
}  // namespace

void format_http_date(std::time_t t, char (&out)[29]) noexcept {
    std::tm tm{};
    gmtime_r(&t, &tm);
    const char* day = kDays[tm.tm_wday];
    const char* mon = kMonths[tm.tm_mon];
    out[0] = day[0], out[1] = day[1], out[2] = day[2], out[3] = ',', out[4] = ' ';
    put2(out + 5, tm.tm_mday);
    out[7] = ' ';
    out[8] = mon[0], out[9] = mon[1], out[10] = mon[2], out[11] = ' ';
    int year = tm.tm_year + 1900;
    put2(out + 12, (year / 100) % 100);
    put2(out + 14, year % 100);
    out[16] = ' ';
    put2(out + 17, tm.tm_hour);
    out[19] = ':';
    put2(out + 20, tm.tm_min);
    out[22] = ':';
    put2(out + 23, tm.tm_sec);
    out[25] = ' ', out[26] = 'G', out[27] = 'M', out[28] = 'T';
}

std::string_view DateCache::now() noexcept {
    std::time_t t = std::time(nullptr);
    if (t != second_) {
        second_ = t;
        format_http_date(t, text_);
    }
    return {text_, sizeof text_};
}

}  // namespace herald::http
