#pragma once
/// \file
/// `replay::Squash`: coalesce recovered changes per object and field before upload.

#include <resync/history.hpp>
#include <resync/doc/operation.hpp>
#include <resync/policy/role.hpp>

#include <range/v3/range/conversion.hpp>
#include <range/v3/view/filter.hpp>
#include <range/v3/view/join.hpp>
#include <range/v3/view/transform.hpp>
#include <range/v3/view/zip.hpp>

#include <cstddef>
#include <map>
#include <string>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

namespace resync::replay {

/// Coalesces the recovered changesets into one: a field set several times keeps only its last
/// set, consecutive add-integers on one field become one sum. Operations that depend on order
/// across objects (create, erase, list edits) stay in place, and a set is never moved across an
/// erase or create of its object. Document-model operations only. Its header is the one in
/// the library that uses range-v3 (to flatten the changesets and to filter what was replaced);
/// it costs a translation unit that includes it about 2 s of compile time, and no other pays it.
struct Squash {
    using resync_role = role::replay;

    template <class Op>
    std::vector<LocalChangeset<Op>> prepare(std::vector<LocalChangeset<Op>> changesets) const {
        static_assert(std::is_same_v<Op, doc::Operation>,
                      "resync::replay::Squash coalesces document-model operations (doc::Operation) only; "
                      "for another model use replay::Upload or replay::Batched<N>");
        if constexpr (!std::is_same_v<Op, doc::Operation>) {
            return changesets;
        } else {
            return squash(std::move(changesets));
        }
    }
    static constexpr std::size_t max_changesets_per_upload() noexcept { return 1024; }

private:
    static std::vector<LocalChangeset<doc::Operation>> squash(std::vector<LocalChangeset<doc::Operation>> changesets) {
        if (changesets.size() <= 1 && (changesets.empty() || changesets.front().ops.size() <= 1)) return changesets;
        LocalChangeset<doc::Operation> out;
        out.client_version = changesets.back().client_version; // the newest key: older ones were never uploaded under this ident
        using Key = std::tuple<std::string, std::string, std::string>;
        std::map<Key, std::size_t> last_set;  // field -> index in out.ops of its latest set
        std::map<Key, std::size_t> last_add;  // field -> index of an add-integer that can absorb the next
        auto forget_object = [&](const std::string& c, const std::string& k) {
            auto drop = [&](std::map<Key, std::size_t>& m) {
                for (auto it = m.lower_bound(Key{c, k, ""}); it != m.end() && std::get<0>(it->first) == c &&
                                                             std::get<1>(it->first) == k;)
                    it = m.erase(it);
            };
            drop(last_set);
            drop(last_add);
        };
        std::vector<char> removed; // per operation of out.ops: a later set of its field replaced it
        auto every_operation = changesets |
                               ranges::views::transform([](LocalChangeset<doc::Operation>& cs) -> auto& { return cs.ops; }) |
                               ranges::views::join;
        for (auto& op : every_operation) {
            if (auto* set = std::get_if<doc::SetField>(&op)) {
                const Key key{set->collection, set->key, set->field};
                if (auto it = last_set.find(key); it != last_set.end()) removed[it->second] = true;
                last_add.erase(key);
                last_set[key] = out.ops.size();
            } else if (auto* add = std::get_if<doc::AddInteger>(&op)) {
                const Key key{add->collection, add->key, add->field};
                if (auto it = last_add.find(key); it != last_add.end()) {
                    auto& earlier = std::get<doc::AddInteger>(out.ops[it->second]);
                    earlier.delta = static_cast<std::int64_t>(static_cast<std::uint64_t>(earlier.delta) +
                                                              static_cast<std::uint64_t>(add->delta));
                    continue;
                }
                last_add[key] = out.ops.size();
            } else if (std::holds_alternative<doc::CreateObject>(op) || std::holds_alternative<doc::EraseObject>(op)) {
                forget_object(doc::collection_of(op), doc::key_of(op));
            } else {
                // A list edit: later sets or adds of the same field must not jump over it.
                const Key key{doc::collection_of(op), doc::key_of(op), std::string(doc::field_of(op))};
                last_set.erase(key);
                last_add.erase(key);
            }
            out.ops.push_back(std::move(op));
            removed.push_back(false);
        }
        out.ops = ranges::views::zip(out.ops, removed) |
                  ranges::views::filter([](const auto& op_removed) { return !op_removed.second; }) |
                  ranges::views::transform([](auto&& op_removed) { return std::move(op_removed.first); }) |
                  ranges::to<std::vector>();
        std::vector<LocalChangeset<doc::Operation>> result;
        if (!out.ops.empty()) result.push_back(std::move(out));
        return result;
    }
};

} // namespace resync::replay
