#pragma once
// Pure, incremental Server-Sent Events parsing: the text/event-stream interpretation of WHATWG HTML
// §9.2.5–9.2.6, what an EventSource does with the bytes it receives. No I/O.
//
//     herald::sse::Parser parser;
//     for each chunk read from the response body:
//         if (!parser.feed(chunk, [](const herald::sse::ParsedEvent& e) { use(e.type, e.data); }))
//             -> an event went over max_event_bytes: drop the connection
//     at the end of the body: parser.end_of_stream();
//     before reconnecting: send Last-Event-ID: parser.last_event_id() (when not empty), wait
//     parser.retry() (or your default), then parser.reset_stream() and feed the new body.
//
// Bytes are bytes: the stream is not UTF-8 decoded (a browser would turn invalid sequences into
// U+FFFD); valid UTF-8 passes through unchanged, and a multi-byte character split between chunks
// needs no care because only CR, LF, ':' and ' ' are special and none occurs inside a UTF-8 sequence.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace herald::sse {

/// A dispatched event, as a browser's MessageEvent would carry it.
struct ParsedEvent {
    std::string type{};           ///< the event field's value, or "message" when it was missing or empty
    std::string data{};           ///< the data lines joined with LF
    std::string last_event_id{};  ///< the last event ID at dispatch (it persists across events)
    bool operator==(const ParsedEvent&) const = default;
};

/// Parses one event stream, fed in chunks split anywhere; the result never depends on the split.
///
/// Rules (WHATWG HTML §9.2.5–9.2.6): one UTF-8 BOM at the very start is skipped; a line ends at CRLF,
/// LF or CR (a CR ending one chunk and an LF starting the next are one line end); a line starting with
/// ':' is a comment; otherwise the field name is what precedes the first ':' (the whole line when there
/// is none) and the value what follows it, less one leading space. "event" sets the type, "data"
/// appends value + LF to the data, "id" sets the last event ID buffer unless the value holds NUL,
/// "retry" sets the reconnection time when the value is all ASCII digits (an empty value, or one past
/// the range of milliseconds, is ignored like any invalid one); other fields are ignored. A
/// blank line dispatches: the last event ID buffer becomes last_event_id(); then, if there is data, an
/// event is delivered with one trailing LF removed from it; type and data are cleared either way.
class Parser {
public:
    /// `max_event_bytes` bounds memory: the buffered data and type of the event in progress plus the
    /// current line may not exceed it (a line may be at most that long), or feed() fails.
    explicit Parser(std::size_t max_event_bytes = 1 << 20);

    /// Parses `chunk`, calling on_event for every event dispatched in it, in order; the event is valid
    /// during the call only (its buffers are reused). Returns false once an event or line went over the
    /// limit, and from then on ignores input until reset_stream(); the events before that point are
    /// delivered. on_event must not call into this parser. If it throws, the exception propagates and
    /// the parser goes on as if the chunk had ended after that event.
    bool feed(std::string_view chunk, const std::function<void(const ParsedEvent&)>& on_event);

    /// The stream ended: an event without its final blank line is discarded, with the line in progress
    /// and any id it carried (the spec's "pending data"). A retry it carried stays, as in a browser.
    void end_of_stream();

    /// Prepares for a new stream on a new connection, as EventSource's reconnection does: discards
    /// what end_of_stream() discards, clears the failed state, and looks for a BOM again. last_event_id()
    /// and retry() are kept, and the new stream's last event ID buffer starts from last_event_id(), as
    /// Chromium seeds each new parser (the spec's fresh, empty buffer would blank the ID at the first
    /// blank line of a stream that sends no id, and with it the next reconnection's Last-Event-ID).
    void reset_stream();

    /// Seeds the last event ID, as a client resuming from a stored ID does (call before a stream, or
    /// between streams); it lasts until the stream sets another one.
    void set_last_event_id(std::string id) {
        id_buffer_ = id;
        last_event_id_ = std::move(id);
    }
    /// The last event ID string: the id in force at the last blank line (send it as Last-Event-ID).
    const std::string& last_event_id() const noexcept { return last_event_id_; }
    /// The reconnection time the server asked for with the last valid retry field, if any.
    std::optional<std::chrono::milliseconds> retry() const noexcept { return retry_; }
    /// True after feed() returned false, until reset_stream().
    bool failed() const noexcept { return failed_; }
    std::size_t max_event_bytes() const noexcept { return max_event_bytes_; }

private:
    // Interprets one complete, non-empty line (without its line end).
    void process_line(std::string_view line);
    // The blank line: commits the last event ID and delivers the event, if it has data.
    void dispatch(const std::function<void(const ParsedEvent&)>& on_event);
    bool fail() noexcept;
    void discard_pending();

    std::size_t max_event_bytes_;
    std::string line_;            // the start of a line whose end has not arrived yet
    std::string data_;            // the data buffer
    std::string type_;            // the event type buffer
    std::string id_buffer_;       // the last event ID buffer: set by id fields
    std::string last_event_id_;   // the last event ID string: id_buffer_ at the last blank line
    ParsedEvent event_;           // reused for each dispatch, so steady-state parsing does not allocate
    std::optional<std::chrono::milliseconds> retry_;
    std::uint8_t bom_matched_ = 0;  // BOM bytes seen at the start of the stream, while bom_pending_
    bool bom_pending_ = true;       // the start of the stream has not been decided yet
    bool skip_lf_ = false;          // the last line ended with a CR: an LF right after it belongs to it
    bool failed_ = false;
};

}  // namespace herald::sse
