#pragma once
// Serving files from a folder: content types, ETag / Last-Modified / 304, Range (206), no traversal.
#include <filesystem>
#include <string>
#include <string_view>

#include <herald/http/request.hpp>
#include <herald/http/response.hpp>
#include <herald/http/router.hpp>

namespace herald {

/// How static files are served.
struct StaticOptions {
    std::string index = "index.html";  ///< file served for a directory path ("" disables)
    std::string cache_control{};       ///< Cache-Control value to add ("" adds none)
};

/// A handler serving files below `root` for a wildcard route: `router.get("/assets/*", static_files("web"))`.
/// The wildcard part of the path names the file. Paths escaping `root` (.., symlinks out) give 404.
Handler static_files(std::filesystem::path root, StaticOptions options = {});

/// Answers `req` with the file `relative` below `root` (percent-decoded path, '/'-separated), honouring
/// If-None-Match, If-Modified-Since and Range. 404 when missing or outside root, 405 for non-GET/HEAD.
Response serve_file(const std::filesystem::path& root, std::string_view relative, const Request& req,
                    const StaticOptions& options = {});

/// The Content-Type for a file name by its extension ("application/octet-stream" when unknown).
std::string_view content_type_for(std::string_view filename) noexcept;

}  // namespace herald
