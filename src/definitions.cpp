// resync::compiled: the one definition of each non-template function that the headers only
// declare when RESYNC_COMPILED is set (see <resync/detail/linkage.hpp>).
#define RESYNC_COMPILED_SOURCE
#include <resync/detail/atomic_file.hpp>
#include <resync/detail/chunked_output.hpp>
#include <resync/detail/crc32.hpp>
#include <resync/doc/codec.hpp>
#include <resync/doc/state.hpp>
