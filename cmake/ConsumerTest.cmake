# The find_package consumer test: install this build into a fresh prefix, then configure, build
# and run tests/consumer against that prefix alone. Used as
#
#   cmake -DBINARY_DIR=<our build dir> -DCONSUMER_SOURCE=<tests/consumer> -DWORK_DIR=<scratch>
#         -DGENERATOR=<generator> -DCXX_COMPILER=<c++> [-DCONFIG=<Debug|...>] -P ConsumerTest.cmake
#
# Works offline: the consumer finds resync in the prefix, Boost and range-v3 on the system.

cmake_minimum_required(VERSION 3.25)

foreach(var BINARY_DIR CONSUMER_SOURCE WORK_DIR GENERATOR CXX_COMPILER)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message(FATAL_ERROR "ConsumerTest.cmake: -D${var}=... is required")
    endif()
endforeach()
if(NOT DEFINED CONFIG OR CONFIG STREQUAL "")
    set(CONFIG Debug)
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

step("install into ${prefix}"
    "${CMAKE_COMMAND}" --install "${BINARY_DIR}" --prefix "${prefix}" --config "${CONFIG}")

# Only the prefix is searched for resync: no package registry, so a stale registration of some
# build tree cannot make this pass.
step("configure"
    "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE}" -B "${build}" -G "${GENERATOR}"
    "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
    "-DCMAKE_BUILD_TYPE=${CONFIG}"
    "-DCMAKE_PREFIX_PATH=${prefix}"
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

set(exe "${build}/resync_consumer")
if(NOT EXISTS "${exe}" AND EXISTS "${build}/${CONFIG}/resync_consumer${CMAKE_EXECUTABLE_SUFFIX}")
    set(exe "${build}/${CONFIG}/resync_consumer")
endif()
step("run" "${exe}")

message(STATUS "consumer: find_package(resync) from ${prefix} works")
