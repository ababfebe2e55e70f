#pragma once
/// \file
/// `resync::Result<T>`: a value or a `std::error_code`, usable without exceptions.

#include <cassert>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace resync {

// g++ 12 at -O2 and above warns, falsely, that the string a `Result<std::string>` would hold
// "may be used uninitialized" when one holding an error is destroyed (it follows the variant's
// destructor into the alternative that is not there). Silenced for this class only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

/// Holds either a `T` or the `std::error_code` explaining why there is none.
/// Works under `-fno-exceptions`: nothing here throws.
template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : data_(std::in_place_index<0>, std::move(value)) {}
    Result(std::error_code error) : data_(std::in_place_index<1>, error) { assert(error); }
    template <class E>
        requires std::is_error_code_enum_v<E>
    Result(E error) : Result(std::error_code(make_error_code(error))) {}

    bool has_value() const noexcept { return data_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & { assert(has_value()); return std::get<0>(data_); }
    const T& value() const& { assert(has_value()); return std::get<0>(data_); }
    T&& value() && { assert(has_value()); return std::get<0>(std::move(data_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    /// The error; an empty `std::error_code` when there is a value.
    std::error_code error() const noexcept {
        return has_value() ? std::error_code{} : std::get<1>(data_);
    }

private:
    std::variant<T, std::error_code> data_;
};

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

} // namespace resync
