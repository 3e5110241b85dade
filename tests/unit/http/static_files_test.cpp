// Static file serving against a real temporary folder: content types, validators and 304s, byte ranges,
// directory indexes and the ways a path can try to leave the root.
#include <herald/http/static_files.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <herald/error.hpp>
#include <herald/http/parser.hpp>

namespace herald {
namespace {

namespace fs = std::filesystem;
using HeaderList = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view digits20 = "0123456789abcdefghij";
// 1994-11-06 08:49:37 UTC, the RFC's example date.
constexpr std::time_t rfc_example_time = 784111777;

void write_file(const fs::path& path, std::string_view content) {
    std::ofstream out(path, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    ASSERT_TRUE(out.good()) << path;
}

void set_mtime(const fs::path& path, std::time_t seconds) {
    const timespec times[2] = {{seconds, 0}, {seconds, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

// The bytes a FileBody describes, read through its descriptor as sendfile would.
std::string file_bytes(const FileBody& body) {
    std::string out(body.length, '\0');
    const ssize_t n = ::pread(*body.fd, out.data(), out.size(), static_cast<off_t>(body.offset));
    if (n < 0) return "<pread failed>";
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::string header_of(const Response& res, std::string_view name) {
    auto v = res.headers().get(name);
    return v ? std::string(*v) : std::string("<absent>");
}

class StaticFilesTest : public ::testing::Test {
protected:
    void SetUp() override {
        static std::atomic<unsigned> counter{0};
        std::random_device random;
        base_ = fs::temp_directory_path() /
                ("herald_static_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
                 std::to_string(random()));
        root_ = base_ / "web";
        fs::create_directories(root_ / "sub");
        fs::create_directories(root_ / "empty");
        fs::create_directories(base_ / "web2");

        write_file(root_ / "digits.bin", digits20);
        write_file(root_ / "hello.txt", "hello\n");
        write_file(root_ / "index.html", "<h1>home</h1>");
        write_file(root_ / "sub" / "index.html", "sub index");
        write_file(root_ / "style.CSS", "body{}");
        write_file(root_ / "100%.txt", "percent");
        write_file(root_ / "a b.txt", "space");
        write_file(base_ / "secret.txt", "secret");
        write_file(base_ / "web2" / "x.txt", "sibling");

        fs::create_symlink("hello.txt", root_ / "link_in");
        fs::create_symlink("../secret.txt", root_ / "link_out");
        fs::create_symlink(base_, root_ / "dirlink_out");
        fs::create_symlink("../web2/x.txt", root_ / "sibling");
        handler_ = static_files(root_);
    }

    void TearDown() override {
        std::error_code ec;
        fs::permissions(root_ / "locked.txt", fs::perms::owner_all, ec);
        fs::remove_all(base_, ec);
    }

    // Runs a request for "/static/<raw>" through `handler`, as the router would for "/static/*".
    static Response call(const Handler& handler, std::string_view raw, HeaderList headers = {},
                         Method method = Method::get) {
        const std::string target = "/static/" + std::string(raw);
        std::vector<Header> fields;
        for (const auto& [name, value] : headers) fields.push_back({name, value});
        http::RequestHead head;
        head.method = method;
        head.method_name = to_string(method);
        head.target = target;
        head.headers = fields;
        Request req;
        req.assign(head, {}, asio::ip::tcp::endpoint{});
        req.add_param("*", raw);
        return handler.call_sync(req);
    }

    Response get(std::string_view raw, HeaderList headers = {}) const {
        return call(handler_, raw, std::move(headers));
    }

    // Calls serve_file directly with an already-decoded relative path.
    Response serve(std::string_view relative, HeaderList headers = {}, Method method = Method::get,
                   const StaticOptions& options = {}) const {
        std::vector<Header> fields;
        for (const auto& [name, value] : headers) fields.push_back({name, value});
        http::RequestHead head;
        head.method = method;
        head.method_name = to_string(method);
        head.target = "/x";
        head.headers = fields;
        Request req;
        req.assign(head, {}, asio::ip::tcp::endpoint{});
        return serve_file(root_, relative, req, options);
    }

    fs::path base_;
    fs::path root_;
    Handler handler_;
};

const FileBody* file_body(const Response& res) { return std::get_if<FileBody>(&res.body()); }

// ---- content types ----

TEST(StaticContentType, KnownExtensions) {
    EXPECT_EQ(content_type_for("index.html"), "text/html; charset=utf-8");
    EXPECT_EQ(content_type_for("a.htm"), "text/html; charset=utf-8");
    EXPECT_EQ(content_type_for("a.css"), "text/css; charset=utf-8");
    EXPECT_EQ(content_type_for("app.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(content_type_for("mod.mjs"), "text/javascript; charset=utf-8");
    EXPECT_EQ(content_type_for("data.json"), "application/json");
    EXPECT_EQ(content_type_for("notes.txt"), "text/plain; charset=utf-8");
    EXPECT_EQ(content_type_for("feed.xml"), "application/xml");
    EXPECT_EQ(content_type_for("logo.svg"), "image/svg+xml");
    EXPECT_EQ(content_type_for("a.png"), "image/png");
    EXPECT_EQ(content_type_for("a.jpg"), "image/jpeg");
    EXPECT_EQ(content_type_for("a.jpeg"), "image/jpeg");
    EXPECT_EQ(content_type_for("a.gif"), "image/gif");
    EXPECT_EQ(content_type_for("a.webp"), "image/webp");
    EXPECT_EQ(content_type_for("favicon.ico"), "image/x-icon");
    EXPECT_EQ(content_type_for("m.wasm"), "application/wasm");
    EXPECT_EQ(content_type_for("doc.pdf"), "application/pdf");
    EXPECT_EQ(content_type_for("f.woff"), "font/woff");
    EXPECT_EQ(content_type_for("f.woff2"), "font/woff2");
    EXPECT_EQ(content_type_for("f.ttf"), "font/ttf");
    EXPECT_EQ(content_type_for("v.mp4"), "video/mp4");
    EXPECT_EQ(content_type_for("v.webm"), "video/webm");
    EXPECT_EQ(content_type_for("s.mp3"), "audio/mpeg");
    EXPECT_EQ(content_type_for("s.ogg"), "audio/ogg");
    EXPECT_EQ(content_type_for("s.wav"), "audio/wav");
    EXPECT_EQ(content_type_for("app.js.map"), "application/json");
}

TEST(StaticContentType, CaseInsensitiveAndPaths) {
    EXPECT_EQ(content_type_for("INDEX.HTML"), "text/html; charset=utf-8");
    EXPECT_EQ(content_type_for("Photo.JpEg"), "image/jpeg");
    EXPECT_EQ(content_type_for("assets/v1.2/app.js"), "text/javascript; charset=utf-8");
}

TEST(StaticContentType, UnknownIsOctetStream) {
    EXPECT_EQ(content_type_for("archive.xyz"), "application/octet-stream");
    EXPECT_EQ(content_type_for("Makefile"), "application/octet-stream");
    EXPECT_EQ(content_type_for(".htaccess"), "application/octet-stream");
    EXPECT_EQ(content_type_for("dir.html/file"), "application/octet-stream");
    EXPECT_EQ(content_type_for("trailing."), "application/octet-stream");
    EXPECT_EQ(content_type_for("a.averyveryverylongextension"), "application/octet-stream");
    EXPECT_EQ(content_type_for(""), "application/octet-stream");
}

// ---- whole files ----

TEST_F(StaticFilesTest, ServesWholeFileWithValidators) {
    set_mtime(root_ / "digits.bin", rfc_example_time);
    const Response res = get("digits.bin");
    ASSERT_EQ(res.status(), 200);
    const FileBody* body = file_body(res);
    ASSERT_NE(body, nullptr);
    ASSERT_TRUE(body->fd);
    EXPECT_EQ(body->offset, 0u);
    EXPECT_EQ(body->length, 20u);
    EXPECT_EQ(file_bytes(*body), digits20);
    EXPECT_EQ(header_of(res, "Content-Type"), "application/octet-stream");
    EXPECT_EQ(header_of(res, "Accept-Ranges"), "bytes");
    EXPECT_EQ(header_of(res, "Last-Modified"), "Sun, 06 Nov 1994 08:49:37 GMT");
    // "<hex size>-<hex mtime in ns>", quoted: 20 bytes, 784111777 s.
    EXPECT_EQ(header_of(res, "ETag"), "\"14-ae1b981bc490a00\"");
    EXPECT_FALSE(res.headers().contains("Cache-Control"));
    EXPECT_FALSE(res.headers().contains("Content-Range"));
}

TEST_F(StaticFilesTest, ContentTypeFollowsTheRequestedName) {
    EXPECT_EQ(header_of(get("hello.txt"), "Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(header_of(get("style.CSS"), "Content-Type"), "text/css; charset=utf-8");
    EXPECT_EQ(header_of(get("index.html"), "Content-Type"), "text/html; charset=utf-8");
}

TEST_F(StaticFilesTest, EtagChangesWithContent) {
    const std::string before = header_of(get("hello.txt"), "ETag");
    write_file(root_ / "hello.txt", "hello, longer\n");
    EXPECT_NE(header_of(get("hello.txt"), "ETag"), before);
}

TEST_F(StaticFilesTest, CacheControlFromOptions) {
    const Handler handler = static_files(root_, {.cache_control = "public, max-age=3600"});
    const Response res = call(handler, "hello.txt");
    EXPECT_EQ(res.status(), 200);
    EXPECT_EQ(header_of(res, "Cache-Control"), "public, max-age=3600");
}

TEST_F(StaticFilesTest, HeadHasTheHeadersOfGet) {
    const Response res = call(handler_, "digits.bin", {{"Range", "bytes=0-1"}}, Method::head);
    ASSERT_EQ(res.status(), 200);  // Range is defined for GET only
    const FileBody* body = file_body(res);
    ASSERT_NE(body, nullptr);
    EXPECT_EQ(body->length, 20u);  // the server derives Content-Length from it and sends no body
    EXPECT_TRUE(res.headers().contains("ETag"));
    EXPECT_TRUE(res.headers().contains("Last-Modified"));
    EXPECT_EQ(header_of(res, "Accept-Ranges"), "bytes");
}

TEST_F(StaticFilesTest, OtherMethodsGet405WithAllow) {
    for (Method m : {Method::post, Method::put, Method::delete_, Method::options}) {
        const Response res = call(handler_, "hello.txt", {}, m);
        EXPECT_EQ(res.status(), 405) << to_string(m);
        EXPECT_EQ(header_of(res, "Allow"), "GET, HEAD");
        EXPECT_EQ(file_body(res), nullptr);
    }
}

TEST_F(StaticFilesTest, MissingFileIs404) {
    const Response res = get("nope.txt");
    EXPECT_EQ(res.status(), 404);
    EXPECT_EQ(file_body(res), nullptr);
    EXPECT_EQ(get("nodir/nope.txt").status(), 404);
    EXPECT_EQ(get("hello.txt/more").status(), 404);
}

TEST_F(StaticFilesTest, DecodedNamesAreNotDecodedTwice) {
    Response res = get("100%25.txt");  // the file "100%.txt"
    ASSERT_EQ(res.status(), 200);
    EXPECT_EQ(file_bytes(*file_body(res)), "percent");
    res = get("a%20b.txt");
    ASSERT_EQ(res.status(), 200);
    EXPECT_EQ(file_bytes(*file_body(res)), "space");
    EXPECT_EQ(serve("100%.txt").status(), 200);
}

TEST_F(StaticFilesTest, DescriptorClosesWithTheLastBodyCopy) {
    int fd = -1;
    FileBody copy;
    {
        const Response res = get("hello.txt");
        ASSERT_NE(file_body(res), nullptr);
        copy = *file_body(res);
        fd = *copy.fd;
        ASSERT_GE(fd, 0);
        EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
    }
    EXPECT_NE(::fcntl(fd, F_GETFD), -1);  // the copy keeps it open
    copy = {};
    errno = 0;
    EXPECT_EQ(::fcntl(fd, F_GETFD), -1);
    EXPECT_EQ(errno, EBADF);
}

// ---- conditional requests ----

TEST_F(StaticFilesTest, IfNoneMatchGives304) {
    const std::string etag = header_of(get("hello.txt"), "ETag");
    for (const std::string& value : {etag, "W/" + etag, "\"other\", " + etag, std::string("*"), "\"a\",W/" + etag}) {
        const Response res = get("hello.txt", {{"If-None-Match", value}});
        EXPECT_EQ(res.status(), 304) << value;
        EXPECT_EQ(header_of(res, "ETag"), etag);
        EXPECT_EQ(file_body(res), nullptr);
        ASSERT_NE(res.body_text(), nullptr);
        EXPECT_TRUE(res.body_text()->empty());
    }
    EXPECT_EQ(get("hello.txt", {{"If-None-Match", "\"other\""}}).status(), 200);
    EXPECT_EQ(get("hello.txt", {{"If-None-Match", "garbage"}}).status(), 200);
    EXPECT_EQ(call(handler_, "hello.txt", {{"If-None-Match", etag}}, Method::head).status(), 304);
}

TEST_F(StaticFilesTest, NotModifiedCarriesCacheControl) {
    const Handler handler = static_files(root_, {.cache_control = "no-cache"});
    const std::string etag = header_of(call(handler, "hello.txt"), "ETag");
    const Response res = call(handler, "hello.txt", {{"If-None-Match", etag}});
    EXPECT_EQ(res.status(), 304);
    EXPECT_EQ(header_of(res, "Cache-Control"), "no-cache");
}

TEST_F(StaticFilesTest, IfModifiedSinceGives304) {
    set_mtime(root_ / "hello.txt", rfc_example_time);
    // The three HTTP-date formats a recipient must accept.
    for (const char* date : {"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
                             "Sun Nov  6 08:49:37 1994", "Mon, 07 Nov 1994 00:00:00 GMT"}) {
        const Response res = get("hello.txt", {{"If-Modified-Since", date}});
        EXPECT_EQ(res.status(), 304) << date;
        EXPECT_EQ(file_body(res), nullptr);
    }
    EXPECT_EQ(get("hello.txt", {{"If-Modified-Since", "Sun, 06 Nov 1994 08:49:36 GMT"}}).status(), 200);
    EXPECT_EQ(get("hello.txt", {{"If-Modified-Since", "yesterday"}}).status(), 200);
    EXPECT_EQ(get("hello.txt", {{"If-Modified-Since", "Sun, 31 Feb 1994 08:49:37 GMT"}}).status(), 200);
    // A date in the future is invalid and ignored.
    EXPECT_EQ(get("hello.txt", {{"If-Modified-Since", "Fri, 01 Jan 9999 00:00:00 GMT"}}).status(), 200);
}

TEST_F(StaticFilesTest, IfNoneMatchTakesPrecedenceOverIfModifiedSince) {
    set_mtime(root_ / "hello.txt", rfc_example_time);
    const Response res = get("hello.txt", {{"If-None-Match", "\"stale\""},
                                           {"If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"}});
    EXPECT_EQ(res.status(), 200);
}

TEST_F(StaticFilesTest, FailedPreconditionsGive412) {
    set_mtime(root_ / "hello.txt", rfc_example_time);
    const std::string etag = header_of(get("hello.txt"), "ETag");
    EXPECT_EQ(get("hello.txt", {{"If-Match", etag}}).status(), 200);
    EXPECT_EQ(get("hello.txt", {{"If-Match", "*"}}).status(), 200);
    EXPECT_EQ(get("hello.txt", {{"If-Match", "\"other\""}}).status(), 412);
    EXPECT_EQ(get("hello.txt", {{"If-Match", "W/" + etag}}).status(), 412);  // strong comparison
    EXPECT_EQ(get("hello.txt", {{"If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"}}).status(), 200);
    EXPECT_EQ(get("hello.txt", {{"If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:36 GMT"}}).status(), 412);
}

// ---- ranges ----

struct RangeCase {
    const char* range;
    std::uint64_t first;
    std::uint64_t last;
};

TEST_F(StaticFilesTest, SatisfiableRangesGive206) {
    const RangeCase cases[] = {
        {"bytes=2-5", 2, 5},        {"bytes=15-", 15, 19},    {"bytes=-5", 15, 19},
        {"bytes=-50", 0, 19},       {"bytes=5-1000", 5, 19},  {"bytes=0-0", 0, 0},
        {"bytes=19-19", 19, 19},    {"Bytes=3-4", 3, 4},      {"bytes=0-1, ", 0, 1},
        {"bytes=7-99999999999999999999999", 7, 19},
    };
    for (const RangeCase& c : cases) {
        const Response res = get("digits.bin", {{"Range", c.range}});
        ASSERT_EQ(res.status(), 206) << c.range;
        EXPECT_EQ(header_of(res, "Content-Range"),
                  "bytes " + std::to_string(c.first) + "-" + std::to_string(c.last) + "/20")
            << c.range;
        const FileBody* body = file_body(res);
        ASSERT_NE(body, nullptr);
        EXPECT_EQ(body->offset, c.first);
        EXPECT_EQ(body->length, c.last - c.first + 1);
        EXPECT_EQ(file_bytes(*body), digits20.substr(c.first, c.last - c.first + 1)) << c.range;
        EXPECT_TRUE(res.headers().contains("ETag"));
        EXPECT_EQ(header_of(res, "Content-Type"), "application/octet-stream");
    }
}

TEST_F(StaticFilesTest, UnsatisfiableRangesGive416) {
    for (const char* range : {"bytes=20-", "bytes=20-25", "bytes=-0", "bytes=99999999999999999999999-"}) {
        const Response res = get("digits.bin", {{"Range", range}});
        EXPECT_EQ(res.status(), 416) << range;
        EXPECT_EQ(header_of(res, "Content-Range"), "bytes */20");
        EXPECT_EQ(file_body(res), nullptr);
    }
}

TEST_F(StaticFilesTest, MalformedOrMultipleRangesServeTheWholeFile) {
    for (const char* range : {"bytes=abc", "items=0-1", "bytes=5-2", "bytes 0-1", "bytes=", "bytes=1", "bytes=--1",
                              "bytes=0x1-2", "bytes= 0 - 1", "bytes=0-1,4-5", "bytes=0-1,30-40"}) {
        const Response res = get("digits.bin", {{"Range", range}});
        EXPECT_EQ(res.status(), 200) << range;
        const FileBody* body = file_body(res);
        ASSERT_NE(body, nullptr);
        EXPECT_EQ(body->offset, 0u);
        EXPECT_EQ(body->length, 20u);
        EXPECT_FALSE(res.headers().contains("Content-Range"));
    }
}

TEST_F(StaticFilesTest, RangeOnEmptyFileServesItWhole) {
    write_file(root_ / "empty.txt", "");
    const Response res = get("empty.txt", {{"Range", "bytes=0-"}});
    EXPECT_EQ(res.status(), 200);
    ASSERT_NE(file_body(res), nullptr);
    EXPECT_EQ(file_body(res)->length, 0u);
}

TEST_F(StaticFilesTest, IfRangeGatesTheRange) {
    set_mtime(root_ / "digits.bin", rfc_example_time);
    const std::string etag = header_of(get("digits.bin"), "ETag");
    auto status_with = [&](const std::string& if_range) {
        return get("digits.bin", {{"Range", "bytes=0-3"}, {"If-Range", if_range}}).status();
    };
    EXPECT_EQ(status_with(etag), 206);
    EXPECT_EQ(status_with("\"other\""), 200);
    EXPECT_EQ(status_with("W/" + etag), 200);  // a weak tag never matches If-Range
    EXPECT_EQ(status_with("Sun, 06 Nov 1994 08:49:37 GMT"), 206);
    EXPECT_EQ(status_with("Sun, 06 Nov 1994 08:49:38 GMT"), 200);
    EXPECT_EQ(status_with("not a date"), 200);
}

// ---- directories ----

TEST_F(StaticFilesTest, DirectoryServesItsIndex) {
    Response res = get("");
    ASSERT_EQ(res.status(), 200);
    EXPECT_EQ(file_bytes(*file_body(res)), "<h1>home</h1>");
    EXPECT_EQ(header_of(res, "Content-Type"), "text/html; charset=utf-8");

    res = get("sub/");
    ASSERT_EQ(res.status(), 200);
    EXPECT_EQ(file_bytes(*file_body(res)), "sub index");
    EXPECT_EQ(header_of(res, "Content-Type"), "text/html; charset=utf-8");

    EXPECT_EQ(get("empty/").status(), 404);
}

TEST_F(StaticFilesTest, DirectoryWithoutSlashRedirects) {
    const Response res = get("sub");
    EXPECT_EQ(res.status(), 301);
    EXPECT_EQ(header_of(res, "Location"), "/static/sub/");
    // serve_file cannot know that "path/" reaches the same folder, so it serves the index directly.
    const Response direct = serve("sub");
    ASSERT_EQ(direct.status(), 200);
    EXPECT_EQ(file_bytes(*file_body(direct)), "sub index");
}

TEST_F(StaticFilesTest, EmptyIndexOptionDisablesIndexes) {
    const Handler handler = static_files(root_, {.index = "", .cache_control = ""});
    EXPECT_EQ(call(handler, "sub/").status(), 404);
    EXPECT_EQ(call(handler, "").status(), 404);
    EXPECT_EQ(call(handler, "hello.txt").status(), 200);
}

TEST_F(StaticFilesTest, TrailingSlashOnAFileIs404) { EXPECT_EQ(get("hello.txt/").status(), 404); }

// ---- escaping the root ----

TEST_F(StaticFilesTest, TraversalAttemptsAreRejected) {
    const char* attempts[] = {"../secret.txt",       "%2e%2e/secret.txt", "%2E%2E/secret.txt", "a/../../secret.txt",
                              "..%2fsecret.txt",     "..%2Fsecret.txt",   "sub/../../secret.txt",
                              "..",                  "sub/..",            "..%5csecret.txt",
                              "sub%5c..%5c..%5csecret.txt", "/etc/passwd", "%2fetc%2fpasswd",
                              "./../secret.txt"};
    for (const char* raw : attempts) {
        const Response res = get(raw);
        EXPECT_EQ(res.status(), 404) << raw;
        EXPECT_EQ(file_body(res), nullptr) << raw;
    }
}

TEST_F(StaticFilesTest, NulAndMalformedEscapesAre400) {
    for (const char* raw : {"%00", "hello.txt%00.png", "%zz", "hello%2", "%"}) {
        const Response res = get(raw);
        EXPECT_EQ(res.status(), 400) << raw;
        EXPECT_EQ(file_body(res), nullptr) << raw;
    }
    EXPECT_EQ(serve(std::string_view("hello.txt\0.png", 14)).status(), 400);
}

TEST_F(StaticFilesTest, HarmlessDotSegmentsAreServed) {
    EXPECT_EQ(get("./hello.txt").status(), 200);
    EXPECT_EQ(get("sub//index.html").status(), 200);
}

TEST_F(StaticFilesTest, SymlinksOutOfRootAre404) {
    EXPECT_EQ(get("link_out").status(), 404);
    EXPECT_EQ(get("dirlink_out/secret.txt").status(), 404);
    EXPECT_EQ(get("sibling").status(), 404);  // "web2" shares a prefix with "web" but is outside it
    const Response inside = get("link_in");
    ASSERT_EQ(inside.status(), 200);
    EXPECT_EQ(file_bytes(*file_body(inside)), "hello\n");
}

TEST_F(StaticFilesTest, IndexSymlinkOutOfRootIs404) {
    fs::create_directories(root_ / "trap");
    fs::create_symlink(base_ / "secret.txt", root_ / "trap" / "index.html");
    EXPECT_EQ(get("trap/").status(), 404);
}

TEST_F(StaticFilesTest, SpecialFilesAreNotServed) {
    // Opening a FIFO without O_NONBLOCK would hang here waiting for a writer.
    ASSERT_EQ(::mkfifo((root_ / "pipe").c_str(), 0600), 0);
    EXPECT_EQ(get("pipe").status(), 404);
}

TEST_F(StaticFilesTest, UnreadableFileIs403) {
    if (::geteuid() == 0) GTEST_SKIP() << "root reads files regardless of permissions";
    write_file(root_ / "locked.txt", "locked");
    fs::permissions(root_ / "locked.txt", fs::perms::none);
    EXPECT_EQ(get("locked.txt").status(), 403);
}

// The same path through a real Router: the wildcard hands over the raw rest of the path.
TEST_F(StaticFilesTest, WorksBehindARouterWildcard) {
    Router router;
    router.get("/static/*", static_files(root_));
    auto run = [&](Method method, std::string_view target) {
        http::RequestHead head;
        head.method = method;
        head.method_name = to_string(method);
        head.target = target;
        Request req;
        req.assign(head, {}, asio::ip::tcp::endpoint{});
        RouteMatch match;
        router.match(method, req.path(), match);
        if (!match.handler) return Response::error(match.status);
        req.clear_params();
        for (const auto& [name, value] : match.params) req.add_param(name, value);
        EXPECT_TRUE(match.is_sync());
        return match.handler->call_sync(req);
    };
    Response res = run(Method::get, "/static/sub/index.html?v=3");
    ASSERT_EQ(res.status(), 200);
    EXPECT_EQ(file_bytes(*file_body(res)), "sub index");
    EXPECT_EQ(run(Method::head, "/static/hello.txt").status(), 200);
    EXPECT_EQ(run(Method::get, "/static/%2e%2e/secret.txt").status(), 404);
    EXPECT_EQ(run(Method::get, "/static/..%2fsecret.txt").status(), 404);
    EXPECT_EQ(run(Method::get, "/static/%zz").status(), 400);
    EXPECT_EQ(run(Method::get, "/static/100%25.txt").status(), 200);
    res = run(Method::get, "/static/sub?x=1");
    EXPECT_EQ(res.status(), 301);
    EXPECT_EQ(header_of(res, "Location"), "/static/sub/?x=1");
    EXPECT_EQ(run(Method::get, "/static/").status(), 200);
}

TEST_F(StaticFilesTest, ServeFileWithMissingRootIs404) {
    http::RequestHead head;
    head.target = "/x";
    Request req;
    req.assign(head, {}, asio::ip::tcp::endpoint{});
    EXPECT_EQ(serve_file(base_ / "missing", "hello.txt", req).status(), 404);
}

TEST_F(StaticFilesTest, MissingRootFailsAtSetup) {
    EXPECT_THROW(static_files(base_ / "missing"), herald::error);
    EXPECT_THROW(static_files(root_ / "hello.txt"), herald::error);
}

}  // namespace
}  // namespace herald
