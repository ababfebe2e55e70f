// Fuzzes the snapshot decoder (a fresh copy, a state saved to disk) both ways it is called:
// `doc::decode_snapshot(std::string_view)` on the whole bytes and
// `doc::decode_snapshot(std::vector<std::string>&&)` on the same bytes cut at fuzzer-chosen
// points. Both must agree - the same error, or equal states - and a decoded state must encode
// and decode again to an equal one. Input layout: see fuzz_support.hpp (byte 0 bit 0: frame the
// rest as a payload; bits 1-3: how many cut points follow).
#include "fuzz_support.hpp"

#include <resync/doc/codec.hpp>
#include <resync/doc/snapshot_decoder.hpp>
#include <resync/error.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace doc = resync::doc;
    const auto in = resync_fuzz::read_framed_input(data, size, doc::snapshot_magic, doc::snapshot_format, true);
    if (!in.ok) return 0;
    const auto whole = doc::decode_snapshot(std::string_view(in.bytes));
    const auto pieces = doc::decode_snapshot(in.pieces());
    RESYNC_FUZZ_CHECK(whole.has_value() == pieces.has_value());
    if (!whole) {
        RESYNC_FUZZ_CHECK(whole.error() == pieces.error());
        RESYNC_FUZZ_CHECK(whole.error() == resync::errc::fresh_copy_truncated ||
                          whole.error() == resync::errc::fresh_copy_corrupt);
        return 0;
    }
    RESYNC_FUZZ_CHECK(resync_fuzz::canonical(*whole) == resync_fuzz::canonical(*pieces));
    const auto again = doc::decode_snapshot(doc::encode_snapshot(*whole));
    RESYNC_FUZZ_CHECK(again.has_value());
    RESYNC_FUZZ_CHECK(resync_fuzz::canonical(*again) == resync_fuzz::canonical(*whole));
    return 0;
}
