// The Catch2 main of resync_pg_tests: the tests that need a PostgreSQL server (RESYNC_TEST_PG).
// A test that needs one and finds none exits with 77, which ctest reports as skipped (or fails
// when RESYNC_TEST_PG_REQUIRED=1, as in CI); see tests/pg/support.hpp.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
