// herald serve: the ready hub. For now: the demo page, health check and a benchmark route.
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <herald/herald.hpp>

#include "commands.hpp"

namespace herald::cli {
namespace {

struct ServeOptions {
    std::vector<std::string> hosts{"0.0.0.0"};
    std::uint16_t port = 8080;
    unsigned threads = 0;
    std::string log_level = "info";
    std::string web_dir;
    bool single_acceptor = false;
    bool access_log = true;
};

std::filesystem::path find_web_dir(const std::string& flag) {
    if (!flag.empty()) return flag;
    if (const char* env = std::getenv("HERALD_WEB_DIR")) return env;
    if (std::filesystem::is_directory(HERALD_SOURCE_WEB_DIR)) return HERALD_SOURCE_WEB_DIR;
    return HERALD_INSTALLED_WEB_DIR;
}

int serve(const ServeOptions& o) {
    set_log_level(o.log_level);
    auto web = find_web_dir(o.web_dir);
    if (!std::filesystem::is_directory(web))
        throw error("the demo page folder '" + web.string() + "' does not exist (use --web DIR)");

    Server server({.threads = o.threads, .reuse_port = !o.single_acceptor, .access_log = o.access_log});
    server.get("/healthz", [](Request&) { return Response::text("ok\n"); });
    // A fixed tiny answer for load tests against peers serving the same body.
    server.get("/hello", [](Request&) { return Response::text("hello"); });
    // Echo for tests, benchmarks and conformance checks: text stays text, binary stays binary.
    // Callback style: replies are queued as frames arrive and leave together in one write per read;
    // the payload moves into the reply, so a large one is written from the buffer it was received in.
    server.ws("/ws/echo", [](WebSocket ws) {
        ws.on_message([](WebSocket& self, Message& message) { self.post(std::move(message)); });
    });
    // Server-Sent Events: every /events stream is listed in the registry (under ?id= or a generated id),
    // and POST /publish sends the request body as one event to all of them.
    auto next_stream = std::make_shared<std::atomic<std::uint64_t>>(0);
    server.get("/events", [next_stream](Request& req) -> Task<Response> {
        auto id = req.query("id").value_or("stream-" + std::to_string(next_stream->fetch_add(1)));
        auto events = co_await req.event_source(id);
        events.ping_policy({.interval = std::chrono::seconds(15)});
        sse::Event hello{.comment = "connected"};  // clients see the stream open at once
        co_await events.send(hello);
        co_await events.keep_alive();
        co_return co_await events.close();
    });
    server.post("/publish", [&server](Request& req) {
        sse::Event event{.event = req.query("event").value_or(""), .data = std::string(req.body())};
        if (!sse::is_valid_event_name(event.event)) return Response::error(400, "invalid event name");
        return Response::text(std::to_string(server.event_sources().broadcast(event)) + "\n");
    });
    server.get("/*", static_files(web));
    for (const auto& host : o.hosts) server.listen(host, o.port);
    server.run();
    return 0;
}

}  // namespace

Action add_serve(CLI::App& app) {
    auto options = std::make_shared<ServeOptions>();
    auto* cmd = app.add_subcommand("serve", "Run the hub: WebSocket and SSE endpoints and the demo page");
    cmd->add_option("--host", options->hosts, "Listening address; repeat for several (0.0.0.0, ::, 127.0.0.1, localhost)")
        ->capture_default_str();
    cmd->add_option("--port", options->port, "Listening port")->capture_default_str();
    cmd->add_option("--threads", options->threads, "Event loops (0: one per CPU)")->capture_default_str();
    cmd->add_option("--log-level", options->log_level, "trace, debug, info, warn, error, critical or off")
        ->capture_default_str()
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
    cmd->add_option("--web", options->web_dir, "Folder of the demo page (default: the bundled one)");
    cmd->add_flag("--single-acceptor", options->single_acceptor,
                  "Accept on one loop and hand connections out, instead of SO_REUSEPORT per loop");
    cmd->add_flag("!--no-access-log", options->access_log, "Do not log a line per request");
    return [options] { return serve(*options); };
}

}  // namespace herald::cli
