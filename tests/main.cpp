// The one Catch2 main of resync_tests; the test cases live in tests/**/*.test.cpp.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
