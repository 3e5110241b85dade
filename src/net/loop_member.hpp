#pragma once
// Something a loop owns for its whole life and must close on a graceful stop: an HTTP connection,
// or a WebSocket session it was upgraded into.
namespace herald::net {

class LoopMember {
public:
    /// The server is stopping: finish what is in flight, then close.
    virtual void drain() = 0;
    /// Close at once (the shutdown deadline passed).
    virtual void close() noexcept = 0;

    // Intrusive list of the loop's members (loop thread only).
    LoopMember* prev_in_loop = nullptr;
    LoopMember* next_in_loop = nullptr;
    bool in_loop = false;

protected:
    ~LoopMember() = default;
};

}  // namespace herald::net
