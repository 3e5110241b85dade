#pragma once
// Absolute ws://, wss://, http:// and https:// URLs as our clients take them, and the resolution of
// a redirect's Location against them (RFC 3986 §5.2, without dot-segment removal).
#include <cstdint>
#include <string>
#include <string_view>

namespace herald {

/// A parsed absolute URL. `host` holds an IPv6 literal without its brackets.
struct Url {
    std::string scheme;   ///< "ws", "wss", "http" or "https", lower case
    std::string host;     ///< name or address literal
    std::uint16_t port = 0;  ///< the explicit port, or the scheme's default
    std::string target;   ///< path and query ("/" when the URL has no path); the fragment is dropped

    /// Parses `text`; throws herald::error naming what is wrong (scheme, host, port, user info).
    static Url parse(std::string_view text);
    /// The URL `reference` (absolute, "//host/…", "/path", or relative to this one's path) points to.
    Url resolve(std::string_view reference) const;

    /// True for wss and https.
    bool secure() const noexcept { return scheme == "wss" || scheme == "https"; }
    /// The Host field value: host (bracketed when IPv6) and the port when it is not the default.
    std::string authority() const;
    /// Scheme, host and port: two URLs of the same origin may share credentials.
    bool same_origin(const Url& other) const noexcept;
    /// The URL as text.
    std::string to_string() const;
};

}  // namespace herald
