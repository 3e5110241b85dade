// Server-Sent Events encoding (WHATWG HTML §9.2.5, the event stream format).
#include <herald/sse/event.hpp>

#include <herald/error.hpp>

#include <algorithm>
#include <charconv>

namespace herald::sse {
namespace {

// No CR, LF or NUL: a value that ends up on one line of the stream.
bool is_single_line(std::string_view s) noexcept {
    return std::none_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

// Appends "name: line" + LF for each line of `text`, split on CRLF, LF and CR; an empty name makes
// comment lines. A line end at the very end of `text` is followed by an empty last line, so "a\n"
// arrives as "a\n" again.
void append_lines(std::string_view name, std::string_view text, std::string& out) {
    const char* p = text.data();
    const char* const end = p + text.size();
    for (;;) {
        const char* eol = p;
        while (eol != end && *eol != '\n' && *eol != '\r') ++eol;
        out.append(name);
        out.append(": ");
        out.append(p, static_cast<std::size_t>(eol - p));
        out.push_back('\n');
        if (eol == end) return;
        p = eol + 1;
        if (*eol == '\r' && p != end && *p == '\n') ++p;
    }
}

void append_field(std::string_view name, std::string_view value, std::string& out) {
    out.append(name);
    out.append(": ");
    out.append(value);
    out.push_back('\n');
}

bool is_ascii_digits(std::string_view s) noexcept {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

bool is_valid_event_name(std::string_view name) noexcept { return is_single_line(name); }

bool is_valid_id(std::string_view id) noexcept { return is_single_line(id); }

bool is_valid_field_name(std::string_view name) noexcept {
    return !name.empty() && is_single_line(name) && name.find(':') == std::string_view::npos;
}

bool dispatches(const Event& e) noexcept {
    return !e.data.empty() || !e.event.empty() || (e.id.empty() && !e.retry && e.comment.empty());
}

void encode(const Event& e, std::string& out) {
    // Validate everything before writing, so a rejected event leaves `out` as it was.
    if (!is_valid_event_name(e.event))
        throw herald::error("herald::sse::encode: the event type must not contain CR, LF or NUL");
    if (!is_valid_id(e.id)) throw herald::error("herald::sse::encode: the event id must not contain CR, LF or NUL");
    if (e.retry && e.retry->count() < 0) throw herald::error("herald::sse::encode: retry must not be negative");

    if (!e.comment.empty()) append_lines("", e.comment, out);
    if (!e.event.empty()) append_field("event", e.event, out);
    if (!e.id.empty()) append_field("id", e.id, out);
    if (e.retry) {
        char digits[24];
        const auto r = std::to_chars(digits, digits + sizeof digits, e.retry->count());
        append_field("retry", std::string_view(digits, static_cast<std::size_t>(r.ptr - digits)), out);
    }
    if (dispatches(e)) append_lines("data", e.data, out);
    out.push_back('\n');
}

std::string encode(const Event& e) {
    std::string out;
    encode(e, out);
    return out;
}

void encode_comment(std::string_view text, std::string& out) { append_lines("", text, out); }

void encode_field(std::string_view field, std::string_view value, std::string& out) {
    if (!is_valid_field_name(field))
        throw herald::error("herald::sse::encode_field: a field name must be non-empty, without ':', CR, LF or NUL");
    if ((field == "event" || field == "id") && !is_single_line(value))
        throw herald::error("herald::sse::encode_field: an event or id value must not contain CR, LF or NUL");
    if (field == "retry" && !is_ascii_digits(value))
        throw herald::error("herald::sse::encode_field: a retry value must be ASCII digits");
    append_lines(field, value, out);
    out.push_back('\n');
}

}  // namespace herald::sse
