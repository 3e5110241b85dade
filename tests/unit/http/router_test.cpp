#include <herald/http/router.hpp>

#include <future>
#include <stdexcept>
#include <string>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <gtest/gtest.h>

#include <herald/error.hpp>

namespace herald {
namespace {

using Params = std::vector<std::pair<std::string_view, std::string_view>>;

// A plain handler answering with `name`, so a test can tell which route ran.
Handler named(std::string name) {
    return [name](Request&) { return Response::text(name); };
}

RouteMatch find(const Router& router, Method method, std::string_view path) {
    RouteMatch match;
    router.match(method, path, match);
    return match;
}

// Runs a matched route to completion on a private io_context.
Response run(const RouteMatch& match, Request& req) {
    asio::io_context ctx;
    std::future<Response> result = asio::co_spawn(ctx, match.run(req), asio::use_future);
    ctx.run();
    return result.get();
}

Response run(const RouteMatch& match) {
    Request req;
    return run(match, req);
}

// Which route answered: the body of the named() handler.
std::string body_of(const Response& response) {
    const std::string* text = response.body_text();
    return text ? *text : std::string("<not text>");
}

std::string route_of(const Router& router, Method method, std::string_view path) {
    RouteMatch match = find(router, method, path);
    if (!match.handler) return std::to_string(match.status);
    return body_of(run(match));
}

// ---- matching ----

TEST(Router, RootAndTrailingSlashAreDistinct) {
    Router router;
    router.get("/", named("root")).get("/a", named("a")).get("/a/", named("a/"));
    EXPECT_EQ(route_of(router, Method::get, "/"), "root");
    EXPECT_EQ(route_of(router, Method::get, "/a"), "a");
    EXPECT_EQ(route_of(router, Method::get, "/a/"), "a/");
    EXPECT_EQ(route_of(router, Method::get, "/a//"), "404");
    EXPECT_EQ(route_of(router, Method::get, "//"), "404");
}

TEST(Router, StaticBeatsParameterBeatsWildcard) {
    Router router;
    router.get("/a/*", named("wild")).get("/a/{x}", named("param")).get("/a/b", named("static"));
    EXPECT_EQ(route_of(router, Method::get, "/a/b"), "static");
    EXPECT_EQ(route_of(router, Method::get, "/a/c"), "param");
    EXPECT_EQ(route_of(router, Method::get, "/a/c/d"), "wild");
    // A parameter never matches an empty segment, so "/a/" falls to the wildcard.
    EXPECT_EQ(route_of(router, Method::get, "/a/"), "wild");
    EXPECT_EQ(route_of(router, Method::get, "/a"), "404");
}

TEST(Router, BacktracksFromStaticToParameter) {
    Router router;
    router.get("/a/{x}/c", named("param")).get("/a/b/d", named("static"));
    RouteMatch match = find(router, Method::get, "/a/b/c");
    ASSERT_NE(match.handler, nullptr);
    EXPECT_EQ(body_of(run(match)), "param");
    EXPECT_EQ(match.params, (Params{{"x", "b"}}));
    EXPECT_EQ(route_of(router, Method::get, "/a/b/d"), "static");
    EXPECT_EQ(route_of(router, Method::get, "/a/z/d"), "404");
}

TEST(Router, BacktracksFromParameterToWildcard) {
    Router router;
    router.get("/a/{x}/c", named("param")).get("/a/*", named("wild"));
    RouteMatch match = find(router, Method::get, "/a/b/d");
    EXPECT_EQ(body_of(run(match)), "wild");
    EXPECT_EQ(match.params, (Params{{"*", "b/d"}}));  // the abandoned {x} capture is gone
}

TEST(Router, BacktracksWhenTheMethodIsMissing) {
    Router router;
    router.get("/a/{x}", named("get-param")).post("/a/b", named("post-static"));
    EXPECT_EQ(route_of(router, Method::get, "/a/b"), "get-param");
    EXPECT_EQ(route_of(router, Method::post, "/a/b"), "post-static");
    // Allow lists every method that some route accepts for this path.
    RouteMatch match = find(router, Method::delete_, "/a/b");
    EXPECT_EQ(match.status, 405);
    EXPECT_EQ(match.allow, "GET, HEAD, POST");
}

TEST(Router, SeveralAdjacentParameters) {
    Router router;
    router.get("/rooms/{room}/{user}/{msg_id}", named("msg"));
    RouteMatch match = find(router, Method::get, "/rooms/lobby/ann/42");
    ASSERT_NE(match.handler, nullptr);
    EXPECT_EQ(match.params, (Params{{"room", "lobby"}, {"user", "ann"}, {"msg_id", "42"}}));
    EXPECT_EQ(route_of(router, Method::get, "/rooms/lobby/ann"), "404");
    EXPECT_EQ(route_of(router, Method::get, "/rooms/lobby//42"), "404");
    EXPECT_EQ(route_of(router, Method::get, "/rooms/lobby/ann/42/"), "404");
}

TEST(Router, ParameterNamesBelongToEachRoute) {
    Router router;
    router.get("/a/{x}", named("get")).post("/a/{y}", named("post"));
    EXPECT_EQ(find(router, Method::get, "/a/1").params, (Params{{"x", "1"}}));
    EXPECT_EQ(find(router, Method::post, "/a/1").params, (Params{{"y", "1"}}));
}

TEST(Router, ParametersAreRawViewsDecodedByTheRequest) {
    Router router;
    router.get("/rooms/{id}", [](Request& req) { return Response::text(std::string(req.param("id"))); });
    const std::string path = "/rooms/a%20b";
    RouteMatch match = find(router, Method::get, path);
    ASSERT_EQ(match.params.size(), 1U);
    EXPECT_EQ(match.params[0].second, "a%20b");
    EXPECT_EQ(match.params[0].second.data(), path.data() + 7);  // a view into the path, not a copy

    Request req;
    for (const auto& [name, value] : match.params) req.add_param(name, value);
    EXPECT_EQ(body_of(run(match, req)), "a b");
}

TEST(Router, MatchesTheRawPath) {
    Router router;
    router.get("/a%2Fb", named("encoded"));
    EXPECT_EQ(route_of(router, Method::get, "/a%2Fb"), "encoded");
    EXPECT_EQ(route_of(router, Method::get, "/a/b"), "404");
}

TEST(Router, WildcardCapturesTheRest) {
    Router router;
    router.get("/files/*", named("files")).get("/*", named("all")).get("/u/{id}/*", named("user"));
    EXPECT_EQ(find(router, Method::get, "/files/").params, (Params{{"*", ""}}));
    EXPECT_EQ(find(router, Method::get, "/files/a").params, (Params{{"*", "a"}}));
    EXPECT_EQ(find(router, Method::get, "/files/a/b/c.txt").params, (Params{{"*", "a/b/c.txt"}}));
    EXPECT_EQ(find(router, Method::get, "/files/a//b/").params, (Params{{"*", "a//b/"}}));
    EXPECT_EQ(find(router, Method::get, "/u/7/x/y").params, (Params{{"id", "7"}, {"*", "x/y"}}));
    // "/files" has no segment after "files/", so the root wildcard takes it.
    EXPECT_EQ(route_of(router, Method::get, "/files"), "all");
    EXPECT_EQ(find(router, Method::get, "/files").params, (Params{{"*", "files"}}));
    EXPECT_EQ(find(router, Method::get, "/").params, (Params{{"*", ""}}));
}

TEST(Router, UnknownPathsAre404) {
    Router router;
    router.get("/a", named("a")).get("/b/{x}", named("b"));
    for (std::string_view path : {"/", "/c", "/a/b", "/b", "/b/", "", "a", "*"}) {
        RouteMatch match = find(router, Method::get, path);
        EXPECT_EQ(match.handler, nullptr) << path;
        EXPECT_EQ(match.status, 404) << path;
        EXPECT_TRUE(match.allow.empty()) << path;
    }
    Router empty;
    EXPECT_EQ(find(empty, Method::get, "/").status, 404);
}

TEST(Router, WrongMethodIs405WithExactAllow) {
    Router router;
    router.post("/x", named("post")).options("/x", named("options")).get("/x", named("get"));
    router.put("/y", named("put")).del("/y", named("delete")).patch("/y", named("patch"));
    router.head("/z", named("head"));

    RouteMatch match = find(router, Method::delete_, "/x");
    EXPECT_EQ(match.handler, nullptr);
    EXPECT_EQ(match.status, 405);
    EXPECT_EQ(match.allow, "GET, HEAD, POST, OPTIONS");
    EXPECT_EQ(find(router, Method::get, "/y").allow, "PUT, PATCH, DELETE");
    EXPECT_EQ(find(router, Method::get, "/z").allow, "HEAD");
    EXPECT_EQ(find(router, Method::other, "/z").status, 405);

    // Running an unmatched route answers the error itself.
    Response response = run(match);
    EXPECT_EQ(response.status(), 405);
    EXPECT_EQ(response.headers().get("Allow"), "GET, HEAD, POST, OPTIONS");
    EXPECT_EQ(run(find(router, Method::get, "/nope")).status(), 404);
}

TEST(Router, HeadFallsBackToGet) {
    Router router;
    router.get("/page", named("get")).get("/both", named("get")).head("/both", named("head"));
    EXPECT_EQ(route_of(router, Method::head, "/page"), "get");
    EXPECT_EQ(route_of(router, Method::head, "/both"), "head");
    EXPECT_EQ(route_of(router, Method::get, "/both"), "get");
    EXPECT_EQ(find(router, Method::post, "/page").allow, "GET, HEAD");
}

TEST(Router, AnyMatchesEveryMethodButSpecificRoutesWin) {
    Router router;
    router.any("/hook", named("any")).get("/hook", named("get"));
    for (Method m : {Method::post, Method::put, Method::delete_, Method::options, Method::other})
        EXPECT_EQ(route_of(router, m, "/hook"), "any");
    EXPECT_EQ(route_of(router, Method::get, "/hook"), "get");
    EXPECT_EQ(route_of(router, Method::head, "/hook"), "get");  // HEAD is GET without a body

    router.any("/only-any", named("any"));
    EXPECT_EQ(route_of(router, Method::head, "/only-any"), "any");
}

TEST(Router, RouteValuesCanBeAdded) {
    Router router;
    router += Route{Method::get, "/x", named("x")};
    router += Route{std::nullopt, "/upload", named("upload"), 4096};
    RouteMatch match = find(router, Method::get, "/x");
    EXPECT_EQ(body_of(run(match)), "x");
    EXPECT_EQ(match.max_body_bytes, 0U);
    match = find(router, Method::put, "/upload");
    EXPECT_EQ(body_of(run(match)), "upload");
    EXPECT_EQ(match.max_body_bytes, 4096U);
}

TEST(Router, MatchResetsAReusedResult) {
    Router router;
    router.get("/a/{x}", named("a"));
    RouteMatch match;
    router.match(Method::get, "/a/1", match);
    ASSERT_EQ(match.params.size(), 1U);
    router.match(Method::post, "/a/1", match);
    EXPECT_EQ(match.status, 405);
    EXPECT_TRUE(match.params.empty());
    router.match(Method::get, "/nope", match);
    EXPECT_EQ(match.status, 404);
    EXPECT_TRUE(match.allow.empty());
    router.match(Method::get, "/a/2", match);
    EXPECT_EQ(match.status, 0);
    EXPECT_NE(match.handler, nullptr);
    EXPECT_EQ(match.params, (Params{{"x", "2"}}));
}

// ---- registration errors ----

TEST(Router, MalformedPatternsThrow) {
    for (std::string_view pattern : {"a", "*", "{x}", "/a/{", "/a/{x", "/a/{}", "/a/x}", "/a/{x}y", "/a/y{x}",
                                     "/{a-b}", "/{a b}", "/{{x}}", "/a/*/b", "/a/b*", "/*x", "/a/{x}/{x}",
                                     "/{x}/*/{x}", "/a?b", "/a#b"}) {
        Router router;
        EXPECT_THROW(router.get(pattern, named("x")), error) << pattern;
    }
    Router router;
    EXPECT_THROW(router.get("/a", Handler{}), error);
    EXPECT_THROW(router.add(Route{Method::other, "/a", named("x")}), error);
    EXPECT_THROW(router.group("api"), error);
    EXPECT_THROW(router.group("/files/*"), error);
    EXPECT_THROW(router.group("/{id"), error);
    EXPECT_THROW(router.group("/api").get("x", named("x")), error);
    EXPECT_THROW(router.group("/r/{id}").get("/{id}", named("x")), error);  // duplicate across prefix and path
    try {
        router.get("/a/{", named("x"));
        FAIL() << "no exception";
    } catch (const error& e) {
        EXPECT_NE(std::string(e.what()).find("/a/{"), std::string::npos) << e.what();
    }
}

TEST(Router, DuplicateRoutesThrow) {
    Router router;
    router.get("/a/{x}", named("a")).post("/a/{x}", named("b")).any("/a/{x}", named("c"));
    EXPECT_THROW(router.get("/a/{x}", named("d")), error);
    EXPECT_THROW(router.get("/a/{y}", named("d")), error);  // same slot, other name
    EXPECT_THROW(router.any("/a/{z}", named("d")), error);
    EXPECT_THROW(router.group("/a").get("/{x}", named("d")), error);
    EXPECT_NO_THROW(router.get("/a/{x}/", named("e")));
    // A failed registration leaves the router as it was.
    EXPECT_EQ(route_of(router, Method::get, "/a/1"), "a");
}

// ---- groups ----

TEST(Router, GroupPrefixesJoin) {
    Router router;
    RouteGroup api = router.group("/api");
    RouteGroup v1 = api.group("/v1/");  // a trailing slash is dropped
    EXPECT_EQ(api.prefix(), "/api");
    EXPECT_EQ(v1.prefix(), "/api/v1");
    EXPECT_EQ(router.group("/").prefix(), "");
    EXPECT_EQ(api.group("").prefix(), "/api");

    v1.get("/", named("v1-root")).post("", named("v1-post")).get("/users/{id}", named("user"));
    api.get("/", named("api-root"));
    router.group("/").get("/", named("root"));
    EXPECT_EQ(route_of(router, Method::get, "/api/v1"), "v1-root");
    EXPECT_EQ(route_of(router, Method::post, "/api/v1"), "v1-post");
    EXPECT_EQ(route_of(router, Method::get, "/api/v1/"), "404");
    EXPECT_EQ(route_of(router, Method::get, "/api/v1/users/3"), "user");
    EXPECT_EQ(route_of(router, Method::get, "/api"), "api-root");
    EXPECT_EQ(route_of(router, Method::get, "/"), "root");

    RouteGroup room = router.group("/rooms/{room}");
    room.get("/messages/{id}", named("message"));
    EXPECT_EQ(find(router, Method::get, "/rooms/7/messages/9").params, (Params{{"room", "7"}, {"id", "9"}}));
}

TEST(Router, GroupsOfferEveryMethod) {
    Router router;
    RouteGroup g = router.group("/g");
    g.get("/r", named("get")).post("/r", named("post")).put("/r", named("put")).patch("/r", named("patch"));
    g.del("/r", named("delete")).options("/r", named("options")).head("/r", named("head")).any("/r", named("any"));
    g += Route{Method::trace, "/r", named("trace")};
    EXPECT_EQ(route_of(router, Method::get, "/g/r"), "get");
    EXPECT_EQ(route_of(router, Method::post, "/g/r"), "post");
    EXPECT_EQ(route_of(router, Method::put, "/g/r"), "put");
    EXPECT_EQ(route_of(router, Method::patch, "/g/r"), "patch");
    EXPECT_EQ(route_of(router, Method::delete_, "/g/r"), "delete");
    EXPECT_EQ(route_of(router, Method::options, "/g/r"), "options");
    EXPECT_EQ(route_of(router, Method::head, "/g/r"), "head");
    EXPECT_EQ(route_of(router, Method::trace, "/g/r"), "trace");
    EXPECT_EQ(route_of(router, Method::connect, "/g/r"), "any");
}

// ---- middleware ----

// Middleware that records its name before and after the rest of the chain.
Middleware recorder(std::vector<std::string>& log, std::string name) {
    return [&log, name](Request&, Next next) -> Task<Response> {
        log.push_back(name);
        Response response = co_await next();
        log.push_back("/" + name);
        co_return response;
    };
}

TEST(Router, MiddlewareRunsOutermostFirst) {
    std::vector<std::string> log;
    Router router;
    router.use(recorder(log, "router"));
    RouteGroup api = router.group("/api");
    api.use(recorder(log, "api1"));
    RouteGroup v1 = api.group("/v1");
    v1.use(recorder(log, "v1"));
    api.use(recorder(log, "api2"));  // added after the nested group exists: still before v1's
    v1.get("/x", [&log](Request&) {
        log.push_back("handler");
        return Response::text("x");
    });
    router.get("/plain", [&log](Request&) {
        log.push_back("plain");
        return Response::text("plain");
    });

    RouteMatch match = find(router, Method::get, "/api/v1/x");
    EXPECT_EQ(match.middleware.size(), 4U);
    EXPECT_FALSE(match.is_sync());
    EXPECT_EQ(body_of(run(match)), "x");
    EXPECT_EQ(log, (std::vector<std::string>{"router", "api1", "api2", "v1", "handler", "/v1", "/api2", "/api1",
                                             "/router"}));

    log.clear();
    EXPECT_EQ(body_of(run(find(router, Method::get, "/plain"))), "plain");
    EXPECT_EQ(log, (std::vector<std::string>{"router", "plain", "/router"}));
}

TEST(Router, MiddlewareCanAnswerEarly) {
    bool handler_ran = false;
    Router router;
    RouteGroup admin = router.group("/admin");
    admin.use([](Request& req, Next next) -> Task<Response> {
        if (!req.header("Authorization")) co_return Response::error(401);
        co_return co_await next();
    });
    admin.get("/panel", [&handler_ran](Request&) {
        handler_ran = true;
        return Response::text("panel");
    });
    Response response = run(find(router, Method::get, "/admin/panel"));
    EXPECT_EQ(response.status(), 401);
    EXPECT_FALSE(handler_ran);
}

TEST(Router, MiddlewareCanChangeTheResponse) {
    Router router;
    router.use([](Request&, Next next) -> Task<Response> {
        Response response = co_await next();
        response.header("X-Wrapped", "yes");
        co_return response;
    });
    router.get("/", named("root"));
    Response response = run(find(router, Method::get, "/"));
    EXPECT_EQ(body_of(response), "root");
    EXPECT_EQ(response.headers().get("X-Wrapped"), "yes");
}

TEST(Router, MiddlewareAddedAfterRoutesApplies) {
    std::vector<std::string> log;
    Router router;
    RouteGroup api = router.group("/api");
    api.get("/x", named("x"));
    router.get("/y", named("y"));
    RouteMatch before = find(router, Method::get, "/api/x");
    EXPECT_TRUE(before.is_sync());

    api.use(recorder(log, "api"));
    router.use(recorder(log, "router"));
    EXPECT_EQ(body_of(run(find(router, Method::get, "/api/x"))), "x");
    EXPECT_EQ(log, (std::vector<std::string>{"router", "api", "/api", "/router"}));
    log.clear();
    EXPECT_EQ(body_of(run(find(router, Method::get, "/y"))), "y");
    EXPECT_EQ(log, (std::vector<std::string>{"router", "/router"}));
}

TEST(Router, MiddlewareIsOneInstanceAcrossGroups) {
    int calls = 0;
    Router router;
    router.use([&calls, seen = 0](Request&, Next next) mutable -> Task<Response> {
        calls = ++seen;  // state of this one object, whichever group's route runs
        co_return co_await next();
    });
    router.group("/a").get("/", named("a"));
    router.group("/b").get("/", named("b"));
    router.get("/c", named("c"));
    run(find(router, Method::get, "/a"));
    run(find(router, Method::get, "/b"));
    run(find(router, Method::get, "/c"));
    EXPECT_EQ(calls, 3);
}

TEST(Router, SiblingGroupsDoNotShareMiddleware) {
    std::vector<std::string> log;
    Router router;
    RouteGroup a = router.group("/a");
    RouteGroup b = router.group("/b");
    a.use(recorder(log, "a"));
    b.use(recorder(log, "b"));
    a.get("/x", named("ax"));
    b.get("/x", named("bx"));
    run(find(router, Method::get, "/b/x"));
    EXPECT_EQ(log, (std::vector<std::string>{"b", "/b"}));
}

// ---- handlers ----

TEST(Router, SyncAndCoroutineHandlersRun) {
    Router router;
    router.get("/sync", [](Request& req) { return Response::text("sync " + std::string(req.param("id"))); });
    router.get("/async", [](Request&) -> Task<Response> {
        // Really suspend, to run the handler across a resumption.
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        co_return Response::text("async", 201);
    });

    RouteMatch sync = find(router, Method::get, "/sync");
    EXPECT_TRUE(sync.is_sync());
    Request req;
    req.add_param("id", "1");
    EXPECT_EQ(sync.handler->call_sync(req).status(), 200);
    EXPECT_EQ(body_of(run(sync, req)), "sync 1");

    RouteMatch async = find(router, Method::get, "/async");
    EXPECT_FALSE(async.is_sync());
    Response response = run(async);
    EXPECT_EQ(response.status(), 201);
    EXPECT_EQ(body_of(response), "async");
}

TEST(Router, CoroutineHandlersRunBehindMiddleware) {
    std::vector<std::string> log;
    Router router;
    router.use(recorder(log, "mw"));
    router.get("/async", [&log](Request&) -> Task<Response> {
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        log.push_back("handler");
        co_return Response::text("async");
    });
    EXPECT_EQ(body_of(run(find(router, Method::get, "/async"))), "async");
    EXPECT_EQ(log, (std::vector<std::string>{"mw", "handler", "/mw"}));
}

TEST(Router, HandlerExceptionsReachTheCaller) {
    Router router;
    router.get("/throw", [](Request&) -> Response { throw std::runtime_error("boom"); });
    router.get("/co-throw", [](Request&) -> Task<Response> {
        throw std::runtime_error("boom");
        co_return Response(200);
    });
    EXPECT_THROW(run(find(router, Method::get, "/throw")), std::runtime_error);
    EXPECT_THROW(run(find(router, Method::get, "/co-throw")), std::runtime_error);
}

TEST(Router, HandlerCallRunsBothKinds) {
    Handler sync = [](Request&) { return Response::text("s"); };
    Handler async = [](Request&) -> Task<Response> { co_return Response::text("a"); };
    EXPECT_TRUE(sync.is_sync());
    EXPECT_FALSE(async.is_sync());
    EXPECT_FALSE(Handler{});
    Request req;
    asio::io_context ctx;
    auto s = asio::co_spawn(ctx, sync.call(req), asio::use_future);
    auto a = asio::co_spawn(ctx, async.call(req), asio::use_future);
    ctx.run();
    EXPECT_EQ(body_of(s.get()), "s");
    EXPECT_EQ(body_of(a.get()), "a");
}

TEST(Router, MovedRouterKeepsRoutesAndMiddleware) {
    std::vector<std::string> log;
    Router source;
    source.get("/a", named("a"));
    Router router(std::move(source));
    router.use(recorder(log, "late"));
    router.group("/g").get("/b", named("b"));
    EXPECT_EQ(route_of(router, Method::get, "/a"), "a");
    EXPECT_EQ(route_of(router, Method::get, "/g/b"), "b");

    Router assigned;
    assigned = std::move(router);
    assigned.get("/c", named("c"));
    EXPECT_EQ(route_of(assigned, Method::get, "/c"), "c");
    EXPECT_EQ(log, (std::vector<std::string>{"late", "/late", "late", "/late", "late", "/late"}));
}

}  // namespace
}  // namespace herald
