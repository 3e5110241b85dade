#include <herald/http/method.hpp>

namespace herald {

std::string_view to_string(Method m) noexcept {
    switch (m) {
        case Method::get: return "GET";
        case Method::head: return "HEAD";
        case Method::post: return "POST";
        case Method::put: return "PUT";
        case Method::patch: return "PATCH";
        case Method::delete_: return "DELETE";
        case Method::options: return "OPTIONS";
        case Method::connect: return "CONNECT";
        case Method::trace: return "TRACE";
        case Method::other: break;
    }
    return "OTHER";
}

Method parse_method(std::string_view token) noexcept {
    // Dispatch on length first so each token is compared against at most three candidates.
    switch (token.size()) {
        case 3:
            if (token == "GET") return Method::get;
            if (token == "PUT") return Method::put;
            break;
        case 4:
            if (token == "POST") return Method::post;
            if (token == "HEAD") return Method::head;
            break;
        case 5:
            if (token == "PATCH") return Method::patch;
            if (token == "TRACE") return Method::trace;
            break;
        case 6:
            if (token == "DELETE") return Method::delete_;
            break;
        case 7:
            if (token == "OPTIONS") return Method::options;
            if (token == "CONNECT") return Method::connect;
            break;
        default: break;
    }
    return Method::other;
}

}  // namespace herald
