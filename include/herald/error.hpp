#pragma once
// Errors reported at the API: setup failures throw herald::error; data-path outcomes are error codes.
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

namespace herald {

/// Thrown for setup failures (port in use, bad route pattern, bad option) and API misuse.
/// what() is exactly the message given; code() carries the cause when there is one.
class error : public std::system_error {
public:
    /// An error with a message and no underlying system cause.
    explicit error(const std::string& what)
        : std::system_error(std::make_error_code(std::errc::invalid_argument)),
          what_(std::make_shared<const std::string>(what)) {}
    /// An error wrapping a system error code, e.g. EADDRINUSE from bind(); the message should say it.
    error(std::error_code code, const std::string& what)
        : std::system_error(code), what_(std::make_shared<const std::string>(what)) {}

    const char* what() const noexcept override { return what_->c_str(); }

private:
    std::shared_ptr<const std::string> what_;  // shared: exceptions must copy without throwing
};

}  // namespace herald
