#pragma once
// A server-wide list of identified, live connections (WebSockets now, event sources alike), reachable
// from any thread: get by id, find by a predicate over ids, all. Closed connections leave it at once.
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald {

/// Identified connections of one kind. `Handle` is a cheap copyable handle with operator==.
/// Lookups copy handles out under a lock; sends through them happen outside it, on the connection's loop.
template <class Handle>
class Registry {
public:
    using Callback = std::function<void(const Handle&)>;

    /// The live connection registered under `id`.
    std::optional<Handle> get(std::string_view id) const {
        std::lock_guard lock(mutex_);
        auto it = entries_.find(id);
        if (it == entries_.end()) return std::nullopt;
        return it->second;
    }
    /// Every live connection whose id satisfies `predicate` (e.g. starts_with("room-")).
    std::vector<Handle> find(const std::function<bool(std::string_view)>& predicate) const {
        std::vector<Handle> out;
        std::lock_guard lock(mutex_);
        for (const auto& [id, handle] : entries_)
            if (predicate(id)) out.push_back(handle);
        return out;
    }
    /// Every live identified connection.
    std::vector<Handle> all() const {
        return find([](std::string_view) { return true; });
    }
    /// How many are live.
    std::size_t count() const {
        std::lock_guard lock(mutex_);
        return entries_.size();
    }
    /// Called (on the connection's loop) after a connection registered.
    void on_register(Callback f) {
        std::lock_guard lock(mutex_);
        on_register_ = std::move(f);
    }
    /// Called (on the connection's loop) after a connection left.
    void on_unregister(Callback f) {
        std::lock_guard lock(mutex_);
        on_unregister_ = std::move(f);
    }

    // ---- used by the connections themselves ----
    /// Registers `handle` under `id`. With `replace`, an existing entry is replaced and returned (for the
    /// caller to close); without it, an existing entry makes this fail (returns false).
    bool add(const std::string& id, const Handle& handle, bool replace, std::optional<Handle>& replaced) {
        Callback notify;
        {
            std::lock_guard lock(mutex_);
            auto it = entries_.find(id);
            if (it != entries_.end()) {
                if (!replace) return false;
                replaced = it->second;
                it->second = handle;
            } else {
                entries_.emplace(id, handle);
            }
            notify = on_register_;
        }
        if (notify) notify(handle);
        return true;
    }
    /// Removes `id` if it still refers to `handle` (a replaced connection must not remove its successor).
    void remove(std::string_view id, const Handle& handle) {
        Callback notify;
        {
            std::lock_guard lock(mutex_);
            auto it = entries_.find(id);
            if (it == entries_.end() || !(it->second == handle)) return;
            entries_.erase(it);
            notify = on_unregister_;
        }
        if (notify) notify(handle);
    }

private:
    mutable std::mutex mutex_;
    std::map<std::string, Handle, std::less<>> entries_;
    Callback on_register_;
    Callback on_unregister_;
};

}  // namespace herald
