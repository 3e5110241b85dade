#pragma once
// Routes of the test server that exercise Server-Sent Events (tests/integration/test_sse*.py and
// sse_chromium.test.mjs): the wire format, headers, Last-Event-ID, 204, append_header's limit,
// wait_for_fail, keep_alive, the registry, ping policies, the backlog limit and the blocking style.
#include <herald/herald.hpp>

namespace herald::testing {

/// Adds every /sse/* route (see sse_routes.cpp for what each does).
void add_sse_routes(Server& server);

}  // namespace herald::testing
