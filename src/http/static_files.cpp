// Serving files from a folder. A request path is checked segment by segment, resolved to a canonical
// path that must stay inside the canonical root, opened once and described with fstat on that
// descriptor; the response carries the descriptor itself (FileBody) so the server can sendfile it.
#include <herald/http/static_files.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <herald/error.hpp>
#include <herald/http/headers.hpp>
#include <herald/http/method.hpp>

namespace herald {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view day_names = "SunMonTueWedThuFriSat";
constexpr std::string_view month_names = "JanFebMarAprMayJunJulAugSepOctNovDec";

// Owns a descriptor until it is handed over to a FileBody, so every early return closes it.
class UniqueFd {
public:
    explicit UniqueFd(int fd = -1) noexcept : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    const int& ref() const noexcept { return fd_; }
    void reset() noexcept {
        // close() is not retried on EINTR: on Linux the descriptor is released either way.
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_;
};

// One allocation holds the descriptor; the aliasing constructor exposes it as the shared `const int`
// FileBody wants, and the descriptor is closed when the last copy of the body goes away.
std::shared_ptr<const int> share_fd(UniqueFd fd) {
    auto owner = std::make_shared<UniqueFd>(std::move(fd));
    const int* value = &owner->ref();
    return {std::move(owner), value};
}

bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// ---- HTTP dates (RFC 9110 §5.6.7) ----

// IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT"; nullopt when the year has no 4-digit form.
std::optional<std::string> format_http_date(std::time_t t) {
    std::tm tm{};
    if (::gmtime_r(&t, &tm) == nullptr) return std::nullopt;
    const int year = tm.tm_year + 1900;
    if (year < 0 || year > 9999) return std::nullopt;
    std::array<char, 40> buf{};
    const int n = std::snprintf(buf.data(), buf.size(), "%.3s, %02d %.3s %04d %02d:%02d:%02d GMT",
                                day_names.data() + 3 * tm.tm_wday, tm.tm_mday, month_names.data() + 3 * tm.tm_mon,
                                year, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (n <= 0 || static_cast<std::size_t>(n) >= buf.size()) return std::nullopt;
    return std::string(buf.data(), static_cast<std::size_t>(n));
}

// A cursor over a date string; every step consumes exactly what it matched or fails.
class DateScanner {
public:
    explicit DateScanner(std::string_view s) noexcept : s_(s) {}

    bool literal(std::string_view lit) noexcept {
        if (s_.substr(pos_, lit.size()) != lit) return false;
        pos_ += lit.size();
        return true;
    }
    // Exactly `count` decimal digits.
    std::optional<int> digits(std::size_t count) noexcept {
        if (s_.size() - pos_ < count) return std::nullopt;
        int value = 0;
        for (std::size_t i = 0; i < count; ++i) {
            const char c = s_[pos_ + i];
            if (c < '0' || c > '9') return std::nullopt;
            value = value * 10 + (c - '0');
        }
        pos_ += count;
        return value;
    }
    // "Jan".."Dec" → 1..12 (case-sensitive, as the grammar says).
    std::optional<unsigned> month() noexcept {
        for (unsigned m = 0; m < 12; ++m)
            if (literal(month_names.substr(3 * m, 3))) return m + 1;
        return std::nullopt;
    }
    bool short_day_name() noexcept {
        for (std::size_t d = 0; d < 7; ++d)
            if (literal(day_names.substr(3 * d, 3))) return true;
        return false;
    }
    bool long_day_name() noexcept {
        static constexpr std::array<std::string_view, 7> names = {"Monday", "Tuesday", "Wednesday", "Thursday",
                                                                  "Friday", "Saturday", "Sunday"};
        return std::any_of(names.begin(), names.end(), [this](std::string_view n) { return literal(n); });
    }
    // "HH:MM:SS" into the three outputs.
    bool time_of_day(int& h, int& m, int& s) noexcept {
        auto hh = digits(2);
        if (!hh || !literal(":")) return false;
        auto mm = digits(2);
        if (!mm || !literal(":")) return false;
        auto ss = digits(2);
        if (!ss) return false;
        h = *hh, m = *mm, s = *ss;
        return true;
    }
    bool done() const noexcept { return pos_ == s_.size(); }

private:
    std::string_view s_;
    std::size_t pos_ = 0;
};

std::optional<std::int64_t> to_epoch(int y, unsigned mon, int d, int h, int m, int s) noexcept {
    using namespace std::chrono;
    const year_month_day ymd{year{y}, month{mon}, day{static_cast<unsigned>(d)}};
    // The grammar allows second 60 (a leap second); it is kept and simply rolls into the next minute.
    if (!ymd.ok() || h > 23 || m > 59 || s > 60) return std::nullopt;
    const std::int64_t days = sys_days{ymd}.time_since_epoch().count();
    return days * 86400 + h * 3600 + m * 60 + s;
}

// Parses an HTTP-date in any of the three formats a recipient must accept: IMF-fixdate,
// obsolete RFC 850 and asctime. Seconds since the epoch, or nullopt when it is not a valid date.
std::optional<std::int64_t> parse_http_date(std::string_view text, std::time_t now) noexcept {
    text = trim(text);
    int h = 0, m = 0, s = 0;
    {  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
        DateScanner in(text);
        if (in.short_day_name() && in.literal(", ")) {
            auto d = in.digits(2);
            if (!d || !in.literal(" ")) return std::nullopt;
            auto mon = in.month();
            if (!mon || !in.literal(" ")) return std::nullopt;
            auto y = in.digits(4);
            if (!y || !in.literal(" ") || !in.time_of_day(h, m, s) || !in.literal(" GMT") || !in.done())
                return std::nullopt;
            return to_epoch(*y, *mon, *d, h, m, s);
        }
    }
    {  // rfc850-date: "Sunday, 06-Nov-94 08:49:37 GMT"
        DateScanner in(text);
        if (in.long_day_name() && in.literal(", ")) {
            auto d = in.digits(2);
            if (!d || !in.literal("-")) return std::nullopt;
            auto mon = in.month();
            if (!mon || !in.literal("-")) return std::nullopt;
            auto yy = in.digits(2);
            if (!yy || !in.literal(" ") || !in.time_of_day(h, m, s) || !in.literal(" GMT") || !in.done())
                return std::nullopt;
            // A two-digit year more than 50 years in the future means the last century (RFC 9110 §5.6.7).
            std::tm now_tm{};
            const int current = ::gmtime_r(&now, &now_tm) ? now_tm.tm_year + 1900 : 1970;
            int y = current / 100 * 100 + *yy;
            if (y > current + 50) y -= 100;
            return to_epoch(y, *mon, *d, h, m, s);
        }
    }
    {  // asctime-date: "Sun Nov  6 08:49:37 1994"
        DateScanner in(text);
        if (in.short_day_name() && in.literal(" ")) {
            auto mon = in.month();
            if (!mon || !in.literal(" ")) return std::nullopt;
            auto d = in.literal(" ") ? in.digits(1) : in.digits(2);
            if (!d || !in.literal(" ") || !in.time_of_day(h, m, s) || !in.literal(" ")) return std::nullopt;
            auto y = in.digits(4);
            if (!y || !in.done()) return std::nullopt;
            return to_epoch(*y, *mon, *d, h, m, s);
        }
    }
    return std::nullopt;
}

// ---- validators ----

// True when the entity-tag list `list` ("*" or 1#entity-tag) has an element matching `etag` (a strong
// tag, quotes included). Weak comparison ignores the W/ prefix; strong comparison never matches a weak
// tag. A malformed element ends the scan, so a malformed list matches only through the elements before it.
bool etag_list_matches(std::string_view list, std::string_view etag, bool weak_comparison) noexcept {
    list = trim(list);
    if (list == "*") return true;
    std::size_t i = 0;
    while (i < list.size()) {
        if (is_ows(list[i]) || list[i] == ',') {
            ++i;
            continue;
        }
        bool weak = false;
        if (list.substr(i, 2) == "W/") {
            weak = true;
            i += 2;
        }
        if (i >= list.size() || list[i] != '"') return false;
        const std::size_t close = list.find('"', i + 1);
        if (close == std::string_view::npos) return false;
        if (list.substr(i, close - i + 1) == etag && (weak_comparison || !weak)) return true;
        i = close + 1;
    }
    return false;
}

// If-Range (RFC 9110 §13.1.5): Range applies only when the validator still names this representation.
// An entity-tag must match strongly; a date must equal Last-Modified, and Last-Modified only counts as
// strong when the file is at least a second older than now (a same-second change would keep the date).
bool if_range_holds(std::optional<std::string_view> if_range, std::string_view etag, std::time_t mtime,
                    std::time_t now) noexcept {
    if (!if_range) return true;
    const std::string_view v = trim(*if_range);
    if (v.starts_with('"') || v.starts_with("W/")) return v == etag;
    const auto date = parse_http_date(v, now);
    return date && *date == mtime && mtime < now;
}

// ---- Range (RFC 9110 §14) ----

enum class RangeKind : std::uint8_t { ignore, satisfiable, unsatisfiable };

struct RangeOutcome {
    RangeKind kind = RangeKind::ignore;
    std::uint64_t first = 0;
    std::uint64_t last = 0;  // inclusive
};

// Decimal digits only, saturating at the maximum: a huge first-pos is then simply unsatisfiable and a
// huge last-pos or suffix is clamped, which is what the RFC asks for those values anyway.
std::optional<std::uint64_t> parse_position(std::string_view s) noexcept {
    if (s.empty()) return std::nullopt;
    constexpr auto max = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t value = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        const auto digit = static_cast<std::uint64_t>(c - '0');
        value = value > (max - digit) / 10 ? max : value * 10 + digit;
    }
    return value;
}

// Evaluates a Range value against a representation of `size` bytes. Only one range is served: a request
// for several gets the whole file with 200, which the RFC allows (a server may ignore Range) and which
// spares us multipart/byteranges. Malformed values and other units are ignored the same way; so is
// Range on an empty file, where no byte range can be expressed.
RangeOutcome evaluate_range(std::string_view value, std::uint64_t size) noexcept {
    value = trim(value);
    constexpr std::string_view unit = "bytes=";
    if (value.size() < unit.size() || !iequals(value.substr(0, unit.size()), unit)) return {};
    std::string_view rest = value.substr(unit.size());
    std::string_view spec;
    int specs = 0;
    while (!rest.empty()) {  // 1#range-spec: empty list elements are allowed and skipped
        const std::size_t comma = rest.find(',');
        const std::string_view element = trim(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        if (!element.empty()) {
            spec = element;
            ++specs;
        }
    }
    if (specs != 1 || size == 0) return {};

    const std::size_t dash = spec.find('-');
    if (dash == std::string_view::npos) return {};
    const std::string_view first_text = spec.substr(0, dash);
    const std::string_view last_text = spec.substr(dash + 1);
    if (first_text.empty()) {  // suffix-range: the last N bytes
        const auto suffix = parse_position(last_text);
        if (!suffix) return {};
        if (*suffix == 0) return {RangeKind::unsatisfiable};
        return {RangeKind::satisfiable, *suffix >= size ? 0 : size - *suffix, size - 1};
    }
    const auto first = parse_position(first_text);
    if (!first) return {};
    std::uint64_t last = size - 1;
    if (!last_text.empty()) {
        const auto parsed = parse_position(last_text);
        if (!parsed || *parsed < *first) return {};  // last-pos before first-pos is invalid syntax
        last = std::min(*parsed, size - 1);
    }
    if (*first >= size) return {RangeKind::unsatisfiable};
    return {RangeKind::satisfiable, *first, last};
}

// ---- resolving and opening ----

int status_for(std::error_code ec) noexcept {
    if (ec == std::errc::permission_denied || ec == std::errc::operation_not_permitted) return 403;
    if (ec == std::errc::too_many_files_open || ec == std::errc::too_many_files_open_in_system ||
        ec == std::errc::not_enough_memory)
        return 503;
    return 404;  // missing, not a directory, symlink loop, name too long, ...
}

// Appends the segments of a decoded relative path to `out`. Returns 0, or the status for a path that
// must not be served: NUL cannot name a file (400); "..", backslashes (a separator elsewhere, and a
// classic filter bypass) and absolute paths could reach outside the root (404, like a missing file).
// Empty and "." segments are skipped.
int append_relative(fs::path& out, std::string_view relative) {
    if (relative.find('\0') != std::string_view::npos) return 400;
    if (relative.find('\\') != std::string_view::npos) return 404;
    if (relative.starts_with('/')) return 404;
    std::size_t start = 0;
    while (start <= relative.size()) {
        std::size_t end = relative.find('/', start);
        if (end == std::string_view::npos) end = relative.size();
        const std::string_view segment = relative.substr(start, end - start);
        if (segment == "..") return 404;
        if (!segment.empty() && segment != ".") out /= fs::path(segment);
        start = end + 1;
    }
    return 0;
}

// True when `path` is `root` or below it; both are canonical, so comparing elements is exact
// ("/srv/web2" is not inside "/srv/web").
bool is_inside(const fs::path& root, const fs::path& path) {
    return std::mismatch(root.begin(), root.end(), path.begin(), path.end()).first == root.end();
}

struct OpenedFile {
    UniqueFd fd;
    struct stat st {};
    fs::path path;   // canonical
    int status = 0;  // non-zero: not opened, answer with this status
};

// Resolves `candidate`, checks it is inside `root` (symlinks pointing out give 404) and opens it.
OpenedFile open_inside(const fs::path& root, const fs::path& candidate) {
    OpenedFile file;
    std::error_code ec;
    file.path = fs::canonical(candidate, ec);
    if (ec) {
        file.status = status_for(ec);
        return file;
    }
    if (!is_inside(root, file.path)) {
        file.status = 404;
        return file;
    }
    // O_NONBLOCK: opening a FIFO must not block the event loop waiting for a writer (it is rejected
    // below as not regular). O_NOCTTY: a terminal device never becomes ours. O_NOFOLLOW: the canonical
    // path has no symlink as its last element, so one appearing now is a swap after the check.
    const int fd = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW);
    if (fd < 0) {
        file.status = status_for(std::error_code(errno, std::system_category()));
        return file;
    }
    file.fd = UniqueFd(fd);
    // fstat on the descriptor describes exactly the file we will send, whatever happens to the path.
    if (::fstat(fd, &file.st) != 0) file.status = 500;
    return file;
}

Response with_allow(Response res) {
    res.header("Allow", "GET, HEAD");
    return res;
}

// The whole job; `root` is canonical. `redirect_directories` asks for the 301 to "path/" when a directory
// is requested without its trailing slash (so relative links in its index resolve below it); it is only
// safe where "path/" reaches the same directory again, i.e. for the wildcard route of static_files().
Response serve(const fs::path& root, std::string_view relative, const Request& req, const StaticOptions& options,
               bool redirect_directories) {
    if (req.method() != Method::get && req.method() != Method::head) return with_allow(Response::error(405));

    fs::path candidate = root;
    if (const int status = append_relative(candidate, relative)) return Response::error(status);

    OpenedFile file = open_inside(root, candidate);
    if (file.status != 0) return Response::error(file.status);

    std::string_view type_name = relative;
    if (S_ISDIR(file.st.st_mode)) {
        if (options.index.empty()) return Response::error(404);
        const std::string_view path = req.path();
        // A path starting with "//" or "/\" would turn into a protocol-relative Location: an open redirect.
        const bool safe_location = !path.empty() && path[0] == '/' &&
                                   (path.size() == 1 || (path[1] != '/' && path[1] != '\\'));
        if (redirect_directories && safe_location && !path.ends_with('/')) {
            std::string location(path);
            location += '/';
            if (!req.query_string().empty()) {
                location += '?';
                location += req.query_string();
            }
            return Response::redirect(location, 301);
        }
        OpenedFile index = open_inside(root, file.path / options.index);
        if (index.status != 0) return Response::error(index.status);
        if (!S_ISREG(index.st.st_mode)) return Response::error(404);
        file = std::move(index);
        type_name = options.index;
    } else if (!S_ISREG(file.st.st_mode) || relative.ends_with('/')) {
        // Devices, FIFOs and sockets are never served; "file.txt/" names no directory, so it is missing.
        return Response::error(404);
    }

    const auto size = static_cast<std::uint64_t>(file.st.st_size);
    const std::time_t mtime = file.st.st_mtim.tv_sec;
    const std::time_t now = std::time(nullptr);

    // A strong validator from size and mtime in nanoseconds (strong so that If-Range can use it). The
    // accepted blind spot: a same-size rewrite within one filesystem timestamp tick (a few ms on ext4).
    std::array<char, 48> etag_buf{};
    char* out = etag_buf.data();
    *out++ = '"';
    out = std::to_chars(out, etag_buf.data() + etag_buf.size(), size, 16).ptr;
    *out++ = '-';
    // Unsigned arithmetic: wrapping is harmless in a validator, signed overflow would not be.
    const std::uint64_t mtime_ns = static_cast<std::uint64_t>(file.st.st_mtim.tv_sec) * 1'000'000'000u +
                                   static_cast<std::uint64_t>(file.st.st_mtim.tv_nsec);
    out = std::to_chars(out, etag_buf.data() + etag_buf.size(), mtime_ns, 16).ptr;
    *out++ = '"';
    const std::string_view etag(etag_buf.data(), static_cast<std::size_t>(out - etag_buf.data()));

    // Preconditions in the order of RFC 9110 §13.2.2.
    if (const auto if_match = req.header("If-Match")) {
        if (!etag_list_matches(*if_match, etag, false)) return Response::error(412);
    } else if (const auto ius = req.header("If-Unmodified-Since")) {
        if (const auto date = parse_http_date(*ius, now); date && mtime > *date) return Response::error(412);
    }
    bool not_modified = false;
    if (const auto inm = req.header("If-None-Match")) {
        not_modified = etag_list_matches(*inm, etag, true);
    } else if (const auto ims = req.header("If-Modified-Since")) {
        // A date in the future is invalid (RFC 9110 §13.1.3) and ignored.
        const auto date = parse_http_date(*ims, now);
        not_modified = date && *date <= now && mtime <= *date;
    }
    if (not_modified) {
        // A 304 carries the fields a 200 would have that let caches update (RFC 9110 §15.4.5).
        Response res(304);
        res.header("ETag", etag);
        if (!options.cache_control.empty()) res.header("Cache-Control", options.cache_control);
        return res;
    }

    Response res(200);
    FileBody body{nullptr, 0, size};
    // Range is defined for GET only; HEAD and others ignore it.
    if (req.method() == Method::get) {
        const auto range = req.header("Range");
        if (range && if_range_holds(req.header("If-Range"), etag, mtime, now)) {
            const RangeOutcome outcome = evaluate_range(*range, size);
            if (outcome.kind == RangeKind::unsatisfiable) {
                Response unsatisfiable = Response::error(416);
                unsatisfiable.header("Content-Range", "bytes */" + std::to_string(size));
                return unsatisfiable;
            }
            if (outcome.kind == RangeKind::satisfiable) {
                res.set_status(206);
                res.header("Content-Range", "bytes " + std::to_string(outcome.first) + "-" +
                                                std::to_string(outcome.last) + "/" + std::to_string(size));
                body.offset = outcome.first;
                body.length = outcome.last - outcome.first + 1;
            }
        }
    }

    res.header("Content-Type", content_type_for(type_name));
    res.header("ETag", etag);
    if (const auto last_modified = format_http_date(mtime)) res.header("Last-Modified", *last_modified);
    res.header("Accept-Ranges", "bytes");
    if (!options.cache_control.empty()) res.header("Cache-Control", options.cache_control);
    body.fd = share_fd(std::move(file.fd));
    res.set_file(std::move(body));
    return res;
}

}  // namespace

std::string_view content_type_for(std::string_view filename) noexcept {
    struct Entry {
        std::string_view extension;
        std::string_view type;
    };
    static constexpr std::array<Entry, 32> types = {{
        {"html", "text/html; charset=utf-8"},
        {"htm", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},  // RFC 9239 makes text/javascript the one to use
        {"mjs", "text/javascript; charset=utf-8"},
        {"json", "application/json"},              // JSON is UTF-8 by definition; it has no charset parameter
        {"map", "application/json"},
        {"txt", "text/plain; charset=utf-8"},
        {"csv", "text/csv; charset=utf-8"},
        {"md", "text/markdown; charset=utf-8"},
        {"xml", "application/xml"},                // XML declares its own encoding
        {"svg", "image/svg+xml"},
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},
        {"webp", "image/webp"},
        {"avif", "image/avif"},
        {"ico", "image/x-icon"},
        {"wasm", "application/wasm"},              // needed by WebAssembly.instantiateStreaming
        {"pdf", "application/pdf"},
        {"woff", "font/woff"},
        {"woff2", "font/woff2"},
        {"ttf", "font/ttf"},
        {"otf", "font/otf"},
        {"mp4", "video/mp4"},
        {"webm", "video/webm"},
        {"mp3", "audio/mpeg"},
        {"ogg", "audio/ogg"},
        {"wav", "audio/wav"},
        {"zip", "application/zip"},
        {"gz", "application/gzip"},
    }};
    constexpr std::string_view fallback = "application/octet-stream";

    const std::size_t slash = filename.find_last_of('/');
    if (slash != std::string_view::npos) filename.remove_prefix(slash + 1);
    const std::size_t dot = filename.find_last_of('.');
    // No dot, or only a leading one (".htaccess"): no extension.
    if (dot == std::string_view::npos || dot == 0) return fallback;
    const std::string_view extension = filename.substr(dot + 1);
    std::array<char, 8> lower{};
    if (extension.empty() || extension.size() > lower.size()) return fallback;
    std::transform(extension.begin(), extension.end(), lower.begin(), ascii_lower);
    const std::string_view key(lower.data(), extension.size());
    for (const Entry& e : types)
        if (e.extension == key) return e.type;
    return fallback;
}

Response serve_file(const std::filesystem::path& root, std::string_view relative, const Request& req,
                    const StaticOptions& options) {
    std::error_code ec;
    const fs::path canonical_root = fs::canonical(root, ec);
    if (ec) return Response::error(404);
    return serve(canonical_root, relative, req, options, false);
}

Handler static_files(std::filesystem::path root, StaticOptions options) {
    // The root is resolved once: a missing folder is a setup mistake and should fail loudly at startup.
    std::error_code ec;
    fs::path canonical_root = fs::canonical(root, ec);
    if (ec) throw error(ec, "static_files: cannot resolve root " + root.string());
    if (!fs::is_directory(canonical_root, ec)) throw error("static_files: root is not a directory: " + root.string());
    return [root = std::move(canonical_root), options = std::move(options)](Request& req) {
        const std::string_view relative = req.param("*");
        // The router's parameter is already percent-decoded, and decoding it again would corrupt names
        // containing '%'. A malformed escape is left raw by Request::add_param, so a '%' here is either
        // a decoded "%25" or a malformed request; only the raw path can tell which.
        if (relative.find('%') != std::string_view::npos && !percent_decode(req.path()))
            return Response::error(400, "malformed percent-encoding");
        return serve(root, relative, req, options, true);
    };
}

}  // namespace herald
