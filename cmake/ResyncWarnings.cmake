# Build settings for the project's OWN targets (tests, examples, benchmarks, header checks).
#
# Never call these on the `resync` INTERFACE target and never put their flags in
# CMAKE_CXX_FLAGS: a user of the library must not inherit our -Werror or our sanitizers.

include_guard(GLOBAL)

# The warning flags, as one list, for places that run the compiler by hand (compile-fail tests,
# the extra clang header checks).
set(RESYNC_STRICT_WARNING_FLAGS -Wall -Wextra -Wpedantic -Werror)

#[[
resync_strict_warnings(<target>)

Adds -Wall -Wextra -Wpedantic -Werror (or /W4 /WX for MSVC) to <target>, PRIVATE.

g++ 12 only: also -Wno-restrict. With optimisation on, g++ 12 reports a false -Wrestrict inside
libstdc++ for `"literal" + std::string` (GCC bugs 105329 and 105651, fixed in g++ 13), which
the tests write in many places; without this a Release build of the tests fails.
]]
function(resync_strict_warnings target)
    target_compile_options(${target} PRIVATE
        "$<$<CXX_COMPILER_ID:GNU,Clang,AppleClang>:${RESYNC_STRICT_WARNING_FLAGS}>"
        "$<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_GREATER_EQUAL:$<CXX_COMPILER_VERSION>,12>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-restrict>"
        "$<$<CXX_COMPILER_ID:MSVC>:/W4;/WX;/permissive->")
endfunction()

# The sanitizers' run-time defaults, compiled into every sanitized target (see below).
set(RESYNC_SANITIZER_DEFAULTS_SOURCE "${CMAKE_CURRENT_LIST_DIR}/sanitizer_defaults.cpp")

#[[
resync_sanitizers(<target>)

When RESYNC_SANITIZE is ON, builds and links <target> with AddressSanitizer and
UndefinedBehaviorSanitizer. Any report aborts the program, so a test that hits one fails:
-fno-sanitize-recover=all makes every UBSan check fatal, and cmake/sanitizer_defaults.cpp
compiles in the run-time options (halt and abort on the first error, leak detection, UBSan
stack traces), so they hold however the program is started - by ctest, by hand, in a debugger.
ASAN_OPTIONS / UBSAN_OPTIONS in the environment still override them.
]]
function(resync_sanitizers target)
    if(NOT RESYNC_SANITIZE)
        return()
    endif()
    if(NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
        message(WARNING "RESYNC_SANITIZE: not supported for ${CMAKE_CXX_COMPILER_ID}; ${target} is built without")
        return()
    endif()
    target_compile_options(${target} PRIVATE
        -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
    # The defaults are defined once per program: in the executable, not in an object library
    # linked into several (tests/CMakeLists.txt's Catch2 main).
    get_target_property(type ${target} TYPE)
    if(NOT type STREQUAL "OBJECT_LIBRARY")
        target_sources(${target} PRIVATE "${RESYNC_SANITIZER_DEFAULTS_SOURCE}")
    endif()
endfunction()

#[[
resync_own_target(<target>)

Both of the above: what every test, example and benchmark executable of this project gets.
]]
function(resync_own_target target)
    resync_strict_warnings(${target})
    resync_sanitizers(${target})
endfunction()
