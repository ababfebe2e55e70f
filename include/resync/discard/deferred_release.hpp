#pragma once
/// \file
/// `discard::DeferredRelease`: the state a reset's commit replaced, freed a bounded slice per
/// `poll()` after the commit instead of inside it.

#include <resync/concepts/model.hpp>
#include <resync/detail/settle_freed_memory.hpp>

#include <cstddef>
#include <utility>
#include <vector>

namespace resync::discard {

/// What committed resets replaced and nobody reads any more - the old state a `Replace` swapped
/// out, the old objects and the unneeded staged copies a `Diff` left, a before-state after the
/// after-reset callback - held until the session frees it, `release_some` objects per `poll()`.
///
/// It holds nothing the keeping rule needs: it is taken only after the commit, and every local
/// operation the commit did not carry forward was already in a backup file or the quarantine (or
/// discarded by the application's choice) before it. A crash or exit before it is freed loses
/// nothing: the store holds the committed state. No thread: freeing happens only in the calls
/// below. A model without `release_objects` (model_requirements::releases_in_slices) has each
/// held snapshot freed whole by one `release_some` call.
template <class M>
class DeferredRelease {
public:
    using snapshot_type = typename M::snapshot_type;

    /// Takes `s` to free later. Should holding it fail (no memory for one more slot), `s` is freed
    /// by the caller at once, as it would be without deferral.
    void hold(snapshot_type&& s) { held_.push_back(std::move(s)); }

    /// Frees up to `max_objects` objects (at least one held snapshot, whole, for a model that
    /// cannot free in slices), and has the allocator merge the blocks they held before it returns
    /// (`detail::settle_freed_memory`), so that no later call pays for this one's freeing.
    /// Returns how many objects it freed.
    std::size_t release_some(std::size_t max_objects) {
        std::size_t released = 0;
        while (!held_.empty() && released < max_objects) {
            snapshot_type& s = held_.back();
            if constexpr (model_requirements::releases_in_slices<M>) {
                const std::size_t n = M::release_objects(s, max_objects - released);
                released += n;
                if (n != 0 && M::object_count(s) != 0) continue;
            } else {
                released += M::object_count(s);
            }
            held_.pop_back(); // what remains: empty containers, or the whole snapshot
            if constexpr (!model_requirements::releases_in_slices<M>) break;
        }
        if (released != 0) detail::settle_freed_memory();
        return released;
    }

    /// Frees everything held now (and has the allocator merge the blocks, as `release_some` does).
    void release_all() noexcept {
        if (held_.empty()) return;
        held_.clear();
        detail::settle_freed_memory();
    }

    /// Whether anything is still held.
    bool pending() const noexcept { return !held_.empty(); }

    /// Objects still held.
    std::size_t objects() const {
        std::size_t n = 0;
        for (const auto& s : held_) n += M::object_count(s);
        return n;
    }

private:
    std::vector<snapshot_type> held_;
};

} // namespace resync::discard
