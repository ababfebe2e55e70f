// The one Catch2 main, compiled once and linked into every Catch2 test executable (resync_tests,
// resync_pg_tests, resync_crash_tests); the test cases live in tests/**/*.test.cpp.
#define CATCH_CONFIG_MAIN
// Wide enough for the paths and reports failure messages carry: Catch2 2.13 aborts on a word
// longer than the console width (an assertion in its text wrapping).
#define CATCH_CONFIG_CONSOLE_WIDTH 400
#include <catch2/catch.hpp>
