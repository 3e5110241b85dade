#include <herald/websocket/dedup.hpp>

#include <charconv>

#include <herald/error.hpp>

namespace herald::websocket {
namespace {

// A decimal seq ≥ 1 up to the next space (or the end); advances `s` past it and the space.
std::optional<std::uint64_t> take_seq(std::string_view& s, bool space_required) noexcept {
    const auto space = s.find(' ');
    if (space == std::string_view::npos && space_required) return std::nullopt;
    const std::string_view digits = s.substr(0, space);
    std::uint64_t seq = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
    if (digits.empty() || ec != std::errc{} || p != digits.data() + digits.size() || seq == 0 || digits[0] == '0')
        return std::nullopt;
    s.remove_prefix(space == std::string_view::npos ? s.size() : space + 1);
    return seq;
}

}  // namespace

bool is_valid_client_id(std::string_view id) noexcept {
    if (id.empty() || id.size() > 64) return false;
    for (char c : id)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    return true;
}

std::string encode_request(std::string_view client, std::uint64_t seq, std::string_view payload) {
    if (!is_valid_client_id(client)) throw error("invalid request client id '" + std::string(client) + "'");
    if (seq == 0) throw error("request numbers start at 1");
    std::string out = "REQ ";
    out.append(client).append(" ").append(std::to_string(seq)).append(" ").append(payload);
    return out;
}

std::optional<RequestEnvelope> parse_request(std::string_view message) noexcept {
    if (message.substr(0, 4) != "REQ ") return std::nullopt;
    message.remove_prefix(4);
    const auto space = message.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    RequestEnvelope r;
    r.client = message.substr(0, space);
    if (!is_valid_client_id(r.client)) return std::nullopt;
    message.remove_prefix(space + 1);
    auto seq = take_seq(message, true);
    if (!seq) return std::nullopt;
    r.seq = *seq;
    r.payload = message;
    return r;
}

std::string encode_ack(std::uint64_t seq, std::string_view answer) {
    std::string out = "ACK ";
    out.append(std::to_string(seq)).append(" ").append(answer);
    return out;
}

std::string encode_expired(std::uint64_t seq) { return "EXPIRED " + std::to_string(seq); }

std::optional<AckEnvelope> parse_ack(std::string_view message) noexcept {
    AckEnvelope a;
    if (message.substr(0, 4) == "ACK ") {
        message.remove_prefix(4);
        auto seq = take_seq(message, true);
        if (!seq) return std::nullopt;
        a.seq = *seq;
        a.answer = message;
        return a;
    }
    if (message.substr(0, 8) == "EXPIRED ") {
        message.remove_prefix(8);
        if (message.find(' ') != std::string_view::npos) return std::nullopt;
        auto seq = take_seq(message, false);
        if (!seq || !message.empty()) return std::nullopt;
        a.seq = *seq;
        a.expired = true;
        return a;
    }
    return std::nullopt;
}

Deduplicator::Deduplicator(DeduplicatorOptions options) : options_(options) {
    if (options_.window == 0) options_.window = 1;
    if (options_.max_clients == 0) options_.max_clients = 1;
}

std::optional<std::string> Deduplicator::handle(std::string_view message,
                                                const std::function<std::string(std::string_view)>& process) {
    auto request = parse_request(message);
    if (!request) return std::nullopt;
    std::lock_guard lock(mutex_);
    auto [it, added] = clients_.try_emplace(std::string(request->client));
    Client& client = it->second;
    if (added) {
        recency_.push_front(it->first);
        client.recency = recency_.begin();
        if (clients_.size() > options_.max_clients) {
            // Forget the least recently seen client; `it` (the newest) is at the front and stays.
            clients_.erase(recency_.back());
            recency_.pop_back();
        }
    } else {
        recency_.splice(recency_.begin(), recency_, client.recency);
    }
    stats_.clients = clients_.size();

    if (auto cached = client.answers.find(request->seq); cached != client.answers.end()) {
        ++stats_.duplicates;
        return encode_ack(request->seq, cached->second);
    }
    if (request->seq < client.forgotten_below) {
        ++stats_.expired;
        return encode_expired(request->seq);
    }
    std::string answer = process(request->payload);
    ++stats_.processed;
    std::string ack = encode_ack(request->seq, answer);
    client.answers.emplace(request->seq, std::move(answer));
    if (client.answers.size() > options_.window) {
        client.forgotten_below = std::max(client.forgotten_below, client.answers.begin()->first + 1);
        client.answers.erase(client.answers.begin());
    }
    return ack;
}

Deduplicator::Stats Deduplicator::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

}  // namespace herald::websocket
