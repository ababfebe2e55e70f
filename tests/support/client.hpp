#pragma once
// Shared test double: one client replica (MemoryStore) with its loopback link and session,
// connected to a testing::Server<resync::doc::Model>. Tests of every area use it; keep it small.

#include <resync/doc.hpp>
#include <resync/memory_store.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>
#include <resync/testing/server.hpp>

#include <cstdint>
#include <string>
#include <utility>

namespace resync_test {

template <class Policy>
struct Client {
    resync::MemoryStore store;
    resync::testing::LoopbackTransport<resync::doc::Model> link;
    resync::SyncSession<resync::MemoryStore, resync::testing::LoopbackTransport<resync::doc::Model>, Policy> session;

    explicit Client(resync::testing::Server<resync::doc::Model>& server, Policy policy = {}, resync::SessionOptions options = {},
                    std::uint64_t link_seed = 7)
        : link(server, link_seed), session(store, link, std::move(policy), std::move(options)) {}

    /// Creates (or updates) `collection/key` with field `field` = `value` in one local transaction.
    resync::ClientVersion put(const std::string& collection, const std::string& key, const std::string& field,
                              resync::doc::Value value) {
        auto v = store.write([&](resync::doc::Writer& w) { w.create(collection, key).set(collection, key, field, value); });
        return v ? *v : 0;
    }

    resync::SessionState sync(std::size_t max_polls = 20000) { return session.run_until_idle(max_polls); }
};

/// A string value, without the ambiguity of `const char*` converting to bool.
inline resync::doc::Value str(const char* s) { return resync::doc::Value{std::string(s)}; }
inline resync::doc::Value num(std::int64_t i) { return resync::doc::Value{i}; }

} // namespace resync_test
