// The library headers the compile-fail tests include, precompiled once (tests/CMakeLists.txt) and
// put before every test and its twin with `-include`: most of a test's compile time is parsing
// these, twice per test. A test still includes what it uses itself; a header missing from this
// list only costs that test its speed.
#include <resync/backup/file.hpp>
#include <resync/backup/none.hpp>
#include <resync/backup/snapshot.hpp>
#include <resync/bytes.hpp>
#include <resync/concepts/capabilities.hpp>
#include <resync/concepts/model.hpp>
#include <resync/discard/diff.hpp>
#include <resync/doc/model.hpp>
#include <resync/memory_store.hpp>
#include <resync/quarantine.hpp>
#include <resync/recover/document_rules.hpp>
#include <resync/recover/rule_outcome.hpp>
#include <resync/strategy.hpp>
#include <resync/strategy/discard_unsynced.hpp>
#include <resync/strategy/recover.hpp>
#include <resync/sync_session.hpp>
#include <resync/testing/loopback.hpp>
