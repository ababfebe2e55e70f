# The consumer tests: tests/consumer built the four ways a user's project takes resync, then run.
#
#   MODE=find_package    install this build into a fresh prefix; find_package(resync) in it alone
#   MODE=subdirectory    add_subdirectory(<resync source>)
#   MODE=fetchcontent    FetchContent_Declare(resync SOURCE_DIR <resync source>) - a local path
#   MODE=pkg-config      install into a fresh prefix; compile by hand with `pkg-config --cflags`
#
#   cmake -DMODE=<mode> -DBINARY_DIR=<our build dir> -DSOURCE_DIR=<our source dir>
#         -DCONSUMER_SOURCE=<tests/consumer> -DWORK_DIR=<scratch> -DGENERATOR=<generator>
#         -DCXX_COMPILER=<c++> [-DCONFIG=<Debug|...>] [-DCOMPILED=<0|1>] -P ConsumerTest.cmake
#
# COMPILED=1 (resync::compiled was built and installed): find_package and pkg-config also build
# and run tests/consumer/compiled_main.cpp on the installed resync::compiled. subdirectory and
# fetchcontent take resync as a subproject with its defaults - header-only, RESYNC_BUILD_COMPILED
# OFF - and check that resync::compiled is then not built (building it there would compile its
# sessions once more in CI).
#
# Works offline: resync comes from the prefix or the source tree, Boost and range-v3 from the system.

cmake_minimum_required(VERSION 3.25)

foreach(var MODE BINARY_DIR SOURCE_DIR CONSUMER_SOURCE WORK_DIR GENERATOR CXX_COMPILER)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message(FATAL_ERROR "ConsumerTest.cmake: -D${var}=... is required")
    endif()
endforeach()
if(NOT DEFINED CONFIG OR CONFIG STREQUAL "")
    set(CONFIG Debug)
endif()
if(NOT DEFINED COMPILED OR COMPILED STREQUAL "")
    set(COMPILED 0)
endif()
set(expect_compiled ${COMPILED})
if(MODE STREQUAL "subdirectory" OR MODE STREQUAL "fetchcontent")
    set(expect_compiled 0)
endif()

set(prefix "${WORK_DIR}/prefix")
set(build "${WORK_DIR}/build")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(step what)
    message(STATUS "consumer: ${what}")
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
    if(NOT result EQUAL 0)
        string(REPLACE ";" " " shown "${ARGN}")
        message("---- output ----\n${output}")
        message(FATAL_ERROR "consumer: ${what} failed (${result}):\n  ${shown}")
    endif()
endfunction()

function(run_consumer)
    set(programs resync_consumer)
    if(expect_compiled)
        list(APPEND programs resync_consumer_compiled)
    endif()
    foreach(program IN LISTS programs)
        set(exe "${build}/${program}")
        if(NOT EXISTS "${exe}" AND EXISTS "${build}/${CONFIG}/${program}${CMAKE_EXECUTABLE_SUFFIX}")
            set(exe "${build}/${CONFIG}/${program}")
        endif()
        step("run ${program}" "${exe}")
    endforeach()
endfunction()

if(MODE STREQUAL "subdirectory" OR MODE STREQUAL "fetchcontent")
    step("configure (${MODE})"
        "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE}" -B "${build}" -G "${GENERATOR}"
        "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
        "-DCMAKE_BUILD_TYPE=${CONFIG}"
        "-DRESYNC_CONSUMER_MODE=${MODE}"
        "-DRESYNC_SOURCE_DIR=${SOURCE_DIR}"
        -DRESYNC_CONSUMER_EXPECT_COMPILED=OFF
        -DFETCHCONTENT_FULLY_DISCONNECTED=ON)
    step("build" "${CMAKE_COMMAND}" --build "${build}" --config "${CONFIG}")
    run_consumer()
    message(STATUS "consumer: resync by ${MODE} works")
    return()
endif()

step("install into ${prefix}"
    "${CMAKE_COMMAND}" --install "${BINARY_DIR}" --prefix "${prefix}" --config "${CONFIG}")

if(MODE STREQUAL "pkg-config")
    find_program(PKG_CONFIG NAMES pkg-config pkgconf REQUIRED)
    # Only the prefix is searched, so an installed resync elsewhere cannot make this pass.
    set(ENV{PKG_CONFIG_PATH} "${prefix}/share/pkgconfig")
    set(ENV{PKG_CONFIG_LIBDIR} "${prefix}/share/pkgconfig")
    execute_process(COMMAND "${PKG_CONFIG}" --modversion resync RESULT_VARIABLE result OUTPUT_VARIABLE version
                    ERROR_VARIABLE errors OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT result EQUAL 0 OR NOT version MATCHES "^[0-9]+\\.[0-9]+\\.[0-9]+$")
        message(FATAL_ERROR "consumer: pkg-config does not find resync in ${prefix}: ${errors}")
    endif()
    execute_process(COMMAND "${PKG_CONFIG}" --cflags resync RESULT_VARIABLE result OUTPUT_VARIABLE cflags
                    OUTPUT_STRIP_TRAILING_WHITESPACE)
    separate_arguments(cflags UNIX_COMMAND "${cflags}")
    file(REAL_PATH "${prefix}/include" real_include)
    set(points_into_prefix FALSE)
    foreach(flag IN LISTS cflags)
        if(flag MATCHES "^-I(.*)$")
            file(REAL_PATH "${CMAKE_MATCH_1}" dir)
            if(dir STREQUAL real_include)
                set(points_into_prefix TRUE)
            endif()
        endif()
    endforeach()
    if(NOT points_into_prefix)
        message(FATAL_ERROR "consumer: pkg-config's flags for resync (${cflags}) do not name ${prefix}/include")
    endif()
    file(MAKE_DIRECTORY "${build}")
    step("compile with pkg-config's flags (${cflags})"
        "${CXX_COMPILER}" -std=c++20 -O2 -Wall -Wextra -Wpedantic -Werror ${cflags}
        "${CONSUMER_SOURCE}/main.cpp" -o "${build}/resync_consumer")
    if(expect_compiled)
        execute_process(COMMAND "${PKG_CONFIG}" --cflags --libs resync-compiled RESULT_VARIABLE result
                        OUTPUT_VARIABLE compiled_flags ERROR_VARIABLE errors OUTPUT_STRIP_TRAILING_WHITESPACE)
        if(NOT result EQUAL 0)
            message(FATAL_ERROR "consumer: pkg-config does not find resync-compiled in ${prefix}: ${errors}")
        endif()
        separate_arguments(compiled_flags UNIX_COMMAND "${compiled_flags}")
        step("compile with pkg-config's flags for resync-compiled (${compiled_flags})"
            "${CXX_COMPILER}" -std=c++20 -O2 -Wall -Wextra -Wpedantic -Werror
            "${CONSUMER_SOURCE}/compiled_main.cpp" ${compiled_flags} -o "${build}/resync_consumer_compiled")
    endif()
    run_consumer()
    message(STATUS "consumer: pkg-config resync ${version} from ${prefix} works")
    return()
endif()

# Only the prefix is searched for resync: no package registry, so a stale registration of some
# build tree cannot make this pass.
step("configure"
    "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE}" -B "${build}" -G "${GENERATOR}"
    "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
    "-DCMAKE_BUILD_TYPE=${CONFIG}"
    "-DCMAKE_PREFIX_PATH=${prefix}"
    "-DRESYNC_CONSUMER_EXPECT_COMPILED=${expect_compiled}"
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
    -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)

# The resync it found must be the one just installed.
file(STRINGS "${build}/CMakeCache.txt" found REGEX "^resync_DIR:")
string(REGEX REPLACE "^resync_DIR:[A-Z]+=" "" found "${found}")
file(REAL_PATH "${prefix}" real_prefix)
file(REAL_PATH "${found}" real_found)
string(FIND "${real_found}" "${real_prefix}/" at)
if(NOT at EQUAL 0)
    message(FATAL_ERROR "consumer: found resync in '${found}', not in the install prefix '${prefix}'")
endif()

step("build" "${CMAKE_COMMAND}" --build "${build}" --config "${CONFIG}")
run_consumer()
message(STATUS "consumer: find_package(resync) from ${prefix} works")
