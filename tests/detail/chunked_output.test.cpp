// chunked_output.hpp and detail/chunked_frame.hpp: output written to a file in pieces while it is
// encoded, with fields filled in afterwards and frames closed from a running CRC - the same bytes
// as the frame built whole in a string (detail/frame.hpp, checked against crc32's known vectors in
// frame.test.cpp).

#include <resync/bytes.hpp>
#include <resync/chunked_output.hpp>
#include <resync/detail/chunked_frame.hpp>
#include <resync/detail/frame.hpp>

#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <fcntl.h>
#include <unistd.h>

// Everything in this file lives in a namespace of its own, so that test files compiled in one
// batch (tests/CMakeLists.txt) never share a helper by accident.
#ifndef RESYNC_TEST_FILE
#define RESYNC_TEST_FILE resync_test_file
#endif
namespace RESYNC_TEST_FILE {

namespace {

using resync::ByteWriter;
using resync::ChunkedOutput;

std::string read_all(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// `pieces` strings of varied lengths and bytes.
std::string piece_text(std::size_t i) {
    std::string s(i % 37, '\0');
    for (std::size_t k = 0; k < s.size(); ++k) s[k] = static_cast<char>((i * 31 + k * 7) & 0xFF);
    return s;
}

/// Outputs, through `out`: an outer frame holding a length-prefixed inner frame of `pieces`
/// strings (a piece point after each), then a tail - the shape of a backup file.
void write_nested(ChunkedOutput& out, std::size_t pieces) {
    const auto outer = resync::detail::open_frame(out, "OUTERMAG", 3);
    ByteWriter(out.buffer()).str("before");
    const std::uint64_t length_at = out.size();
    ByteWriter(out.buffer()).u64(0);
    const auto inner = resync::detail::open_frame(out, "INNERMAG", 1);
    for (std::size_t i = 0; i < pieces; ++i) {
        ByteWriter(out.buffer()).str(piece_text(i));
        out.piece_done();
    }
    resync::detail::close_frame(out, inner);
    std::string length;
    ByteWriter(length).u64(out.size() - length_at - 8);
    out.fill_in(length_at, length);
    ByteWriter(out.buffer()).str("after");
    out.piece_done();
    resync::detail::close_frame(out, outer);
}

/// The oracle: the same nesting built whole in strings with detail::frame.
std::string nested_whole(std::size_t pieces) {
    std::string inner_payload;
    for (std::size_t i = 0; i < pieces; ++i) ByteWriter(inner_payload).str(piece_text(i));
    std::string payload;
    ByteWriter w(payload);
    w.str("before");
    w.str(resync::detail::frame("INNERMAG", 1, inner_payload));
    w.str("after");
    return resync::detail::frame("OUTERMAG", 3, payload);
}

} // namespace

TEST_CASE("a ChunkedOutput without a file keeps the whole output, the same bytes as frames built whole",
          "[detail][chunked_output]") {
    for (std::size_t pieces : {0, 1, 5, 300}) {
        CAPTURE(pieces);
        ChunkedOutput out;
        write_nested(out, pieces);
        CHECK(out.buffer() == nested_whole(pieces));
        CHECK(out.size() == out.buffer().size());
    }
}

TEST_CASE("a ChunkedOutput writing small pieces to a file writes the same bytes as frames built whole",
          "[detail][chunked_output]") {
    // Piece sizes from smaller than a frame header (the header fields are then filled in on the
    // file, with pwrite, some straddling the written and the buffered bytes) to larger than the
    // whole output (nothing written before finish).
    resync_test::TempDir dir;
    const std::size_t pieces = 300;
    const std::string expected = nested_whole(pieces);
    for (std::size_t piece_size : {1, 5, 13, 24, 100, 4096, 1 << 20}) {
        CAPTURE(piece_size);
        const auto path = dir / ("out-" + std::to_string(piece_size));
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        REQUIRE(fd >= 0);
        ChunkedOutput out(fd, piece_size);
        write_nested(out, pieces);
        CHECK(out.size() == expected.size());
        CHECK_FALSE(out.finish());
        ::close(fd);
        CHECK(read_all(path) == expected);
    }
}

TEST_CASE("a ChunkedOutput reports a write that fails", "[detail][chunked_output]") {
    resync_test::TempDir dir;
    const auto path = dir / "read-only";
    { std::ofstream(path) << ""; }
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC); // writes fail with EBADF
    REQUIRE(fd >= 0);
    ChunkedOutput out(fd, 4);
    write_nested(out, 10);
    CHECK(out.finish() == std::errc::bad_file_descriptor);
    ::close(fd);
}

} // namespace RESYNC_TEST_FILE
