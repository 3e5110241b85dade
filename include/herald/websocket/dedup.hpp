#pragma once
// Exactly-once effect over connections that drop (seed 003): a client numbers its requests and resends
// the unanswered ones after reconnecting; the server's Deduplicator processes each number once and
// answers a repeat from its cache. The envelope on the wire is text:
//
//   request  "REQ <client-id> <seq> <payload>"   client-id: 1–64 of [A-Za-z0-9_-]; seq: decimal, from 1
//   answer   "ACK <seq> <answer>"                 the answer of `seq`, the first time and on every repeat
//   expired  "EXPIRED <seq>"                      `seq` was processed but its answer left the window
//
//   Deduplicator dedup;
//   server.ws("/orders", [&dedup](WebSocket ws) {
//       ws.on_text([&dedup](WebSocket& self, std::string_view text) {
//           if (auto ack = dedup.handle(text, [](std::string_view order) { return place(order); }))
//               self.post(*ack);
//       });
//   });
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace herald::websocket {

/// A parsed request envelope; views point into the message.
struct RequestEnvelope {
    std::string_view client;   ///< the client's id
    std::uint64_t seq = 0;     ///< the request's number, unique per client
    std::string_view payload;  ///< the request itself
};

/// A parsed answer envelope; `answer` points into the message.
struct AckEnvelope {
    std::uint64_t seq = 0;
    bool expired = false;      ///< "EXPIRED": processed, answer no longer known
    std::string_view answer;
};

/// "REQ <client> <seq> <payload>"; throws herald::error for an invalid client id or seq 0.
std::string encode_request(std::string_view client, std::uint64_t seq, std::string_view payload);
/// The envelope in `message`, or nullopt when it is not a well-formed request.
std::optional<RequestEnvelope> parse_request(std::string_view message) noexcept;
/// "ACK <seq> <answer>".
std::string encode_ack(std::uint64_t seq, std::string_view answer);
/// "EXPIRED <seq>".
std::string encode_expired(std::uint64_t seq);
/// The envelope in `message`, or nullopt when it is not a well-formed answer.
std::optional<AckEnvelope> parse_ack(std::string_view message) noexcept;
/// True for a usable client id: 1–64 characters of [A-Za-z0-9_-].
bool is_valid_client_id(std::string_view id) noexcept;

/// Bounds of a Deduplicator: memory is at most max_clients × window answers.
struct DeduplicatorOptions {
    std::size_t window = 1024;        ///< answers kept per client (≥ the client's requests in flight)
    std::size_t max_clients = 10'000; ///< clients remembered; the least recently seen is forgotten first
};

/// The server side of exactly-once requests. Thread-safe: one instance may serve every loop.
class Deduplicator {
public:
    struct Stats {
        std::uint64_t processed = 0;   ///< requests processed (process() called)
        std::uint64_t duplicates = 0;  ///< repeats answered from the cache
        std::uint64_t expired = 0;     ///< repeats older than the window
        std::size_t clients = 0;       ///< clients remembered now
    };

    explicit Deduplicator(DeduplicatorOptions options = {});

    /// For a request envelope: the answer envelope to send back — for a new seq, `process(payload)`'s
    /// answer (then cached); for a repeat, the cached one, without processing again; "EXPIRED" for a
    /// repeat older than the window. nullopt when `message` is not a request. process() runs under the
    /// deduplicator's lock, so a repeat arriving meanwhile on another connection waits for its answer.
    std::optional<std::string> handle(std::string_view message, const std::function<std::string(std::string_view)>& process);
    Stats stats() const;

private:
    struct Client {
        std::map<std::uint64_t, std::string> answers;  // the last `window` answers by seq
        std::uint64_t forgotten_below = 1;             // seqs under this were processed and evicted
        std::list<std::string>::iterator recency;
    };

    DeduplicatorOptions options_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Client> clients_;
    std::list<std::string> recency_;  // client ids, most recently seen first
    Stats stats_;
};

}  // namespace herald::websocket
