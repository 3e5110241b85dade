#include "net/reactor.hpp"

namespace herald::net {

Reactor::Reactor(asio::io_context& context)
    : deadlines(context), poller(context), context_(context), read_buffer_(new char[read_buffer_size]) {}

Reactor::~Reactor() { close_all(); }

void Reactor::add(LoopMember& c) noexcept {
    c.prev_in_loop = nullptr;
    c.next_in_loop = first_;
    if (first_) first_->prev_in_loop = &c;
    first_ = &c;
    c.in_loop = true;
    connections_open.fetch_add(1, std::memory_order_relaxed);
}

void Reactor::remove(LoopMember& c) noexcept {
    if (!c.in_loop) return;
    c.in_loop = false;
    (c.prev_in_loop ? c.prev_in_loop->next_in_loop : first_) = c.next_in_loop;
    if (c.next_in_loop) c.next_in_loop->prev_in_loop = c.prev_in_loop;
    c.prev_in_loop = c.next_in_loop = nullptr;
    connections_open.fetch_sub(1, std::memory_order_relaxed);
    on_member_removed();
}

void Reactor::close_all() noexcept {
    // Unlink every member first: their objects may outlive the reactor inside handlers that the
    // io_context destroys last.
    while (first_) first_->close();
}

void Reactor::drain_all() {
    draining_ = true;
    for (LoopMember* c = first_; c;) {
        LoopMember* next = c->next_in_loop;
        c->drain();
        c = next;
    }
}

namespace {

// One client reactor per io_context, as an Asio service: found by type, shut down (its members closed)
// before the io_context's other services go.
class ClientReactorService final : public asio::execution_context::service {
public:
    static inline asio::execution_context::id id;

    explicit ClientReactorService(asio::execution_context& owner)
        : service(owner), reactor_(std::make_unique<Reactor>(static_cast<asio::io_context&>(owner))) {}

    Reactor& reactor() noexcept { return *reactor_; }

private:
    void shutdown() override { reactor_.reset(); }

    std::unique_ptr<Reactor> reactor_;
};

}  // namespace

Reactor& client_reactor(asio::io_context& context) { return asio::use_service<ClientReactorService>(context).reactor(); }

}  // namespace herald::net
