// Fuzzes `resync::MemoryStore::load`, the reader of a store saved to disk. It reads only from a
// path, so each input is written to a file in a temporary folder of this process (under
// /dev/shm when there is one: `save` fsyncs, which costs nothing on tmpfs). Any file is a store
// or one of the three backup errors, never a crash; a store that loads saves and loads again
// to the same observable store (state, sync state, history, quarantine, ids). Input layout:
// see fuzz_support.hpp (byte 0 bit 0: frame the rest as a payload).
#include "fuzz_support.hpp"

#include <resync/bytes.hpp>
#include <resync/error.hpp>
#include <resync/memory_store.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

namespace {

namespace fs = std::filesystem;

/// This process's scratch folder, removed at exit, and the frame of a saved store (`MemoryStore`
/// keeps its magic private: it is read from a store saved here once).
struct Scratch {
    fs::path dir;
    std::string magic;
    std::uint32_t version = 0;

    Scratch() {
        const fs::path shm = "/dev/shm";
        std::string tmpl = ((fs::is_directory(shm) ? shm : fs::temp_directory_path()) / "resync-fuzz-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            std::perror("memory_store_file fuzzer: mkdtemp");
            std::abort();
        }
        dir = tmpl;
        const std::string empty = (dir / "empty").string();
        RESYNC_FUZZ_CHECK(!resync::MemoryStore(1).save(empty));
        const auto bytes = resync::detail::read_file(empty);
        RESYNC_FUZZ_CHECK(bytes && bytes->size() >= resync::detail::frame_header_size);
        magic = bytes->substr(0, 8);
        resync::ByteReader r(std::string_view(*bytes).substr(8));
        version = r.u32();
    }
    ~Scratch() {
        std::error_code ignored;
        fs::remove_all(dir, ignored);
    }
};

const Scratch& scratch() {
    static const Scratch s;
    return s;
}

/// Everything a `MemoryStore` shows of itself, with the state and operations in canonical form.
std::string observed(const resync::MemoryStore& s) {
    std::string out;
    resync::ByteWriter w(out);
    resync::detail::encode(w, s.sync_state());
    w.str(resync_fuzz::canonical(s.state()));
    for (const auto& history : {s.unsynced(), s.acknowledged_after(0)}) {
        w.u64(history.size());
        for (const auto& cs : history) {
            w.u64(cs.client_version);
            w.u64(cs.server_version);
            w.str(resync_fuzz::canonical(cs.ops));
        }
    }
    w.u64(s.quarantined().size());
    for (const auto& q : s.quarantined()) {
        w.u64(q.client_version);
        w.u64(q.index);
        resync::doc::encode(w, q.operation);
        w.str(q.reason);
        w.u8(static_cast<std::uint8_t>(q.cause));
        w.i64(q.at_ms);
    }
    w.u64(s.replica_id());
    w.u64(s.last_client_version());
    w.u8(s.has_unsynced() ? 1 : 0);
    return out;
}

void write_file(const std::string& path, const std::string& bytes) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    RESYNC_FUZZ_CHECK(f != nullptr);
    RESYNC_FUZZ_CHECK(std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size());
    RESYNC_FUZZ_CHECK(std::fclose(f) == 0);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const Scratch& s = scratch();
    const auto in = resync_fuzz::read_framed_input(data, size, s.magic, s.version, false);
    const std::string path = (s.dir / "store").string();
    write_file(path, in.bytes);
    const auto loaded = resync::MemoryStore::load(path);
    if (!loaded) {
        const auto e = loaded.error();
        RESYNC_FUZZ_CHECK(e == resync::errc::backup_truncated || e == resync::errc::backup_corrupt ||
                          e == resync::errc::backup_version_unsupported);
        return 0;
    }
    const std::string saved = (s.dir / "saved").string();
    RESYNC_FUZZ_CHECK(!loaded->save(saved));
    const auto again = resync::MemoryStore::load(saved);
    RESYNC_FUZZ_CHECK(again.has_value());
    RESYNC_FUZZ_CHECK(observed(*again) == observed(*loaded));
    return 0;
}
