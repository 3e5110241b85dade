// The one-screen server: a route, a group with middleware, static files; stops on Ctrl-C.
#include <herald/herald.hpp>

using namespace herald;

int main() {
    Server server;  // one event loop per core
    server.get("/", [](Request&) { return Response::text("hello"); });
    server.get("/rooms/{id}", [](Request& req) { return Response::text("room " + std::string(req.param("id"))); });

    auto admin = server.group("/admin");
    admin.use([](Request& req, Next next) -> Task<Response> {
        if (req.header("Authorization") != "Bearer secret") co_return Response::error(401);
        co_return co_await next();
    });
    admin.get("/stats", [](Request&) { return Response::json(R"({"rooms":1})"); });

    server.listen(8080);  // throws herald::error if the port is taken
    server.run();         // until SIGINT/SIGTERM, then a graceful stop
}
