#include <herald/http/router.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>

#include <herald/error.hpp>

// Routes live in a segment trie. Every trie node sits at a fixed depth (one segment per level), so a
// lookup visits each node at most once even with backtracking, and the recursion is never deeper
// than the longest pattern. Each node holds up to one route per method plus one `any` route.
//
// Segmentation: "/" is one empty segment, "/a/" is "a" then "", "/a//b" is "a", "", "b". A {parameter}
// matches one non-empty segment; a trailing "*" matches everything after the preceding '/', so
// "/files/*" matches "/files/" ("*" = "") and "/files/a/b" ("*" = "a/b"), but not "/files".
// Static segments compare with the raw (percent-encoded) path byte for byte.
//
// Methods: a node answers a method with its route for that method, then (for HEAD) its GET route,
// then its `any` route. When no node on the path answers, the request gets 405 if some node matched
// the path, with Allow listing the methods of every such node, else 404. Method::other cannot be
// registered by name (it stands for every extension method); `any` routes serve extension methods.
//
// Paths in groups: "" and "/" both mean the group's prefix itself ("/api"); the router's own "" is
// "/". A group prefix must start with '/', loses trailing slashes and cannot hold a wildcard.
//
// Lifetimes: a RouteGroup points at its Router. It must not outlive it, nor be used after the Router
// was moved (the router's own root group is re-pointed on move; other groups are not). A moved-from
// Router may only be destroyed or assigned to.
//
// Middleware: every use() stores the middleware once; each group keeps its flattened chain (router
// middleware, outer groups, its own) as small forwarding wrappers to those single instances, so a
// stateful middleware used on the router is one object for all routes, not a copy per group. Chains
// are rebuilt whenever use() is called, so middleware added after routes still applies, and a route
// only points at its group's chain: matching never allocates beyond the caller's reused params.

namespace herald {

/// A group's own middleware and its flattened chain (outermost first).
struct RouteGroup::Node {
    const Node* parent = nullptr;
    std::vector<const Middleware*> own;  // in use() order; owned by Router::Impl
    std::vector<Middleware> chain;       // parent's chain, then forwarders to `own`
};

namespace {

constexpr std::size_t method_count = static_cast<std::size_t>(Method::other) + 1;

constexpr std::size_t method_index(Method m) noexcept { return static_cast<std::size_t>(m); }
constexpr std::uint16_t method_bit(Method m) noexcept { return static_cast<std::uint16_t>(1U << method_index(m)); }

// The order of methods in an Allow value.
constexpr std::array<Method, 9> allow_order{Method::get,    Method::head,    Method::post,
                                            Method::put,    Method::patch,   Method::delete_,
                                            Method::options, Method::connect, Method::trace};

/// One registered route, as stored in the trie.
struct RouteEntry {
    Handler handler;
    std::size_t max_body_bytes = 0;
    bool blocking = false;
    const std::vector<Middleware>* middleware = nullptr;  // the group's chain; stable while the router lives
    std::vector<std::string> param_names;                 // in capture order; "*" for the wildcard
    std::string pattern;                                  // the full pattern, for error messages
};

struct TrieNode {
    std::vector<std::pair<std::string, std::unique_ptr<TrieNode>>> statics;  // sorted by segment
    std::unique_ptr<TrieNode> param;
    std::unique_ptr<TrieNode> wildcard;  // terminal: it consumes the rest of the path
    std::array<std::unique_ptr<RouteEntry>, method_count> routes;
    std::unique_ptr<RouteEntry> any;
    std::uint16_t methods = 0;  // bits of the methods in `routes`, for a 405's Allow

    const TrieNode* find_static(std::string_view segment) const noexcept {
        auto it = std::lower_bound(statics.begin(), statics.end(), segment,
                                   [](const auto& entry, std::string_view s) { return entry.first < s; });
        return it != statics.end() && it->first == segment ? it->second.get() : nullptr;
    }

    TrieNode& static_child(std::string_view segment) {
        auto it = std::lower_bound(statics.begin(), statics.end(), segment,
                                   [](const auto& entry, std::string_view s) { return entry.first < s; });
        if (it == statics.end() || it->first != segment)
            it = statics.emplace(it, std::string(segment), std::make_unique<TrieNode>());
        return *it->second;
    }

    /// The route answering `method` here, or nullptr after adding this node's methods to `allowed`.
    /// A specific method beats `any`; HEAD falls back to GET before `any`, as HEAD is GET without a body.
    const RouteEntry* accept(Method method, std::uint16_t& allowed) const noexcept {
        if (const auto& exact = routes[method_index(method)]) return exact.get();
        if (method == Method::head)
            if (const auto& get = routes[method_index(Method::get)]) return get.get();
        if (any) return any.get();
        allowed |= methods;
        return nullptr;
    }
};

enum class SegmentKind : std::uint8_t { literal, param, wildcard };

struct Segment {
    SegmentKind kind;
    std::string_view text;  // the literal text or the parameter name
};

[[noreturn]] void bad_pattern(std::string_view pattern, std::string_view why) {
    throw error("bad route pattern '" + std::string(pattern) + "': " + std::string(why));
}

bool is_name_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

Segment parse_segment(std::string_view pattern, std::string_view s, bool last) {
    if (s == "*") {
        if (!last) bad_pattern(pattern, "'*' must be the last segment");
        return {SegmentKind::wildcard, s};
    }
    if (!s.empty() && s.front() == '{') {
        if (s.size() < 2 || s.back() != '}')
            bad_pattern(pattern, "unclosed '{' (a parameter is a whole segment: {name})");
        std::string_view name = s.substr(1, s.size() - 2);
        if (name.empty()) bad_pattern(pattern, "empty parameter name");
        if (!std::all_of(name.begin(), name.end(), is_name_char))
            bad_pattern(pattern, "parameter name '" + std::string(name) + "' may only use A-Z, a-z, 0-9 and '_'");
        return {SegmentKind::param, name};
    }
    if (s.find_first_of("{}") != std::string_view::npos)
        bad_pattern(pattern, "a parameter must be a whole segment: {name}");
    if (s.find('*') != std::string_view::npos)
        bad_pattern(pattern, "'*' is only allowed as the whole last segment");
    if (s.find_first_of("?#") != std::string_view::npos)
        bad_pattern(pattern, "'?' and '#' cannot occur in a path");
    return {SegmentKind::literal, s};
}

/// Splits and validates a pattern. The views point into `pattern`.
std::vector<Segment> parse_pattern(std::string_view pattern) {
    if (pattern.empty() || pattern.front() != '/') bad_pattern(pattern, "must start with '/'");
    std::vector<Segment> segments;
    std::string_view rest = pattern.substr(1);
    for (;;) {
        const auto slash = rest.find('/');
        const bool last = slash == std::string_view::npos;
        segments.push_back(parse_segment(pattern, rest.substr(0, slash), last));
        if (last) break;
        rest = rest.substr(slash + 1);
    }
    for (std::size_t i = 0; i < segments.size(); ++i) {
        if (segments[i].kind != SegmentKind::param) continue;
        for (std::size_t j = i + 1; j < segments.size(); ++j)
            if (segments[j].kind == SegmentKind::param && segments[j].text == segments[i].text)
                bad_pattern(pattern, "duplicate parameter name '" + std::string(segments[i].text) + "'");
    }
    return segments;
}

/// "" and "/" stand for the prefix itself (the root when there is none); other paths must start with '/'.
std::string join_path(std::string_view prefix, std::string_view path) {
    if (path.empty() || path == "/") return prefix.empty() ? std::string("/") : std::string(prefix);
    if (path.front() != '/') bad_pattern(path, "must start with '/'");
    std::string full(prefix);
    full += path;
    return full;
}

/// A group prefix without trailing slashes ("/api/" → "/api", "/" → ""), validated, after `parent`.
std::string join_prefix(std::string_view parent, std::string_view prefix) {
    while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    std::string full(parent);
    if (prefix.empty()) return full;
    if (prefix.front() != '/')
        throw error("bad route group prefix '" + std::string(prefix) + "': must start with '/'");
    full += prefix;
    for (const Segment& s : parse_pattern(full))
        if (s.kind == SegmentKind::wildcard)
            throw error("bad route group prefix '" + full + "': a group prefix cannot contain '*'");
    return full;
}

/// State of one lookup: the method sought, raw parameter values captured so far, and methods seen.
struct Search {
    Method method;
    std::vector<std::pair<std::string_view, std::string_view>>& params;
    std::uint16_t allowed = 0;
};

/// Depth-first lookup below `node`. `rest` is the path after the last consumed '/', and `more` is
/// false once every segment has been consumed. Tries static, then parameter, then wildcard children,
/// backtracking when a branch has no route for the method.
const RouteEntry* search(const TrieNode& node, std::string_view rest, bool more, Search& s) {
    if (!more) return node.accept(s.method, s.allowed);
    const auto slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    const bool next_more = slash != std::string_view::npos;
    const std::string_view next_rest = next_more ? rest.substr(slash + 1) : std::string_view{};

    if (const TrieNode* child = node.find_static(segment))
        if (const RouteEntry* found = search(*child, next_rest, next_more, s)) return found;
    if (node.param && !segment.empty()) {
        s.params.emplace_back(std::string_view{}, segment);
        if (const RouteEntry* found = search(*node.param, next_rest, next_more, s)) return found;
        s.params.pop_back();
    }
    if (node.wildcard) {
        if (const RouteEntry* found = node.wildcard->accept(s.method, s.allowed)) {
            s.params.emplace_back(std::string_view{}, rest);
            return found;
        }
    }
    return nullptr;
}

void append_allow(std::uint16_t methods, std::string& out) {
    if (methods & method_bit(Method::get)) methods |= method_bit(Method::head);
    for (Method m : allow_order) {
        if (!(methods & method_bit(m))) continue;
        if (!out.empty()) out += ", ";
        out += to_string(m);
    }
}

// A Middleware that calls the single stored instance, so chains can be copied without copying state.
Middleware forward_to(const Middleware* target) {
    return [target](Request& req, Next next) { return (*target)(req, next); };
}

// The chain as a coroutine taking its state by value, so it does not depend on the lifetime of the
// Next or RouteMatch object that started it.
Task<Response> run_chain(std::span<const Middleware> chain, const Handler* handler, Request* req) {
    if (chain.empty()) {
        if (handler->is_sync()) co_return handler->call_sync(*req);
        co_return co_await handler->call(*req);
    }
    co_return co_await chain.front()(*req, Next(chain.subspan(1), *handler, *req));
}

Task<Response> ready(Response response) { co_return response; }

}  // namespace

// ---- Handler, Next, RouteMatch ----

Task<Response> Handler::call(Request& req) const {
    if (sync_) co_return sync_(req);
    co_return co_await async_(req);
}

Task<Response> Next::operator()() const { return run_chain(rest_, handler_, req_); }

Task<Response> RouteMatch::run(Request& req) const {
    if (handler) return run_chain(middleware, handler, &req);
    // No route: the same answer the server would give, so callers need no special case.
    Response response = Response::error(status != 0 ? status : 404);
    if (status == 405) response.header("Allow", allow);
    return ready(std::move(response));
}

// ---- Router::Impl ----

struct Router::Impl {
    TrieNode root;
    std::vector<std::shared_ptr<RouteGroup::Node>> groups;  // creation order: parents before children
    std::vector<std::unique_ptr<Middleware>> middleware;   // every use()d middleware, at a stable address

    std::shared_ptr<RouteGroup::Node> new_group(const RouteGroup::Node* parent) {
        auto node = std::make_shared<RouteGroup::Node>();
        node->parent = parent;
        if (parent) node->chain = parent->chain;
        groups.push_back(node);
        return node;
    }

    void use(RouteGroup::Node& group, Middleware mw) {
        if (!mw) throw error("use(): empty middleware");
        middleware.push_back(std::make_unique<Middleware>(std::move(mw)));
        group.own.push_back(middleware.back().get());
        rebuild_chains();
    }

    // Parents come before children in `groups`, so each parent's chain is current when copied.
    void rebuild_chains() {
        for (const auto& group : groups) {
            group->chain.clear();
            if (group->parent) group->chain = group->parent->chain;
            for (const Middleware* mw : group->own) group->chain.push_back(forward_to(mw));
        }
    }

    void add(const RouteGroup::Node& group, std::string pattern, Route route) {
        if (!route.handler) throw error("route " + pattern + " has no handler");
        if (route.method == Method::other)
            throw error("route " + pattern + ": Method::other cannot be routed by name; use any() instead");

        auto entry = std::make_unique<RouteEntry>();
        entry->pattern = std::move(pattern);
        const std::vector<Segment> segments = parse_pattern(entry->pattern);

        TrieNode* node = &root;
        for (const Segment& s : segments) {
            switch (s.kind) {
            case SegmentKind::literal: node = &node->static_child(s.text); break;
            case SegmentKind::param:
                if (!node->param) node->param = std::make_unique<TrieNode>();
                node = node->param.get();
                entry->param_names.emplace_back(s.text);
                break;
            case SegmentKind::wildcard:
                if (!node->wildcard) node->wildcard = std::make_unique<TrieNode>();
                node = node->wildcard.get();
                entry->param_names.emplace_back("*");
                break;
            }
        }

        std::unique_ptr<RouteEntry>& slot = route.method ? node->routes[method_index(*route.method)] : node->any;
        if (slot) {
            const std::string method(route.method ? to_string(*route.method) : "any");
            throw error("duplicate route " + method + " " + entry->pattern + " (already registered as " +
                        slot->pattern + ")");
        }
        entry->handler = std::move(route.handler);
        entry->max_body_bytes = route.max_body_bytes;
        if (route.blocking && !entry->handler.is_sync())
            throw error("blocking route " + entry->pattern + ": a blocking handler must be a plain function, not a coroutine");
        entry->blocking = route.blocking;
        entry->middleware = &group.chain;
        slot = std::move(entry);
        if (route.method) node->methods |= method_bit(*route.method);
    }

    void match(Method method, std::string_view path, RouteMatch& out) const {
        out.handler = nullptr;
        out.middleware = {};
        out.max_body_bytes = 0;
        out.blocking = false;
        out.status = 0;
        out.allow.clear();
        out.params.clear();
        if (path.empty() || path.front() != '/') {
            out.status = 404;
            return;
        }
        Search s{method, out.params};
        const RouteEntry* found = search(root, path.substr(1), true, s);
        if (!found) {
            out.params.clear();
            out.status = s.allowed ? 405 : 404;
            append_allow(s.allowed, out.allow);
            return;
        }
        // Parameter nodes are shared by patterns that differ only in names; the route names them.
        for (std::size_t i = 0; i < out.params.size(); ++i) out.params[i].first = found->param_names[i];
        out.handler = &found->handler;
        out.middleware = *found->middleware;
        out.max_body_bytes = found->max_body_bytes;
        out.blocking = found->blocking;
    }
};

// ---- RouteGroup ----

RouteGroup& RouteGroup::use(Middleware middleware) {
    router_->impl_->use(*node_, std::move(middleware));
    return *this;
}

RouteGroup& RouteGroup::get(std::string_view path, Handler handler) {
    return add(Route{Method::get, std::string(path), std::move(handler)});
}
RouteGroup& RouteGroup::post(std::string_view path, Handler handler) {
    return add(Route{Method::post, std::string(path), std::move(handler)});
}
RouteGroup& RouteGroup::put(std::string_view path, Handler handler) {
    return add(Route{Method::put, std::string(path), std::move(handler)});
}
RouteGroup& RouteGroup::patch(std::string_view path, Handler handler) {
    return add(Route{Method::patch, std::string(path), std::move(handler)});
}
RouteGroup& RouteGroup::del(std::string_view path, Handler handler) {
    return add(Route{Method::delete_, std::string(path), std::move(handler)});
}
RouteGroup& RouteGroup::options(std::string_view path, Handler handler) {
    return add(Route{Method::options, std::string(path), std::move(handler)});
}
RouteGroup& RouteGroup::head(std::string_view path, Handler handler) {
    return add(Route{Method::head, std::string(path), std::move(handler)});
}
RouteGroup& RouteGroup::any(std::string_view path, Handler handler) {
    return add(Route{std::nullopt, std::string(path), std::move(handler)});
}

RouteGroup& RouteGroup::add(Route route) {
    router_->add_in_group(*this, std::move(route));
    return *this;
}

RouteGroup RouteGroup::group(std::string_view prefix) {
    std::string full = join_prefix(prefix_, prefix);
    return RouteGroup(router_, std::move(full), router_->impl_->new_group(node_.get()));
}

// ---- Router ----

Router::Router() : impl_(std::make_unique<Impl>()) {
    root_.reset(new RouteGroup(this, std::string(), impl_->new_group(nullptr)));
}

// The root group points back at its router, so it is re-pointed; other groups are not (see the top).
Router::Router(Router&& other) noexcept : impl_(std::move(other.impl_)), root_(std::move(other.root_)) {
    if (root_) root_->router_ = this;
}

Router& Router::operator=(Router&& other) noexcept {
    if (this != &other) {
        impl_ = std::move(other.impl_);
        root_ = std::move(other.root_);
        if (root_) root_->router_ = this;
    }
    return *this;
}

Router::~Router() = default;

Router& Router::use(Middleware middleware) {
    impl_->use(*root_->node_, std::move(middleware));
    return *this;
}

Router& Router::get(std::string_view path, Handler handler) {
    return add(Route{Method::get, std::string(path), std::move(handler)});
}
Router& Router::post(std::string_view path, Handler handler) {
    return add(Route{Method::post, std::string(path), std::move(handler)});
}
Router& Router::put(std::string_view path, Handler handler) {
    return add(Route{Method::put, std::string(path), std::move(handler)});
}
Router& Router::patch(std::string_view path, Handler handler) {
    return add(Route{Method::patch, std::string(path), std::move(handler)});
}
Router& Router::del(std::string_view path, Handler handler) {
    return add(Route{Method::delete_, std::string(path), std::move(handler)});
}
Router& Router::options(std::string_view path, Handler handler) {
    return add(Route{Method::options, std::string(path), std::move(handler)});
}
Router& Router::head(std::string_view path, Handler handler) {
    return add(Route{Method::head, std::string(path), std::move(handler)});
}
Router& Router::get_blocking(std::string_view path, std::function<Response(Request&)> handler) {
    return add(Route{Method::get, std::string(path), std::move(handler), 0, true});
}

Router& Router::any(std::string_view path, Handler handler) {
    return add(Route{std::nullopt, std::string(path), std::move(handler)});
}

Router& Router::add(Route route) {
    add_in_group(*root_, std::move(route));
    return *this;
}

RouteGroup Router::group(std::string_view prefix) { return root_->group(prefix); }

void Router::match(Method method, std::string_view path, RouteMatch& out) const {
    impl_->match(method, path, out);
}

void Router::add_in_group(const RouteGroup& group, Route route) {
    std::string pattern = join_path(group.prefix_, route.path);
    impl_->add(*group.node_, std::move(pattern), std::move(route));
}

}  // namespace herald
