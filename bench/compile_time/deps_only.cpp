// Compile-time benchmark, the baseline: only the headers of resync's dependencies (the standard
// library, POSIX, Boost.Hana) that resync's own headers include, and comparable trivial work
// with them. `bench/report` checks this list against `#include <...>` lines in include/ and
// warns when they drift apart.

#include <algorithm>
#include <array>
#include <boost/hana/append.hpp>
#include <boost/hana/filter.hpp>
#include <boost/hana/front.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>
#include <cassert>
#include <cerrno>
#include <csignal>
#include <chrono>
#include <compare>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <dirent.h>
#include <exception>
#include <fcntl.h>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <unistd.h>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

namespace {

using Value = std::variant<std::monostate, bool, std::int64_t, double, std::string>;
using Object = std::map<std::string, Value, std::less<>>;

struct Store {
    std::unordered_map<std::string, Object> objects;
    std::deque<std::vector<std::pair<std::string, Value>>> history;
    std::function<void(std::string_view)> on_change;
};

template <class... Ts>
constexpr std::size_t count_integral() {
    constexpr auto kept = boost::hana::filter(boost::hana::tuple_t<Ts...>, [](auto t) {
        return boost::hana::bool_c<std::is_integral_v<typename decltype(t)::type>>;
    });
    return decltype(boost::hana::length(kept))::value;
}

} // namespace

int main() {
    Store store;
    store.on_change = [](std::string_view) {};
    store.objects["a"]["n"] = std::int64_t{1};
    store.history.push_back({{"n", Value{std::int64_t{1}}}});
    std::optional<std::error_code> ec;
    std::visit([&](const auto& v) { if constexpr (std::is_same_v<std::decay_t<decltype(v)>, bool>) ec = std::error_code{}; },
               store.objects["a"]["n"]);
    store.on_change("a");
    return static_cast<int>(store.objects.size() + count_integral<int, double, long>() + (ec ? 1 : 0));
}
