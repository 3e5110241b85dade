// libFuzzer target for the WebSocket client's reading of the server's handshake answer: the response
// head parser (include/herald/http/response_parser.hpp) and check_handshake_response().
//
// Input byte 0 chooses where to cut the rest in two; parsing the two pieces incrementally must give the
// same outcome as parsing it whole. A complete head is then checked as our client would check it for
// the key of RFC 6455 §1.3 (whose Accept value is in the dictionary): it must either return a
// subprotocol we offered (or none) or throw ConnectError — nothing else, never crash.
#include <herald/http/response_parser.hpp>
#include <herald/websocket/client_handshake.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace herald;
    if (size == 0) return 0;
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    const std::size_t cut = data[0] % (input.size() + 1);

    http::ResponseParser whole(4096, 32);
    const auto whole_status = whole.parse(input);
    http::ResponseParser split(4096, 32);
    auto split_status = split.parse(input.substr(0, cut));
    if (split_status == http::ParseStatus::incomplete) split_status = split.parse(input);
    FUZZ_CHECK(whole_status == split_status);
    if (whole_status != http::ParseStatus::complete) return 0;
    FUZZ_CHECK(whole.head_size() == split.head_size());
    FUZZ_CHECK(whole.head_size() <= input.size() && whole.head_size() <= 4096);
    FUZZ_CHECK(whole.head().status >= 100 && whole.head().status <= 599);
    FUZZ_CHECK(whole.head().headers.size() == split.head().headers.size());

    const std::vector<std::string> offered{"chat", "v2"};
    try {
        const auto protocol = websocket::check_handshake_response(whole.head(), "dGhlIHNhbXBsZSBub25jZQ==", offered);
        FUZZ_CHECK(protocol.empty() || protocol == "chat" || protocol == "v2");
        FUZZ_CHECK(whole.head().status == 101);
    } catch (const websocket::ConnectError&) {
    }
    return 0;
}
