#include <herald/http/request.hpp>

#include <herald/http/parser.hpp>

namespace herald {
namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Calls f(name, value) for each '&'-separated pair of a query string; values may be empty.
template <class F>
void for_each_query_pair(std::string_view query, F&& f) {
    while (!query.empty()) {
        auto amp = query.find('&');
        auto pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (pair.empty()) continue;
        auto eq = pair.find('=');
        auto name = pair.substr(0, eq);
        auto value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
        if (!f(name, value)) return;
    }
}

// Re-points `view` from inside [old_base, old_base+size) to the same offset in new_base.
std::string_view rebase(std::string_view view, const char* old_base, std::size_t size, const char* new_base) {
    if (view.data() >= old_base && view.data() + view.size() <= old_base + size)
        return {new_base + (view.data() - old_base), view.size()};
    return view;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '%') {
            if (i + 2 >= in.size()) return std::nullopt;
            int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::optional<std::string> Request::query(std::string_view name) const {
    std::optional<std::string> found;
    for_each_query_pair(query_, [&](std::string_view raw_name, std::string_view raw_value) {
        auto decoded_name = percent_decode(raw_name, true);
        if (!decoded_name || *decoded_name != name) return true;
        found = percent_decode(raw_value, true);
        return !found.has_value();  // a malformed value: keep looking for a well-formed one
    });
    return found;
}

std::vector<std::pair<std::string, std::string>> Request::query_params() const {
    std::vector<std::pair<std::string, std::string>> params;
    for_each_query_pair(query_, [&](std::string_view raw_name, std::string_view raw_value) {
        auto name = percent_decode(raw_name, true);
        auto value = percent_decode(raw_value, true);
        if (name && value) params.emplace_back(std::move(*name), std::move(*value));
        return true;
    });
    return params;
}

std::string_view Request::param(std::string_view name) const noexcept {
    for (const auto& p : params_)
        if (p.name == name) return p.value;
    return {};
}

bool Request::has_param(std::string_view name) const noexcept {
    for (const auto& p : params_)
        if (p.name == name) return true;
    return false;
}

void Request::add_param(std::string_view name, std::string_view raw_value) {
    if (raw_value.find('%') == std::string_view::npos) {
        params_.push_back({name, raw_value});
        return;
    }
    // A malformed escape keeps the raw text: the handler sees what was sent rather than nothing.
    auto decoded = percent_decode(raw_value);
    if (!decoded) {
        params_.push_back({name, raw_value});
        return;
    }
    decoded_.push_back(std::make_unique<std::string>(std::move(*decoded)));
    params_.push_back({name, *decoded_.back()});
}

void Request::assign(const http::RequestHead& head, std::string_view body, const asio::ip::tcp::endpoint& remote) {
    method_ = head.method;
    method_name_ = head.method_name;
    target_ = head.target;
    version_minor_ = head.version_minor;
    keep_alive_ = head.keep_alive;
    headers_.assign(head.headers.begin(), head.headers.end());
    body_ = body;
    remote_ = remote;
    clear_params();
    owned_.clear();
    is_owned_ = false;

    // Absolute-form targets ("http://host/path?q") route by their path.
    std::string_view path = target_;
    if (!path.empty() && path.front() != '/' && path != "*") {
        auto scheme = path.find("://");
        if (scheme != std::string_view::npos) {
            auto slash = path.find('/', scheme + 3);
            path = slash == std::string_view::npos ? std::string_view{"/"} : path.substr(slash);
        }
    }
    auto q = path.find('?');
    query_ = q == std::string_view::npos ? std::string_view{} : path.substr(q + 1);
    path_ = path.substr(0, q);
    if (auto hash = query_.find('#'); hash != std::string_view::npos) query_ = query_.substr(0, hash);
}

void Request::own() {
    if (is_owned_) return;
    is_owned_ = true;
    // Lay every viewed region end to end in one string, then re-point the views into it.
    std::size_t total = method_name_.size() + target_.size() + body_.size();
    for (const auto& h : headers_) total += h.name.size() + h.value.size();
    for (const auto& p : params_) total += p.value.size();
    // Built in place: moving a short string would copy its inline buffer and leave the views dangling.
    std::string& store = owned_;
    store.clear();
    store.reserve(total);
    auto append = [&store](std::string_view v) {
        const char* at = store.data() + store.size();
        store.append(v);
        return std::string_view{at, v.size()};
    };
    std::string_view old_target = target_;
    method_name_ = append(method_name_);
    target_ = append(target_);
    for (auto& h : headers_) {
        h.name = append(h.name);
        h.value = append(h.value);
    }
    body_ = append(body_);
    path_ = rebase(path_, old_target.data(), old_target.size(), target_.data());
    query_ = rebase(query_, old_target.data(), old_target.size(), target_.data());
    // Parameter names point into the router's patterns, which outlive every request; values are copied.
    for (auto& p : params_) p.value = append(p.value);
    decoded_.clear();
}

void Request::copy_from(const Request& other) {
    method_ = other.method_;
    method_name_ = other.method_name_;
    target_ = other.target_;
    path_ = other.path_;
    query_ = other.query_;
    body_ = other.body_;
    version_minor_ = other.version_minor_;
    keep_alive_ = other.keep_alive_;
    headers_ = other.headers_;
    params_ = other.params_;
    remote_ = other.remote_;
    decoded_.clear();
    owned_.clear();
    is_owned_ = false;
    own();
}

}  // namespace herald
