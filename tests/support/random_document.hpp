#pragma once
// Random document-model histories for property tests (tests/doc/lists.test.cpp,
// tests/recover/laws.test.cpp, tests/replay/replay.test.cpp): random states, and random local
// transactions written through doc::Writer the way an application writes them (every operation
// kind, lists included). A seed fixes the cases on every compiler and standard library: draws
// use only the fully specified mt19937_64, never a distribution or a hash order.
//
// Fields are typed by name, as in an application with a schema: "i" holds integers, "s" strings,
// "d" doubles, "l" lists. `typed` = false also writes values of the wrong type now and then.

#include <resync/doc/operation.hpp>
#include <resync/doc/state.hpp>
#include <resync/doc/value.hpp>
#include <resync/doc/writer.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace resync_test {

class RandomDocument {
public:
    explicit RandomDocument(std::uint64_t seed) : rng_(seed) {}

    /// A number in [0, n), n > 0 (the modulo bias is irrelevant here).
    std::uint64_t below(std::uint64_t n) { return rng_() % n; }
    /// True with probability `num` / `den`.
    bool chance(std::uint64_t num, std::uint64_t den) { return below(den) < num; }

    static constexpr const char* collections[] = {"c0", "c1"};
    static constexpr const char* keys[] = {"k0", "k1", "k2", "k3"};
    static constexpr const char* fields[] = {"i", "s", "d", "l"};

    std::int64_t integer() {
        static constexpr std::int64_t edges[] = {0, 1, -1, 7, std::numeric_limits<std::int64_t>::max(),
                                                 std::numeric_limits<std::int64_t>::min()};
        return chance(1, 4) ? edges[below(std::size(edges))] : static_cast<std::int64_t>(below(100)) - 50;
    }
    std::string text() {
        static constexpr const char* words[] = {"", "a", "b", "longer text"};
        return words[below(std::size(words))];
    }
    resync::doc::Scalar scalar() {
        switch (below(5)) {
        case 0: return resync::doc::Null{};
        case 1: return chance(1, 2);
        case 2: return integer();
        case 3: return static_cast<double>(below(8)) / 4.0;
        default: return text();
        }
    }
    /// A value of the type the field holds, or (untyped, rarely) of any type.
    resync::doc::Value value_for(const std::string& field, bool typed) {
        if (!typed && chance(1, 6)) return resync::doc::to_value(scalar());
        if (chance(1, 12)) return resync::doc::Null{};
        if (field == "i") return integer();
        if (field == "s") return text();
        if (field == "d") return static_cast<double>(below(8)) / 4.0;
        resync::doc::List list; // "l": a list value written whole (distinct ids of a replica of its own)
        const auto n = below(3);
        const std::uint64_t first = 1000 + 8 * below(1000);
        for (std::uint64_t j = 0; j < n; ++j) list.elements.push_back({{777, first + j}, scalar()});
        return list;
    }

    /// One random local operation through `w`: every Writer call, and now and then a raw
    /// operation naming an element or object that may not exist.
    void write(resync::doc::Writer& w, bool typed = true) {
        auto [c, k] = target(w.state());
        const std::string f = typed ? list_or_field() : fields[below(std::size(fields))];
        const std::string l = typed ? "l" : f;
        const std::size_t size = list_size(w.state(), c, k, l);
        // Random draws in separate statements: the order of function arguments is unspecified,
        // and every compiler must see the same cases.
        const std::size_t i = below(size + 2);
        const std::size_t j = below(size + 2);
        switch (below(20)) {
        case 0: case 1: case 2: w.create(c, k); break;
        case 3: w.erase(c, k); break;
        case 4: case 5: case 6: w.set(c, k, f == "l" ? "s" : f, value_for(f == "l" ? "s" : f, typed)); break;
        case 7: w.set(c, k, "l", value_for("l", typed)); break;
        case 8: case 9: w.add(c, k, typed ? "i" : f, integer()); break;
        case 10: case 11: w.list_push_back(c, k, l, scalar()); break;
        case 12: case 13: w.list_insert(c, k, l, i, scalar()); break;
        case 14: w.list_erase_at(c, k, l, i); break;
        case 15: w.list_move(c, k, l, i, j); break;
        case 16: w.list_set(c, k, l, i, scalar()); break;
        case 17: if (chance(1, 3)) w.list_clear(c, k, l); else w.create(c, k); break;
        default: {
            // A raw list edit naming any element this replica has seen (present, or erased since)
            // or one never inserted anywhere.
            const auto id = known_id(w.state(), c, k, l);
            const std::optional<resync::doc::ElementId> after =
                chance(1, 4) ? std::nullopt : std::optional<resync::doc::ElementId>(known_id(w.state(), c, k, l));
            switch (below(4)) {
            case 0: w.apply(resync::doc::ListErase{c, k, l, id}); break;
            case 1: w.apply(resync::doc::ListMove{c, k, l, id, after}); break;
            case 2: w.apply(resync::doc::ListSet{c, k, l, id, scalar()}); break;
            default: w.apply(resync::doc::ListInsert{c, k, l, after, {888, next_raw_id_++}, scalar()}); break; // always a new id
            }
        }
        }
    }

    /// Writes `n` random operations onto `state`, naming new elements (replica, seq++), and
    /// returns them.
    resync::doc::Changeset transaction(resync::doc::State& state, std::uint64_t replica, std::uint64_t& seq,
                                       std::size_t n, bool typed = true) {
        if (replica != last_replica_) seen_.clear(); // a replica names only elements it has seen
        last_replica_ = replica;
        resync::doc::Changeset ops;
        std::vector<resync::doc::Operation> undo;
        resync::doc::Writer w(state, ops, undo, replica, &seq);
        for (std::size_t j = 0; j < n; ++j) write(w, typed);
        return ops;
    }

    /// A random state: objects in both collections with fields of every kind.
    resync::doc::State state(std::uint64_t replica, std::uint64_t& seq) {
        seen_.clear();
        last_replica_ = replica;
        resync::doc::State s;
        const auto objects = below(7);
        for (std::uint64_t j = 0; j < objects; ++j) {
            resync::doc::Changeset ops;
            std::vector<resync::doc::Operation> undo;
            resync::doc::Writer w(s, ops, undo, replica, &seq);
            const std::string c = collections[below(std::size(collections))];
            const std::string k = keys[below(std::size(keys))];
            w.create(c, k);
            if (chance(2, 3)) w.set(c, k, "i", integer());
            if (chance(1, 2)) w.set(c, k, "s", text());
            if (chance(1, 3)) w.set(c, k, "d", 0.5);
            const auto n = below(5);
            for (std::uint64_t e = 0; e < n; ++e) w.list_push_back(c, k, "l", scalar());
        }
        return s;
    }

private:
    std::string list_or_field() { return fields[below(std::size(fields))]; }

    /// An object to write to: mostly one that exists, sometimes any (maybe missing).
    std::pair<std::string, std::string> target(const resync::doc::State& s) {
        if (chance(3, 4) && s.object_count() != 0) {
            std::vector<std::pair<std::string, std::string>> objects; // sorted: not in hash order
            for (const auto& [name, c] : s.collections)
                for (const auto& [key, obj] : c) objects.emplace_back(name, key);
            std::sort(objects.begin(), objects.end());
            return objects[below(objects.size())];
        }
        return {collections[below(std::size(collections))], keys[below(std::size(keys))]};
    }

    static std::size_t list_size(const resync::doc::State& s, const std::string& c, const std::string& k,
                                 const std::string& f) {
        const resync::doc::Value v = s.get(c, k, f);
        const auto* list = std::get_if<resync::doc::List>(&v);
        return list ? list->elements.size() : 0;
    }

    /// An element id: one in the list now, or one remembered from earlier (maybe erased since),
    /// or one never inserted anywhere.
    resync::doc::ElementId known_id(const resync::doc::State& s, const std::string& c, const std::string& k,
                                    const std::string& f) {
        const resync::doc::Value v = s.get(c, k, f);
        const auto* list = std::get_if<resync::doc::List>(&v);
        if (list)
            for (const auto& e : list->elements)
                if (seen_.size() < 4096) seen_.push_back(e.id);
        if (list && !list->elements.empty() && chance(1, 2)) return list->elements[below(list->elements.size())].id;
        if (!seen_.empty() && chance(3, 4)) return seen_[below(seen_.size())];
        return {555, below(5)};
    }

    std::mt19937_64 rng_;
    std::vector<resync::doc::ElementId> seen_;
    std::uint64_t last_replica_ = 0;
    std::uint64_t next_raw_id_ = 1;
};

} // namespace resync_test
