#include "client/body_decoder.hpp"

#include <algorithm>

namespace herald::client {

BodyDecoder::BodyDecoder(const http::ResponseHead& head, std::uint64_t max_body_bytes)
    : framing_(head.body),
      remaining_(head.body == http::ResponseBody::content_length ? head.content_length : 0),
      chunked_(http::ChunkedLimits{.max_body_bytes = max_body_bytes}) {
    complete_ = framing_ == http::ResponseBody::none ||
                (framing_ == http::ResponseBody::content_length && remaining_ == 0);
}

BodyDecoder::Result BodyDecoder::decode(std::string_view in) {
    if (complete_) return {{}, http::ParseStatus::complete};
    switch (framing_) {
        case http::ResponseBody::until_close:
            return {in, http::ParseStatus::incomplete};
        case http::ResponseBody::content_length: {
            const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size()));
            remaining_ -= n;
            complete_ = remaining_ == 0;
            return {in.substr(0, n), complete_ ? http::ParseStatus::complete : http::ParseStatus::incomplete};
        }
        case http::ResponseBody::chunked: {
            // The decoder may leave a partial size line or trailer unconsumed: keep it for the next call.
            pending_.append(in);
            payload_.clear();
            const auto r = chunked_.decode(pending_, payload_);
            pending_.erase(0, r.consumed);
            complete_ = r.status == http::ParseStatus::complete;
            if (complete_) pending_.clear();
            return {payload_, r.status};
        }
        case http::ResponseBody::none:
            break;
    }
    return {{}, http::ParseStatus::complete};
}

bool BodyDecoder::end_of_input() const noexcept {
    return complete_ || framing_ == http::ResponseBody::until_close;
}

}  // namespace herald::client
