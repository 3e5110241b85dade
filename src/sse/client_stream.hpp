#pragma once
// The connection coroutines of an sse::Client: one attempt (request, redirects, checks), and the life
// of an open client (read a stream, wait the retry delay, reconnect) until it stops for good.
#include <memory>
#include <string>

#include <herald/task.hpp>

#include "sse/client_state.hpp"

namespace herald::sse {

/// How a connection attempt ended.
struct Attempt {
    enum Kind { opened, retry, no_content, fail } kind = fail;  // retry: a network failure, worth another try
    std::string why{};
    int http_status = 0;
};

/// Connects to state->url (following redirects) and checks the answer; when it is an event stream,
/// state->socket, body and body_start hold it. Never throws for network or protocol failures.
Task<Attempt> open_stream(std::shared_ptr<ClientState> state);

/// Reads the open stream, then reconnects as long as the client lives; returns once it stopped for good.
Task<void> run_client(std::shared_ptr<ClientState> state);

}  // namespace herald::sse
