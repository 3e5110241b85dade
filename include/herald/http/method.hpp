#pragma once
// HTTP request methods.
#include <cstdint>
#include <string_view>

namespace herald {

/// A request method; `other` covers syntactically valid extension methods.
enum class Method : std::uint8_t { get, head, post, put, patch, delete_, options, connect, trace, other };

/// The canonical upper-case name ("GET", "DELETE", ...); "OTHER" for Method::other.
std::string_view to_string(Method m) noexcept;

/// Maps an exact, case-sensitive method token to a Method (Method::other when unknown).
Method parse_method(std::string_view token) noexcept;

}  // namespace herald
