# Fails unless every excerpt in a document is still in the file it is taken from. Used as
#
#   cmake -DDOC=<doc.md> -DROOT=<source dir> -P CheckDocExcerpts.cmake
#
# An excerpt is a ```cpp block right after a line `<!-- from <path> -->` (path relative to
# ROOT); its text must appear in that file exactly, as one run of whole lines. Blocks without
# the marker are not checked. A document with no marked excerpt fails (the check would be empty).

cmake_minimum_required(VERSION 3.25)

foreach(var DOC ROOT)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message(FATAL_ERROR "CheckDocExcerpts.cmake: -D${var}=... is required")
    endif()
endforeach()

file(READ "${DOC}" rest)
set(marker "<!-- from ")
set(checked 0)
set(failed 0)
while(TRUE)
    string(FIND "${rest}" "${marker}" at)
    if(at EQUAL -1)
        break()
    endif()
    string(LENGTH "${marker}" skip)
    math(EXPR at "${at} + ${skip}")
    string(SUBSTRING "${rest}" ${at} -1 rest)
    string(FIND "${rest}" " -->\n```cpp\n" close)
    if(close EQUAL -1)
        message(FATAL_ERROR "${DOC}: a `${marker}... -->` line must be followed by a ```cpp block")
    endif()
    string(SUBSTRING "${rest}" 0 ${close} path)
    math(EXPR close "${close} + 12") # past " -->\n```cpp\n"
    string(SUBSTRING "${rest}" ${close} -1 rest)
    string(FIND "${rest}" "```\n" end)
    string(SUBSTRING "${rest}" 0 ${end} block)
    string(SUBSTRING "${rest}" ${end} -1 rest)

    if(NOT EXISTS "${ROOT}/${path}")
        message(SEND_ERROR "${DOC}: the excerpt's source ${path} does not exist")
        math(EXPR failed "${failed} + 1")
        continue()
    endif()
    file(READ "${ROOT}/${path}" source)
    # Whole lines: the block (which ends in a newline) must start a line of the source.
    string(FIND "\n${source}" "\n${block}" found)
    if(found EQUAL -1)
        string(FIND "${block}" "\n" first_eol)
        string(SUBSTRING "${block}" 0 ${first_eol} first_line)
        message(SEND_ERROR "${DOC}: an excerpt from ${path} is no longer in it (it starts: ${first_line})")
        math(EXPR failed "${failed} + 1")
    endif()
    math(EXPR checked "${checked} + 1")
endwhile()

if(checked EQUAL 0)
    message(FATAL_ERROR "${DOC}: no `${marker}<path> -->` excerpt to check")
endif()
if(failed GREATER 0)
    message(FATAL_ERROR "${DOC}: ${failed} of ${checked} excerpts differ from their source: update the document")
endif()
message(STATUS "${DOC}: all ${checked} excerpts match their sources")
