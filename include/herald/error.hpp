#pragma once
// Errors reported at the API: setup failures throw herald::error; data-path outcomes are error codes.
#include <stdexcept>
#include <string>
#include <system_error>

namespace herald {

/// Thrown for setup failures (port in use, bad route pattern, bad option) and API misuse.
class error : public std::system_error {
public:
    /// An error with a message and no underlying system cause.
    explicit error(const std::string& what)
        : std::system_error(std::make_error_code(std::errc::invalid_argument), what) {}
    /// An error wrapping a system error code, e.g. EADDRINUSE from bind().
    error(std::error_code code, const std::string& what) : std::system_error(code, what) {}
};

}  // namespace herald
