// Built against an installed resync by the test `consumer.find_package`, with -O2 and -Werror
// whatever the configuration: optimisation turns on warnings (and false ones) a Debug build never
// sees, and a user's Release build with -Werror must not fail in resync's headers.
#include <resync/error.hpp>
#include <resync/memory_store.hpp>
#include <resync/result.hpp>

#include <stdexcept>
#include <string>
#include <utility>

namespace {

// Opaque to the optimiser (as a test framework's check is), or it would see through the checks.
#if defined(__GNUC__) && !defined(__clang__)
[[gnu::noipa]]
#else
[[gnu::noinline]]
#endif
void expect(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(what);
}

} // namespace

// A Result<std::string> holding a value, then one holding an error, each checked by a call that
// may throw: g++ 12 -O2 warned falsely here (-Wmaybe-uninitialized) when the error one is
// destroyed, until Result silenced it. Not inlined into main (external linkage), as in a user's TU.
void results();
void results() {
    resync::Result<std::string> good(std::string("value"));
    expect(good.has_value(), "a Result made from a value holds it");
    good.value() += "!";
    const std::string moved = std::move(good).value();
    expect(moved == "value!", "the value moves out");
    resync::Result<std::string> bad(resync::errc::backup_truncated);
    expect(!bad.has_value(), "a Result made from an error holds no value");
    expect(bad.error() == resync::errc::backup_truncated, "a Result made from an error holds it");
}

int main() {
    try {
        results();
    } catch (const std::exception&) {
        return 3;
    }
    if (resync::make_error_code(resync::errc::backup_corrupt).message().empty()) return 2;
    return resync::MemoryStore{}.state().object_count() == 0 ? 0 : 1;
}
