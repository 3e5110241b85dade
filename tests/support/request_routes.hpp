#pragma once
// Routes of the test server for exactly-once requests (Deduplicator, seed 003).
#include <herald/server.hpp>

namespace herald::testing {

/// /ws/requests: request envelopes answered through one Deduplicator ("done <payload>");
/// GET /requests/stats: "processed P distinct D max_per_payload M duplicates K expired E".
void add_request_routes(Server& server);

}  // namespace herald::testing
