#pragma once
// The herald program's subcommands; each registers its options on the CLI11 app.
#include <functional>

#include <CLI/CLI.hpp>

namespace herald::cli {

/// A subcommand's action, run after parsing; returns the process exit code.
using Action = std::function<int()>;

/// `herald serve`: the hub with its demo page.
Action add_serve(CLI::App& app);
/// `herald ws URL`: the WebSocket client.
Action add_ws(CLI::App& app);
/// `herald sse URL`: the Server-Sent Events client.
Action add_sse(CLI::App& app);

}  // namespace herald::cli
