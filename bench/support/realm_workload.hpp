#pragma once
// The workload of realm-core's own client-reset benchmark (test/object-store/benchmarks/
// client_reset.cpp), rebuilt in resync's document model so that our figures can stand beside
// Realm's. Realm's types map onto the model's values as follows:
//
//   int, bool, double, string      the same alternative of doc::Value
//   float                          double (the float's value, widened)
//   decimal                        string: the decimal's digits (exact, as Decimal128 is; a
//                                  double would round large values)
//   mixed                          a scalar whose type is chosen per object (int, string, double)
//   link, mixed link               the target's primary key, as a string field
//   list of 3 mixed / of 3 links   a doc::List of 3 scalars / of 3 keys
//
// Workloads:
//   objects   10,000 objects of the "object" table: _id, value, value_double, value_float,
//             value_decimal, value_bool, value_mixed, value_string, realm_id (the partition) -
//             9 fields - and mixed_list, a list of 3 mixed values
//   links     5,000 such objects, and 5,000 "source" objects, source k naming object k through
//             link, link_list (3 links), mixed (a link) and mixed_list (3 links), plus _id and
//             realm_id
//
// In every case the client has 2 unsynced changesets - the first creates object -42 and sets
// its value to 1, 2, then 3; the second sets it to 4 - and the server's fresh copy differs from
// the client's synced state in object 1 (the server set its value to 5, then 6). The cases:
//   no_change            nothing else differs
//   server_deleted_half  the fresh copy lacks every even key (of each table)
//   client_deleted_half  the second unsynced changeset also erases every even key (of each table)

#include "support/workload.hpp"

#include <resync/doc/state.hpp>
#include <resync/doc/value.hpp>
#include <resync/doc/writer.hpp>
#include <resync/memory_store.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace resync_bench::realm {

inline const std::string objects_table = "object";
inline const std::string sources_table = "source";
inline const std::string partition = "partition_foo";

/// The primary key of the object both sides' unsynced changes create.
inline constexpr std::int64_t created_pk = -42;
/// The object whose value the server changed (5, then 6) in the fresh copy.
inline constexpr std::int64_t changed_pk = 1;
inline constexpr std::int64_t changed_value = 6;
/// The value object -42 ends with on the client (1, 2, 3, then 4).
inline constexpr std::int64_t created_value = 4;

enum class Workload : int { objects, links };
enum class Case : int { no_change, server_deleted_half, client_deleted_half };

inline constexpr std::array<const char*, 2> workload_names{"objects", "links"};
inline constexpr std::array<const char*, 3> case_names{"no_change", "server_deleted_half", "client_deleted_half"};

inline const char* name(Workload w) { return workload_names[static_cast<std::size_t>(w)]; }
inline const char* name(Case c) { return case_names[static_cast<std::size_t>(c)]; }

/// How many objects of the "object" table the workload holds (each table's keys are 1 .. n).
inline std::size_t object_count(Workload w) { return w == Workload::objects ? 10'000 : 5'000; }

/// The document key of primary key `pk`.
inline std::string key(std::int64_t pk) { return std::to_string(pk); }

/// Names list elements the way a server-made state does: one replica, a sequence number per element.
inline resync::doc::ElementId element_id(std::uint64_t seq) { return {1, seq}; }

/// Object `pk` (1-based) of the "object" table, as Realm's benchmark fills it from `i = pk - 1`.
inline resync::doc::Object make_object(std::int64_t pk) {
    using resync::doc::Value;
    const auto i = pk - 1;
    resync::doc::Object o;
    o.emplace("_id", Value{pk});
    o.emplace("value", Value{i});
    o.emplace("value_double", Value{static_cast<double>(i) + 0.5});
    o.emplace("value_float", Value{static_cast<double>(static_cast<float>(i) + 0.333f)});
    o.emplace("value_decimal", Value{std::to_string(i)});
    o.emplace("value_bool", Value{i % 2 == 0});
    switch (i % 3) { // a mixed value: its type chosen per object
    case 0: o.emplace("value_mixed", Value{i}); break;
    case 1: o.emplace("value_mixed", Value{"mixed_" + std::to_string(i)}); break;
    default: o.emplace("value_mixed", Value{static_cast<double>(i) + 0.25}); break;
    }
    o.emplace("value_string", Value{"string_value_" + std::to_string(i)});
    o.emplace("realm_id", Value{partition});
    const auto seq = static_cast<std::uint64_t>(3 * i);
    resync::doc::List mixed;
    mixed.elements.push_back({element_id(seq + 1), resync::doc::Scalar{i}});
    mixed.elements.push_back({element_id(seq + 2), resync::doc::Scalar{"mixed_list_value_" + std::to_string(i)}});
    mixed.elements.push_back({element_id(seq + 3), resync::doc::Scalar{static_cast<double>(static_cast<float>(i))}});
    o.emplace("mixed_list", Value{std::move(mixed)});
    return o;
}

/// Source object `pk` of the links workload: every link names object `pk`.
inline resync::doc::Object make_source(std::int64_t pk) {
    using resync::doc::Value;
    const std::string target = key(pk);
    // Sequence numbers above those of the "object" table's lists.
    const auto seq = static_cast<std::uint64_t>(1'000'000 + 6 * (pk - 1));
    auto three_links = [&](std::uint64_t first) {
        resync::doc::List l;
        for (std::uint64_t j = 0; j < 3; ++j) l.elements.push_back({element_id(first + j), resync::doc::Scalar{target}});
        return l;
    };
    resync::doc::Object o;
    o.emplace("_id", Value{pk});
    o.emplace("link", Value{target});
    o.emplace("link_list", Value{three_links(seq + 1)});
    o.emplace("mixed", Value{target});
    o.emplace("mixed_list", Value{three_links(seq + 4)});
    o.emplace("realm_id", Value{partition});
    return o;
}

/// The client's synced state before the reset (the server's state before it was restored).
inline resync::doc::State base_state(Workload w) {
    resync::doc::State s;
    const auto n = static_cast<std::int64_t>(object_count(w));
    auto& objects = s.collections[objects_table];
    objects.reserve(static_cast<std::size_t>(n));
    for (std::int64_t pk = 1; pk <= n; ++pk) objects.emplace(key(pk), make_object(pk));
    if (w == Workload::links) {
        auto& sources = s.collections[sources_table];
        sources.reserve(static_cast<std::size_t>(n));
        for (std::int64_t pk = 1; pk <= n; ++pk) sources.emplace(key(pk), make_source(pk));
    }
    return s;
}

/// The tables whose even keys "deletes half" erases.
inline std::vector<std::string> tables(Workload w) {
    if (w == Workload::links) return {objects_table, sources_table};
    return {objects_table};
}

/// Erases every even key of each table of `w` from `s`.
inline void erase_even_keys(resync::doc::State& s, Workload w) {
    const auto n = static_cast<std::int64_t>(object_count(w));
    for (const auto& table : tables(w))
        for (std::int64_t pk = 2; pk <= n; pk += 2) s.collections[table].erase(key(pk));
}

/// The server's fresh copy, as the client has it once downloaded and decoded.
inline resync::doc::State fresh_state(Workload w, Case c) {
    resync::doc::State s = base_state(w);
    s.collections[objects_table][key(changed_pk)]["value"] = resync::doc::Value{changed_value};
    if (c == Case::server_deleted_half) erase_even_keys(s, w);
    return s;
}

/// What the store must hold after the reset: the fresh copy, and with recovery also object -42
/// (created by the client, value 4) and the client's erases.
inline resync::doc::State expected_state(Workload w, Case c, bool recovers) {
    resync::doc::State s = fresh_state(w, c);
    if (!recovers) return s;
    s.collections[objects_table][key(created_pk)]["value"] = resync::doc::Value{created_value};
    if (c == Case::client_deleted_half) erase_even_keys(s, w);
    return s;
}

/// Makes an empty `store` the client before the reset: `base` as its synced state, then the 2
/// unsynced changesets. False when a local write failed.
inline bool prepare_client(resync::MemoryStore& store, const resync::doc::State& base, Workload w, Case c) {
    install(store, base, synced_state());
    const std::string created = key(created_pk);
    auto first = store.write([&](resync::doc::Writer& wr) {
        wr.create(objects_table, created);
        for (std::int64_t v = 1; v <= 3; ++v) wr.set(objects_table, created, "value", resync::doc::Value{v});
    });
    auto second = store.write([&](resync::doc::Writer& wr) {
        wr.set(objects_table, created, "value", resync::doc::Value{created_value});
        if (c != Case::client_deleted_half) return;
        const auto n = static_cast<std::int64_t>(object_count(w));
        for (const auto& table : tables(w))
            for (std::int64_t pk = 2; pk <= n; pk += 2) wr.erase(table, key(pk));
    });
    return first && *first != 0 && second && *second != 0;
}

} // namespace resync_bench::realm
