// herald: the hub server and command-line clients in one program.
#include <cstdio>
#include <exception>

#include <herald/error.hpp>

#include "commands.hpp"

int main(int argc, char** argv) {
    CLI::App app{"herald: a real-time web hub (WebSocket, Server-Sent Events) and its command-line tools"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "herald 0.1.0");
    herald::cli::Action serve = herald::cli::add_serve(app);
    herald::cli::Action ws = herald::cli::add_ws(app);
    herald::cli::Action sse = herald::cli::add_sse(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    try {
        if (app.got_subcommand("serve")) return serve();
        if (app.got_subcommand("ws")) return ws();
        if (app.got_subcommand("sse")) return sse();
    } catch (const herald::error& e) {
        std::fprintf(stderr, "herald: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "herald: unexpected error: %s\n", e.what());
        return 1;
    }
    return 0;
}
