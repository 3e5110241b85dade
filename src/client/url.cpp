#include <herald/client/url.hpp>

#include <algorithm>
#include <charconv>

#include <herald/error.hpp>

namespace herald {
namespace {

std::uint16_t default_port(std::string_view scheme) noexcept {
    return scheme == "wss" || scheme == "https" ? 443 : 80;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c | 0x20 : c); });
    return out;
}

bool is_host_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~' || c == '%';
}

// A request target goes on the request line as is: no spaces or control characters.
bool is_clean_target(std::string_view target) noexcept {
    return std::none_of(target.begin(), target.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; });
}

}  // namespace

Url Url::parse(std::string_view text) {
    auto bad = [text](const std::string& why) { return error("URL '" + std::string(text) + "': " + why); };
    const auto colon = text.find("://");
    if (colon == std::string_view::npos) throw bad("no scheme:// part");
    Url url;
    url.scheme = lower(text.substr(0, colon));
    if (url.scheme != "ws" && url.scheme != "wss" && url.scheme != "http" && url.scheme != "https")
        throw error("URL scheme '" + url.scheme + "' is not one of ws, wss, http, https");
    std::string_view rest = text.substr(colon + 3);
    rest = rest.substr(0, rest.find('#'));
    const auto path_start = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, path_start);
    std::string_view target = path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);
    if (authority.find('@') != std::string_view::npos)
        throw bad("user information in URLs is not supported");

    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) throw bad("unclosed '[' in host");
        url.host = std::string(authority.substr(1, close - 1));
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty() && after.front() != ':') throw bad("junk after ']'");
        if (!after.empty()) port_text = after.substr(1);
        if (url.host.empty() || url.host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos)
            throw bad("bad IPv6 literal");
    } else {
        const auto pc = authority.rfind(':');
        url.host = std::string(authority.substr(0, pc));
        if (pc != std::string_view::npos) port_text = authority.substr(pc + 1);
        if (!std::all_of(url.host.begin(), url.host.end(), is_host_char))
            throw bad("bad character in host");
    }
    if (url.host.empty()) throw bad("no host");
    url.port = default_port(url.scheme);
    if (!port_text.empty()) {
        unsigned value = 0;
        auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
        if (ec != std::errc{} || p != port_text.data() + port_text.size() || value == 0 || value > 65535)
            throw bad("bad port '" + std::string(port_text) + "'");
        url.port = static_cast<std::uint16_t>(value);
    }
    url.target = target.empty() || target.front() == '?' ? "/" + std::string(target) : std::string(target);
    if (!is_clean_target(url.target)) throw bad("space or control character in path");
    return url;
}

Url Url::resolve(std::string_view reference) const {
    reference = reference.substr(0, reference.find('#'));
    if (reference.find("://") != std::string_view::npos && reference.find("://") < reference.find_first_of("/?"))
        return parse(reference);
    if (reference.substr(0, 2) == "//") return parse(scheme + ":" + std::string(reference));
    Url out = *this;
    if (reference.empty()) return out;
    if (reference.front() == '/') {
        out.target = std::string(reference);
    } else if (reference.front() == '?') {
        out.target = target.substr(0, target.find('?')) + std::string(reference);
    } else {
        const std::string path = target.substr(0, target.find('?'));
        out.target = path.substr(0, path.rfind('/') + 1) + std::string(reference);
    }
    if (!is_clean_target(out.target)) throw error("redirect target has a space or control character");
    return out;
}

std::string Url::authority() const {
    std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (port != default_port(scheme)) out += ":" + std::to_string(port);
    return out;
}

bool Url::same_origin(const Url& other) const noexcept {
    return scheme == other.scheme && port == other.port && lower(host) == lower(other.host);
}

std::string Url::to_string() const { return scheme + "://" + authority() + target; }

}  // namespace herald
