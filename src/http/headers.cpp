#include <herald/http/headers.hpp>

#include <algorithm>

namespace herald {
namespace {

constexpr char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c;
}

constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

}  // namespace

std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        // Bytes equal as-is is the common case (canonical spelling); only fold when they differ.
        if (a[i] != b[i] && ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    }
    return true;
}

bool has_token(std::string_view list, std::string_view token) noexcept {
    token = trim_ows(token);
    if (token.empty()) return false;  // an empty element is never a token, so it cannot be asked for
    while (true) {
        const std::size_t comma = list.find(',');
        if (iequals(trim_ows(list.substr(0, comma)), token)) return true;
        if (comma == std::string_view::npos) return false;
        list.remove_prefix(comma + 1);
    }
}

std::optional<std::string_view> find_header(std::span<const Header> headers, std::string_view name) noexcept {
    for (const Header& h : headers) {
        if (iequals(h.name, name)) return h.value;
    }
    return std::nullopt;
}

Headers& Headers::set(std::string_view name, std::string_view value) {
    // Keep the position of the first occurrence so a replaced field does not move in the output.
    auto first = std::find_if(fields_.begin(), fields_.end(), [&](const Field& f) { return iequals(f.first, name); });
    if (first == fields_.end()) return add(name, value);
    first->second.assign(value);
    auto rest = std::remove_if(first + 1, fields_.end(), [&](const Field& f) { return iequals(f.first, name); });
    fields_.erase(rest, fields_.end());
    return *this;
}

Headers& Headers::add(std::string_view name, std::string_view value) {
    fields_.emplace_back(std::string(name), std::string(value));
    return *this;
}

std::size_t Headers::remove(std::string_view name) {
    return std::erase_if(fields_, [&](const Field& f) { return iequals(f.first, name); });
}

std::optional<std::string_view> Headers::get(std::string_view name) const noexcept {
    for (const Field& f : fields_) {
        if (iequals(f.first, name)) return std::string_view(f.second);
    }
    return std::nullopt;
}

}  // namespace herald
