// Fuzzes the sync-state codec (detail/sync_state_codec.hpp), shared by backup files and saved
// stores: a `SyncState` followed by a `ResetTrigger`, read by a `BinaryReader` straight from the
// input (these carry no frame). Any input decodes or fails the reader, never crashes; what
// decodes encodes and decodes again to an equal sync state and trigger.
#include "fuzz_support.hpp"

#include <resync/bytes.hpp>
#include <resync/detail/sync_state_codec.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace detail = resync::detail;
    resync::ByteReader r(std::string_view(reinterpret_cast<const char*>(data), size));
    const auto state = detail::decode_sync_state(r);
    const auto trigger = detail::decode_trigger(r);
    if (r.failed()) return 0;

    std::string bytes;
    resync::ByteWriter w(bytes);
    detail::encode(w, state);
    detail::encode(w, trigger);
    resync::ByteReader again(bytes);
    RESYNC_FUZZ_CHECK(detail::decode_sync_state(again) == state);
    RESYNC_FUZZ_CHECK(detail::decode_trigger(again) == trigger);
    RESYNC_FUZZ_CHECK(!again.failed() && again.at_end());
    return 0;
}
