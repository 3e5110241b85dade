#pragma once
// Routing: methods, static segments, {parameters}, a trailing wildcard, groups with middleware.
//
//   Router router;
//   router.get("/rooms/{id}", [](Request& req) { return Response::text(std::string(req.param("id"))); });
//   auto api = router.group("/api");
//   api.use([](Request& req, Next next) -> Task<Response> {
//       if (!req.header("Authorization")) co_return Response::error(401);
//       co_return co_await next();
//   });
//   api.post("/publish", [](Request& req) -> Task<Response> { co_return Response::text("ok"); });
#include <concepts>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <herald/http/method.hpp>
#include <herald/http/request.hpp>
#include <herald/http/response.hpp>
#include <herald/task.hpp>
#include <herald/websocket/websocket.hpp>

namespace herald {

class Next;

/// Middleware sees the request first and either answers itself or awaits `next()` for the rest of the chain.
using Middleware = std::function<Task<Response>(Request&, Next)>;

/// A route handler: a coroutine `Task<Response>(Request&)` or a plain function `Response(Request&)`.
/// Plain functions run inline on the event loop (the fast path); they must not block.
class Handler {
public:
    Handler() = default;
    template <class F>
        requires std::invocable<F&, Request&> &&
                 (std::same_as<std::invoke_result_t<F&, Request&>, Response> ||
                  std::same_as<std::invoke_result_t<F&, Request&>, Task<Response>>)
    Handler(F f) {  // NOLINT(google-explicit-constructor): lambdas convert implicitly by design
        if constexpr (std::same_as<std::invoke_result_t<F&, Request&>, Response>)
            sync_ = std::move(f);
        else
            async_ = std::move(f);
    }

    /// True for plain functions.
    bool is_sync() const noexcept { return static_cast<bool>(sync_); }
    explicit operator bool() const noexcept { return sync_ || async_; }
    /// Calls a plain-function handler (precondition: is_sync()).
    Response call_sync(Request& req) const { return sync_(req); }
    /// Runs the handler of either kind as a coroutine.
    Task<Response> call(Request& req) const;

private:
    std::function<Response(Request&)> sync_;
    std::function<Task<Response>(Request&)> async_;
};

/// The rest of a middleware chain; calling it runs the next middleware or, last, the handler.
class Next {
public:
    Next(std::span<const Middleware> rest, const Handler& handler, Request& req) noexcept
        : rest_(rest), handler_(&handler), req_(&req) {}
    /// Runs the remainder of the chain and returns its response.
    Task<Response> operator()() const;

private:
    std::span<const Middleware> rest_;
    const Handler* handler_;
    Request* req_;
};

/// A route as a value, for `router += Route{Method::get, "/", handler}`.
struct Route {
    std::optional<Method> method;    ///< nullopt: any method
    std::string path;                ///< "/static", "/rooms/{id}", "/files/*"
    Handler handler;
    std::size_t max_body_bytes = 0;  ///< request body limit for this route; 0: the server's default
    bool blocking = false;           ///< run a plain-function handler on the server's worker pool, where it
                                     ///< may block (Sisk's synchronous style, e.g. SyncWebSocket)
};

/// A route found for a request, with everything needed to run it.
struct RouteMatch {
    const Handler* handler = nullptr;             ///< nullptr when no route matched
    std::span<const Middleware> middleware;       ///< outermost first
    std::size_t max_body_bytes = 0;               ///< 0: the server's default
    bool blocking = false;                        ///< run on the worker pool
    int status = 0;                               ///< 404 or 405 when handler is nullptr
    std::string allow;                            ///< the Allow value for a 405
    std::vector<std::pair<std::string_view, std::string_view>> params;  ///< names → raw values (views into path)

    /// True when the route can run inline: a plain-function handler and no middleware.
    bool is_sync() const noexcept { return handler && handler->is_sync() && middleware.empty() && !blocking; }
    /// Runs middleware and handler as one coroutine.
    Task<Response> run(Request& req) const;
};

class Router;

/// Routes under a common path prefix sharing middleware. Middleware added with use() applies to every
/// route of the group and of groups nested in it, outer groups first, in the order of use().
class RouteGroup {
public:
    RouteGroup& use(Middleware middleware);
    RouteGroup& get(std::string_view path, Handler handler);
    RouteGroup& post(std::string_view path, Handler handler);
    RouteGroup& put(std::string_view path, Handler handler);
    RouteGroup& patch(std::string_view path, Handler handler);
    RouteGroup& del(std::string_view path, Handler handler);
    RouteGroup& options(std::string_view path, Handler handler);
    RouteGroup& head(std::string_view path, Handler handler);
    /// A route for every method.
    RouteGroup& any(std::string_view path, Handler handler);
    /// A WebSocket route behind this group's middleware (server defaults, or the given options).
    RouteGroup& ws(std::string_view path, WebSocketHandler handler);
    RouteGroup& ws(std::string_view path, WebSocketHandler handler, WebSocketOptions options);
    /// Adds a route value; its path is relative to the group's prefix.
    RouteGroup& add(Route route);
    RouteGroup& operator+=(Route route) { return add(std::move(route)); }
    /// A nested group under prefix() + `prefix`.
    RouteGroup group(std::string_view prefix);
    const std::string& prefix() const noexcept { return prefix_; }

private:
    friend class Router;
    struct Node;
    RouteGroup(Router* router, std::string prefix, std::shared_ptr<Node> node)
        : router_(router), prefix_(std::move(prefix)), node_(std::move(node)) {}
    Router* router_;
    std::string prefix_;
    std::shared_ptr<Node> node_;
};

/// Maps (method, path) to handlers. Precedence per segment: static, then {parameter}, then wildcard.
/// Unknown paths give 404; known paths without the method give 405 with Allow; HEAD falls back to GET.
/// Register routes before the server starts; matching is then read-only and thread-safe.
class Router {
public:
    Router();
    Router(Router&&) noexcept;
    Router& operator=(Router&&) noexcept;
    ~Router();

    /// Middleware for every route.
    Router& use(Middleware middleware);
    Router& get(std::string_view path, Handler handler);
    Router& post(std::string_view path, Handler handler);
    Router& put(std::string_view path, Handler handler);
    Router& patch(std::string_view path, Handler handler);
    Router& del(std::string_view path, Handler handler);
    Router& options(std::string_view path, Handler handler);
    Router& head(std::string_view path, Handler handler);
    Router& any(std::string_view path, Handler handler);
    /// A GET route whose plain-function handler runs on the worker pool and may block.
    Router& get_blocking(std::string_view path, std::function<Response(Request&)> handler);
    /// A WebSocket route (Vapor's app.webSocket): GET with the upgrade handshake, then `handler`, with the
    /// server's default options (ServerOptions::websocket) or the given ones. Middleware of the router runs
    /// before the upgrade; a refused handshake answers 400/403/426.
    Router& ws(std::string_view path, WebSocketHandler handler);
    Router& ws(std::string_view path, WebSocketHandler handler, WebSocketOptions options);
    /// Adds a route value. Throws herald::error on a malformed pattern or a duplicate (method, pattern).
    Router& add(Route route);
    Router& operator+=(Route route) { return add(std::move(route)); }
    /// A group of routes under `prefix` ("/api"), with its own middleware.
    RouteGroup group(std::string_view prefix);

    /// Finds the route for a request; `out.params` is cleared and refilled (its capacity is reused).
    void match(Method method, std::string_view path, RouteMatch& out) const;

private:
    friend class RouteGroup;
    void add_in_group(const RouteGroup& group, Route route);
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::unique_ptr<RouteGroup> root_;
};

}  // namespace herald
