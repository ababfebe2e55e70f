# Runs one "must not compile" test, with its compiling twin. Used as
#
#   cmake -DCOMPILER=<c++> -DSOURCE=<file.fail.cpp> [-DINCLUDES=a|b] [-DDEFINES=X|Y=1]
#         [-DFLAGS=f|g] [-DPRELUDE=<header>] [-DEXPECT=<regex>] -P CheckCompileFail.cmake
#
# INCLUDES, DEFINES and FLAGS are lists separated by `|` (a `;` does not survive add_test).
# PRELUDE, when given, is put before SOURCE with `-include` (both compiles): a header of library
# includes that the build precompiled next to it, so that the compiler loads it instead of
# parsing it.
#
# The source says what it expects in its first lines, one or more comments
#
#   // expect: <regex>
#
# (CMake regex syntax, as in string(REGEX MATCH); every such line must match). -DEXPECT, when
# given, replaces them. The test passes only if
#   (a) compiling SOURCE as is FAILS, and the compiler's output matches every regex, and
#   (b) compiling SOURCE with -DRESYNC_TWIN SUCCEEDS, without a warning (FLAGS has -Werror).
# (b) keeps the harness honest: a typo, a missing include or a renamed header makes the twin fail
# too, instead of passing (a) by accident.

cmake_minimum_required(VERSION 3.25)

foreach(var COMPILER SOURCE)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message(FATAL_ERROR "CheckCompileFail.cmake: -D${var}=... is required")
    endif()
endforeach()
if(NOT EXISTS "${SOURCE}")
    message(FATAL_ERROR "CheckCompileFail.cmake: ${SOURCE} does not exist")
endif()

# ------------------------------------------------------------------------- what is expected

# Kept as expect_0, expect_1, ... rather than a list, so a regex may contain `;`.
set(n 0)
if(DEFINED EXPECT AND NOT "${EXPECT}" STREQUAL "")
    set(expect_0 "${EXPECT}")
    set(n 1)
else()
    # Only the file's first 20 lines count, so a later comment cannot set an expectation.
    file(READ "${SOURCE}" text)
    string(REPLACE "\r" "" text "${text}")
    set(line_no 0)
    while(line_no LESS 20 AND NOT text STREQUAL "")
        string(FIND "${text}" "\n" eol)
        if(eol EQUAL -1)
            set(line "${text}")
            set(text "")
        else()
            string(SUBSTRING "${text}" 0 ${eol} line)
            math(EXPR next "${eol} + 1")
            string(SUBSTRING "${text}" ${next} -1 text)
        endif()
        if(line MATCHES "^[ \t]*//[ \t]*expect:[ \t]*(.*[^ \t])[ \t]*$")
            set(expect_${n} "${CMAKE_MATCH_1}")
            math(EXPR n "${n} + 1")
        endif()
        math(EXPR line_no "${line_no} + 1")
    endwhile()
endif()
if(n EQUAL 0)
    message(FATAL_ERROR
        "${SOURCE}: no `// expect: <regex>` comment in its first 20 lines; a compile-fail test "
        "must say which error it expects, or any error (even a typo) would pass it.")
endif()

# ----------------------------------------------------------------------------- the command

set(args -std=c++20 -fsyntax-only -fdiagnostics-color=never)
foreach(kind FLAGS INCLUDES DEFINES)
    if(DEFINED ${kind})
        string(REPLACE "|" ";" ${kind} "${${kind}}")
    else()
        set(${kind} "")
    endif()
endforeach()
list(APPEND args ${FLAGS})
if(DEFINED PRELUDE AND NOT PRELUDE STREQUAL "")
    list(APPEND args -include "${PRELUDE}")
endif()
foreach(dir IN LISTS INCLUDES)
    if(NOT dir STREQUAL "")
        list(APPEND args "-I${dir}")
    endif()
endforeach()
foreach(def IN LISTS DEFINES)
    if(NOT def STREQUAL "")
        list(APPEND args "-D${def}")
    endif()
endforeach()

function(run_compiler out_result out_output)
    execute_process(
        COMMAND "${COMPILER}" ${args} ${ARGN} "${SOURCE}"
        RESULT_VARIABLE result
        OUTPUT_VARIABLE output
        ERROR_VARIABLE output)
    set(${out_result} "${result}" PARENT_SCOPE)
    set(${out_output} "${output}" PARENT_SCOPE)
endfunction()

string(REPLACE ";" " " shown_command "${COMPILER};${args}")
get_filename_component(name "${SOURCE}" NAME)

# ------------------------------------------------------------------- (b) the twin compiles

run_compiler(twin_result twin_output -DRESYNC_TWIN)
if(NOT twin_result EQUAL 0)
    message("---- compiler output (with -DRESYNC_TWIN) ----\n${twin_output}")
    message("---- command ----\n${shown_command} -DRESYNC_TWIN ${SOURCE}")
    message(FATAL_ERROR
        "${name}: the compiling twin (-DRESYNC_TWIN) does not compile cleanly, so the failure "
        "without it proves nothing. Fix the test file (or the header it includes) first.")
endif()

# ----------------------------------------------- (a) the test itself fails, with that error

run_compiler(fail_result fail_output)
if(fail_result EQUAL 0)
    message("---- compiler output ----\n${fail_output}")
    message("---- command ----\n${shown_command} ${SOURCE}")
    message(FATAL_ERROR "${name}: compiled, but must not compile.")
endif()

set(missing_text "")
math(EXPR last "${n} - 1")
foreach(i RANGE ${last})
    if(NOT fail_output MATCHES "${expect_${i}}")
        string(APPEND missing_text "\n  ${expect_${i}}")
    endif()
endforeach()
if(NOT missing_text STREQUAL "")
    message("---- compiler output ----\n${fail_output}")
    message("---- command ----\n${shown_command} ${SOURCE}")
    message(FATAL_ERROR
        "${name}: failed to compile, as it should, but not with the expected error. The output "
        "above does not match:${missing_text}")
endif()

message(STATUS "${name}: fails as expected (${n} pattern(s) matched); its twin compiles.")
