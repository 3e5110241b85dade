#include "request_routes.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <herald/herald.hpp>

namespace herald::testing {
namespace {

// How often each payload was processed: exactly once each is what the tests check.
struct Ledger {
    std::mutex mutex;
    std::map<std::string, int> processed;
};

}  // namespace

void add_request_routes(Server& server) {
    auto dedup = std::make_shared<websocket::Deduplicator>();
    auto ledger = std::make_shared<Ledger>();
    server.ws("/ws/requests", [dedup, ledger](WebSocket ws) {
        ws.on_text([dedup, ledger](WebSocket& self, std::string_view text) {
            auto ack = dedup->handle(text, [&ledger](std::string_view payload) {
                std::lock_guard lock(ledger->mutex);
                ++ledger->processed[std::string(payload)];
                return "done " + std::string(payload);
            });
            if (ack) self.post(*ack);
        });
    });
    server.get("/requests/stats", [dedup, ledger](Request&) {
        const auto stats = dedup->stats();
        std::size_t total = 0;
        int most = 0;
        std::size_t distinct = 0;
        {
            std::lock_guard lock(ledger->mutex);
            distinct = ledger->processed.size();
            for (const auto& [payload, n] : ledger->processed) {
                total += static_cast<std::size_t>(n);
                most = std::max(most, n);
            }
        }
        return Response::text("processed " + std::to_string(total) + " distinct " + std::to_string(distinct) +
                              " max_per_payload " + std::to_string(most) + " duplicates " +
                              std::to_string(stats.duplicates) + " expired " + std::to_string(stats.expired) + "\n");
    });
}

}  // namespace herald::testing
