// Fuzzes the backup file reader, `resync::backup_format::decode`: any input is a
// `BackupContents` or one of the three backup errors, never a crash; what decodes encodes and
// decodes again to the same contents. `restore_backup(path)` is `read_file` and then this, so
// the bytes are decoded directly, not written to a file first (three times the inputs per
// second; the memory_store_file fuzzer goes through a file). Input layout: see fuzz_support.hpp
// (byte 0 bit 0: frame the rest as a payload).
#include "fuzz_support.hpp"

#include <resync/backup/file_format.hpp>
#include <resync/doc/model.hpp>
#include <resync/error.hpp>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace format = resync::backup_format;
    const auto in = resync_fuzz::read_framed_input(data, size, format::magic, format::version, false);
    const auto decoded = format::decode<resync::doc::Model>(in.bytes);
    if (!decoded) {
        const auto e = decoded.error();
        RESYNC_FUZZ_CHECK(e == resync::errc::backup_truncated || e == resync::errc::backup_corrupt ||
                          e == resync::errc::backup_version_unsupported);
        return 0;
    }
    const auto again = format::decode<resync::doc::Model>(format::encode<resync::doc::Model>(*decoded));
    RESYNC_FUZZ_CHECK(again.has_value());
    RESYNC_FUZZ_CHECK(resync_fuzz::canonical(*again) == resync_fuzz::canonical(*decoded));
    return 0;
}
