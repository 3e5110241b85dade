#pragma once
// Pure Server-Sent Events encoding (WHATWG HTML §9.2 "Server-sent events", the text/event-stream
// format): events to wire bytes, appended to a caller's buffer. No I/O; the parser is sse/parser.hpp.
//
//     std::string out;
//     herald::sse::encode({.event = "tick", .data = "line 1\nline 2", .id = "42"}, out);
//     // out == "event: tick\nid: 42\ndata: line 1\ndata: line 2\n\n"
//
// Every line the encoder writes ends with a single LF. Multi-line text (data, comments, other field
// values) is split on CRLF, LF and CR, the three line ends the parser accepts, so what a client sees
// has the text's lines joined by LF whichever line end the text used.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace herald::sse {

/// An event to send. Every member is optional (initializers written out so designated initializers
/// naming a few of them stay warning-free); the wire order is comment, event, id, retry, data.
struct Event {
    std::string event{};    ///< event type ("" → the client's "message"); no CR, LF or NUL
    std::string data{};     ///< payload, any bytes; CR, LF and CRLF inside it become separate data lines
    std::string id{};       ///< written when non-empty; sets the client's last event ID; no CR, LF or NUL
    std::optional<std::chrono::milliseconds> retry{};  ///< the client's reconnection delay; not negative
    std::string comment{};  ///< written first as ": line" lines when non-empty; clients ignore it
};

/// True when `name` can be sent as an event type: no CR, LF or NUL. "" is valid (no event field).
bool is_valid_event_name(std::string_view name) noexcept;
/// True when `id` can be sent as an event ID: no CR, LF or NUL (clients ignore an id holding NUL).
bool is_valid_id(std::string_view id) noexcept;
/// True when `name` can start a field line: not empty, no ':', CR, LF or NUL.
bool is_valid_field_name(std::string_view name) noexcept;

/// Whether encode(e) makes a client dispatch an event. A data field is written (and the client fires
/// an event of type `event` or "message" with `data`, possibly empty) unless `data` and `event` are
/// both empty and the Event carries an id, a retry or a comment: such an Event only updates the
/// client's last event ID or reconnection time, or is a keep-alive. So `encode(Event{})` is
/// "data: \n\n", an empty "message" event, and `{.event = "ping"}` does fire a "ping" listener.
bool dispatches(const Event& e) noexcept;

/// Appends exactly one event unit to `out`: the comment lines, "event: ", "id: ", "retry: " when set,
/// the data lines when dispatches(e), then the blank line that ends the event. Throws herald::error,
/// leaving `out` unchanged, when the event type or id holds CR, LF or NUL (they would let the value
/// inject fields or events) or retry is negative.
void encode(const Event& e, std::string& out);
/// The same, as a new string.
std::string encode(const Event& e);

/// Appends a comment: one ": line" per line of `text` ("" gives ": "), with no blank line after it, so
/// it changes nothing at the client whatever surrounds it. The usual keep-alive is encode_comment("").
void encode_comment(std::string_view text, std::string& out);

/// Appends a single field as its own event unit: one "field: line" per line of `value`, then the blank
/// line. For fields Event does not name, or a value Event cannot express (encode_field("id", "") resets
/// the client's last event ID). Throws herald::error when `field` is not a valid field name, or when the
/// field is "event" or "id" and the value holds CR, LF or NUL, or "retry" and the value is not ASCII
/// digits (a client would keep only the last line, or ignore the field).
void encode_field(std::string_view field, std::string_view value, std::string& out);

}  // namespace herald::sse
