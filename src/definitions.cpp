// resync::compiled: the one definition of each non-template function that the headers only
// declare when RESYNC_COMPILED is set (see <resync/detail/linkage.hpp>).
#define RESYNC_COMPILED_SOURCE
#include <resync/detail/atomic_file.hpp>
#include <resync/chunked_output.hpp>
#include <resync/detail/chunked_frame.hpp>
#include <resync/detail/crc32.hpp>
#include <resync/doc/codec.hpp>
#include <resync/doc/describe.hpp>
#include <resync/doc/model.hpp>
#include <resync/doc/snapshot_decoder.hpp>
#include <resync/doc/state.hpp>
#include <resync/doc/value.hpp>
#include <resync/doc/writer.hpp>
#include <resync/memory_store.hpp>
#include <resync/recover/document_rules.hpp>
