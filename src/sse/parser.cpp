// Server-Sent Events parsing (WHATWG HTML §9.2.5 "Parsing an event stream", §9.2.6 "Interpreting an
// event stream").
#include <herald/sse/parser.hpp>

#include <cstring>
#include <limits>

namespace herald::sse {
namespace {

constexpr char bom[3] = {'\xEF', '\xBB', '\xBF'};  // U+FEFF in UTF-8

// "If the field value consists of only ASCII digits, then interpret the field value as an integer in
// base ten". An empty value has no integer to interpret, and a value too large for milliseconds can
// not be honoured; both are ignored like any other invalid value (Chromium does the same).
std::optional<std::chrono::milliseconds> parse_retry(std::string_view value) noexcept {
    if (value.empty()) return std::nullopt;
    using Rep = std::chrono::milliseconds::rep;
    constexpr Rep max = std::numeric_limits<Rep>::max();
    Rep n = 0;
    for (char c : value) {
        if (c < '0' || c > '9') return std::nullopt;
        const Rep digit = c - '0';
        if (n > (max - digit) / 10) return std::nullopt;
        n = n * 10 + digit;
    }
    return std::chrono::milliseconds(n);
}

}  // namespace

Parser::Parser(std::size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}

bool Parser::fail() noexcept {
    failed_ = true;
    // Release what the rejected event held: a failed parser keeps no large buffers alive.
    std::string().swap(line_);
    std::string().swap(data_);
    std::string().swap(type_);
    return false;
}

bool Parser::feed(std::string_view chunk, const std::function<void(const ParsedEvent&)>& on_event) {
    if (failed_) return false;
    const char* p = chunk.data();
    const char* const end = p + chunk.size();

    // One BOM at the start of the stream is skipped, however it is split. Bytes that turn out not to be
    // one start the first line.
    while (bom_pending_ && p != end) {
        if (*p == bom[bom_matched_]) {
            ++p;
            if (++bom_matched_ == sizeof bom) bom_pending_ = false;
        } else {
            bom_pending_ = false;
            line_.assign(bom, bom_matched_);
            if (line_.size() > max_event_bytes_) return fail();
        }
    }

    if (skip_lf_ && p != end) {
        skip_lf_ = false;
        if (*p == '\n') ++p;
    }

    // The next CR at or after p, found once per chunk rather than once per line: most streams use LF
    // only, and then one memchr over the chunk settles it.
    const char* next_cr = p;
    bool cr_known = false;
    while (p != end) {
        const auto left = static_cast<std::size_t>(end - p);
        if (!cr_known || next_cr < p) {
            next_cr = static_cast<const char*>(std::memchr(p, '\r', left));
            if (next_cr == nullptr) next_cr = end;
            cr_known = true;
        }
        const auto scan = static_cast<std::size_t>(next_cr - p);
        const char* eol = static_cast<const char*>(std::memchr(p, '\n', scan));
        if (eol == nullptr) eol = next_cr;
        const auto length = static_cast<std::size_t>(eol - p);

        // The limit covers the event in progress and the line being read, so it is checked on the
        // same bytes whether the line arrives whole or in pieces.
        const std::size_t held = data_.size() + type_.size() + line_.size();
        if (held > max_event_bytes_ || length > max_event_bytes_ - held) return fail();

        if (eol == end) {  // the line continues in the next chunk
            line_.append(p, length);
            break;
        }
        std::string_view line(p, length);
        if (!line_.empty()) {
            line_.append(p, length);
            line = line_;
        }
        p = eol + 1;
        if (*eol == '\r') {
            if (p == end) skip_lf_ = true;
            else if (*p == '\n') ++p;
        }
        if (line.empty()) {
            line_.clear();
            dispatch(on_event);  // the state is consistent first, in case on_event throws
        } else {
            process_line(line);
            line_.clear();
        }
    }
    return true;
}

// The limit needs no check here: a data line adds at most its length minus three ("data" without a
// colon adds one LF) and an event line replaces the type with less than its length, so the event
// stays within the bound the line was checked against.
void Parser::process_line(std::string_view line) {
    if (line.front() == ':') return;  // a comment

    std::string_view field = line;
    std::string_view value;
    if (const auto colon = line.find(':'); colon != std::string_view::npos) {
        field = line.substr(0, colon);
        value = line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }

    if (field == "data") {
        data_.append(value);
        data_.push_back('\n');
    } else if (field == "event") {
        type_.assign(value);
    } else if (field == "id") {
        if (value.find('\0') == std::string_view::npos) id_buffer_.assign(value);
    } else if (field == "retry") {
        if (auto r = parse_retry(value)) retry_ = r;
    }
}

void Parser::dispatch(const std::function<void(const ParsedEvent&)>& on_event) {
    last_event_id_ = id_buffer_;
    if (data_.empty()) {
        type_.clear();
        return;
    }
    data_.pop_back();  // data lines always end with the LF appended after them
    event_.type.assign(type_.empty() ? std::string_view("message") : std::string_view(type_));
    event_.data.swap(data_);  // the previous event's buffer comes back as the next data buffer
    event_.last_event_id.assign(last_event_id_);
    data_.clear();
    type_.clear();
    if (on_event) on_event(event_);
}

void Parser::discard_pending() {
    line_.clear();
    data_.clear();
    type_.clear();
    // An id in the discarded event never reached a blank line, so it never became the last event ID.
    id_buffer_ = last_event_id_;
}

void Parser::end_of_stream() {
    discard_pending();
    skip_lf_ = false;
}

void Parser::reset_stream() {
    discard_pending();
    skip_lf_ = false;
    bom_pending_ = true;
    bom_matched_ = 0;
    failed_ = false;
}

}  // namespace herald::sse
