#pragma once
// Header fields: borrowed views for requests, owned strings for responses.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald {

/// ASCII case-insensitive equality, as HTTP field names compare.
bool iequals(std::string_view a, std::string_view b) noexcept;

/// `s` without leading and trailing spaces and tabs (HTTP's optional whitespace).
std::string_view trim_ows(std::string_view s) noexcept;

/// True when the comma-separated token list `list` (e.g. a Connection value) contains `token`,
/// compared case-insensitively with optional whitespace around elements.
bool has_token(std::string_view list, std::string_view token) noexcept;

/// One request header field; both views point into the connection's buffer.
struct Header {
    std::string_view name;
    std::string_view value;
};

/// Finds the first field named `name` (case-insensitive) in a borrowed header list.
std::optional<std::string_view> find_header(std::span<const Header> headers, std::string_view name) noexcept;

/// Owned header fields of a response, in insertion order, with case-insensitive lookup.
class Headers {
public:
    using Field = std::pair<std::string, std::string>;

    /// Replaces every field named `name` with one field of this value.
    Headers& set(std::string_view name, std::string_view value);
    /// Appends a field, keeping existing ones of the same name (e.g. Set-Cookie).
    Headers& add(std::string_view name, std::string_view value);
    /// Removes every field named `name`; returns how many were removed.
    std::size_t remove(std::string_view name);
    /// The value of the first field named `name`.
    std::optional<std::string_view> get(std::string_view name) const noexcept;
    /// True when a field named `name` exists.
    bool contains(std::string_view name) const noexcept { return get(name).has_value(); }

    auto begin() const noexcept { return fields_.begin(); }
    auto end() const noexcept { return fields_.end(); }
    std::size_t size() const noexcept { return fields_.size(); }
    bool empty() const noexcept { return fields_.empty(); }
    void clear() noexcept { fields_.clear(); }

private:
    std::vector<Field> fields_;
};

}  // namespace herald
