// Built against resync::compiled by the tests `consumer.<mode>`: a shipped session (declared
// extern by <resync/compiled.hpp>, compiled in the library) made and polled here without being
// compiled here, and the document model's out-of-line functions called from here. It links only
// if the library holds them.
#include <resync/bytes.hpp>
#include <resync/compiled.hpp>
#include <resync/doc/codec.hpp>

#include <cstdint>
#include <string>

#if !defined(RESYNC_COMPILED)
#error "resync::compiled must set RESYNC_COMPILED on its users"
#endif

int main() {
    resync::MemoryStore store(1);
    resync::compiled::Tcp link("127.0.0.1:9"); // nothing listens: the session stays offline
    resync::SyncSession<resync::MemoryStore, resync::compiled::Tcp, resync::doc::RecoverOrDiscard> session(store, link);
    (void)store.write([](resync::doc::Writer& w) { w.create("items", "a").set("items", "a", "n", std::int64_t{7}); });
    session.poll();

    std::string bytes;
    resync::ByteWriter w(bytes);
    resync::doc::encode(w, resync::doc::Operation{resync::doc::CreateObject{"items", "b"}});
    // The alternative's index (CreateObject: 0) first, then the collection and the key.
    const bool encoded = !bytes.empty() && bytes[0] == '\0';
    const bool written = store.state().find("items", "a") != nullptr;
    return encoded && written ? 0 : 1;
}
