// Run-time defaults of AddressSanitizer and UBSan for the project's own sanitized targets
// (added by resync_sanitizers() in cmake/ResyncWarnings.cmake when RESYNC_SANITIZE is ON). The
// runtimes call these hooks at start-up; ASAN_OPTIONS / UBSAN_OPTIONS in the environment are
// applied after them, so they can still override any of these.
//
// Every report must fail the test that triggers it: stop at the first error and abort (a
// SIGABRT that ctest reports as a failure, rather than an exit code a wrapper could swallow),
// find leaks at exit, and print the stack of a UBSan report (off by default).

extern "C" {

// The names are fixed by the sanitizer runtimes.
const char* __asan_default_options() {
    return "halt_on_error=1:abort_on_error=1:detect_leaks=1:strict_string_checks=1:"
           "check_initialization_order=1:detect_stack_use_after_return=1";
}

const char* __ubsan_default_options() {
    return "halt_on_error=1:abort_on_error=1:print_stacktrace=1";
}

} // extern "C"
