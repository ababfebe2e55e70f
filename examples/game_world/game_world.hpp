#pragma once
/// \file
/// A game engine's own world, synced and reset by resync: an entity-component world with its own
/// operation and snapshot types (`GameModel`), a Store (`GameStore`) and recovery rules
/// (`GameRules`). The walkthrough is docs/writing-a-store.md.

#include <resync/bytes.hpp>
#include <resync/concepts/store.hpp> // the Store and Model concepts, the store capabilities
#include <resync/detail/frame.hpp>
#include <resync/error.hpp>
#include <resync/history.hpp>
#include <resync/quarantine.hpp>
#include <resync/recover/rule_outcome.hpp>
#include <resync/report.hpp>
#include <resync/reset_commit.hpp>
#include <resync/result.hpp>
#include <resync/sync_state.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace game {

using Entity = std::uint32_t;
using Item = std::uint16_t;
using Items = std::map<Item, std::int32_t>; ///< item -> count, every count > 0

/// In whole tiles: integers, so that two replicas compare equal exactly.
struct Position { std::int32_t x = 0, y = 0; friend bool operator==(const Position&, const Position&) = default; };

/// One operation: a small fixed-size struct, as a game's netcode would send it.
struct Op {
    enum Kind : std::uint8_t { spawn = 1, despawn, set_position, set_health, inventory_add, inventory_remove };
    Kind kind = spawn;
    Entity entity = 0;
    Position pos{};         ///< spawn, set_position
    std::int32_t value = 0; ///< set_health: the health; inventory_*: how many
    Item item = 0;          ///< inventory_*
    friend bool operator==(const Op&, const Op&) = default;
};

inline Op spawn(Entity e, Position p) { return {Op::spawn, e, p, 0, 0}; }
inline Op despawn(Entity e) { return {Op::despawn, e, {}, 0, 0}; }
inline Op move_to(Entity e, Position p) { return {Op::set_position, e, p, 0, 0}; }
inline Op set_health(Entity e, std::int32_t h) { return {Op::set_health, e, {}, h, 0}; }
inline Op pick_up(Entity e, Item i, std::int32_t n) { return {Op::inventory_add, e, {}, n, i}; }
inline Op use_up(Entity e, Item i, std::int32_t n) { return {Op::inventory_remove, e, {}, n, i}; }

/// The world: entity ids ascending, each component in a dense array at its entity's index.
struct World {
    std::vector<Entity> entities;
    std::vector<Position> position;
    std::vector<std::int32_t> health;
    std::vector<Items> inventory;

    std::optional<std::size_t> find(Entity e) const {
        const auto it = std::lower_bound(entities.begin(), entities.end(), e);
        return it != entities.end() && *it == e ? std::optional<std::size_t>(it - entities.begin()) : std::nullopt;
    }
    std::int32_t count(Entity e, Item i) const {
        const auto at = find(e);
        return at && inventory[*at].contains(i) ? inventory[*at].at(i) : 0;
    }
    friend bool operator==(const World&, const World&) = default;
};

/// The world as a `resync::Model`, for the reference server, backup files, the law suite and strategies.
struct GameModel {
    using model_concept = resync::model_t;
    using operation_type = Op;
    using snapshot_type = World;

    /// Total and deterministic: spawning an entity that exists keeps it as it is, any other
    /// operation on a missing entity does nothing, and counts stay within [0, INT32_MAX].
    static void apply(World& w, const Op& op) {
        const auto at = w.find(op.entity);
        const auto i = std::lower_bound(w.entities.begin(), w.entities.end(), op.entity) - w.entities.begin();
        // Every component array moves with the entity list.
        auto each = [&](auto&& f) {
            f(w.entities, op.entity); f(w.position, op.pos); f(w.health, 100); f(w.inventory, Items{});
        };
        if (op.kind == Op::spawn && !at) each([&](auto& a, auto v) { a.insert(a.begin() + i, std::move(v)); });
        if (op.kind == Op::despawn && at) each([&](auto& a, auto) { a.erase(a.begin() + i); });
        if (op.kind == Op::set_position && at) w.position[*at] = op.pos;
        if (op.kind == Op::set_health && at) w.health[*at] = op.value;
        if ((op.kind == Op::inventory_add || op.kind == Op::inventory_remove) && at) {
            auto& items = w.inventory[*at]; // in 64 bits: a hostile count cannot overflow
            const std::int64_t n = std::clamp<std::int64_t>(
                items[op.item] + (op.kind == Op::inventory_add ? 1 : -1) * std::int64_t{op.value}, 0,
                INT32_MAX);
            if (n == 0) items.erase(op.item);
            else items[op.item] = static_cast<std::int32_t>(n);
        }
    }
    static std::size_t object_count(const World& w) noexcept { return w.entities.size(); }
    // An operation is 21 bytes: kind, entity, x, y, value, item.
    static void encode(resync::ByteWriter& w, const Op& op) {
        w.u8(op.kind);
        for (std::uint32_t v : {op.entity, u32(op.pos.x), u32(op.pos.y), u32(op.value), u32(op.item)}) w.u32(v);
    }
    static std::optional<Op> decode_operation(resync::ByteReader& r) {
        const std::uint8_t kind = r.u8();
        Op op{Op::Kind(kind), r.u32(), {i32(r), i32(r)}, i32(r), 0};
        const std::uint32_t item = r.u32();
        if (r.failed() || kind < Op::spawn || kind > Op::inventory_remove || item > 0xFFFF) return std::nullopt;
        op.item = static_cast<Item>(item);
        return op;
    }
    // A world is saved as the operations that build it (a spawn script), in a checksummed frame:
    // the reference server sends these bytes as they are, so only the model can tell a damaged
    // fresh copy from a good one.
    static std::string encode_snapshot(const World& world) {
        std::vector<Op> ops;
        for (std::size_t i = 0; i < world.entities.size(); ++i) {
            ops.push_back(spawn(world.entities[i], world.position[i]));
            ops.push_back(set_health(world.entities[i], world.health[i]));
            for (const auto& [item, n] : world.inventory[i]) ops.push_back(pick_up(world.entities[i], item, n));
        }
        std::string payload;
        resync::ByteWriter w(payload);
        w.u64(ops.size());
        for (const auto& op : ops) encode(w, op);
        return resync::detail::frame(magic, 1, payload);
    }
    /// Any input gives a world or an error, never a crash (and `apply` keeps every invariant).
    static resync::Result<World> decode_snapshot(std::string_view bytes) {
        const auto f = resync::detail::unframe(bytes, magic, 1);
        if (f.status == resync::detail::FrameStatus::truncated) return resync::errc::fresh_copy_truncated;
        if (f.status != resync::detail::FrameStatus::ok) return resync::errc::fresh_copy_corrupt;
        resync::ByteReader r(f.payload);
        World w;
        for (auto n = r.count(21); n > 0; --n)
            if (auto op = decode_operation(r)) apply(w, *op);
            else return resync::errc::fresh_copy_corrupt;
        if (r.failed() || !r.at_end()) return resync::errc::fresh_copy_corrupt;
        return w;
    }
    /// How reports name an operation ("pick up entity 1: 3 x item 1").
    static std::string describe(const Op& op) {
        static constexpr const char* verbs[] = {"?", "spawn", "despawn", "move", "set health of", "pick up", "use up"};
        std::string s = verbs[op.kind <= Op::inventory_remove ? op.kind : 0] + (" entity " + std::to_string(op.entity));
        if (op.kind == Op::set_position) s += " to (" + std::to_string(op.pos.x) + "," + std::to_string(op.pos.y) + ")";
        if (op.kind >= Op::inventory_add) s += ": " + std::to_string(op.value) + " x item " + std::to_string(op.item);
        return s;
    }
private:
    static constexpr std::string_view magic = "GAMEWRLD";
    static std::uint32_t u32(std::int32_t v) { return static_cast<std::uint32_t>(v); }
    static std::int32_t i32(resync::ByteReader& r) { return static_cast<std::int32_t>(r.u32()); }
};

/// The client's replica: the synced base (the server's history up to the download cursor) and the local
/// changesets; the world the game sees is re-derived from both when the base changes (simpler than undo logs).
class GameStore {
public:
    using store_concept = resync::store_t;
    using model_type = GameModel;
    using store_capabilities =
        resync::capabilities<resync::cap::quarantine, resync::cap::live_view, resync::cap::acknowledged_history>;
    using Changeset = resync::LocalChangeset<Op>;
    const World& world() const noexcept { return world_; }
    /// The game's local write: `ops` as one changeset. Returns its client version (0: nothing written).
    resync::ClientVersion write(std::vector<Op> ops) {
        if (ops.empty()) return 0;
        for (const auto& op : ops) GameModel::apply(world_, op);
        history_.push_back({next_version_, 0, std::move(ops)});
        return next_version_++;
    }
    const resync::SyncState& sync_state() const noexcept { return sync_; }
    std::error_code write_sync_state(const resync::SyncState& s) {
        sync_ = s; // a game that saves to disk makes this durable before it returns
        return {};
    }
    World export_snapshot() const { return world_; }
    const World& live_view() const noexcept { return world_; }
    const std::vector<resync::QuarantinedOperation<Op>>& quarantined() const noexcept { return quarantine_; }
    std::vector<Changeset> unsynced() const { return select(0, false); }
    std::vector<Changeset> acknowledged_after(std::uint64_t v) const { return select(v, true); }
    std::error_code acknowledge(resync::ClientVersion upto,
                                std::span<const std::pair<resync::ClientVersion, std::uint64_t>> at) {
        const auto bad = [&](const auto& a) { return a.first > upto || a.second == 0; };
        if (upto >= next_version_ || std::any_of(at.begin(), at.end(), bad)) return resync::errc::impossible_position;
        for (const auto& [cv, sv] : at)
            for (auto& c : history_)
                if (c.client_version == cv && !c.acknowledged()) c.server_version = sv;
        sync_.upload_acked = std::max(sync_.upload_acked, upto);
        return {};
    }
    /// Server changesets, directly after the download cursor, go into the base; those from this
    /// client are its own coming back, in its order. Checked whole first: bad input changes nothing.
    std::error_code integrate(std::span<const resync::RemoteChangeset<Op>> entries) {
        std::uint64_t last = sync_.download.version;
        std::size_t own = in_base_;
        for (const auto& e : entries) {
            if (e.server_version <= last) return resync::errc::impossible_position;
            last = e.server_version;
            if (mine(e) && (own >= history_.size() || history_[own++].client_version != e.client_version))
                return resync::errc::impossible_position;
        }
        for (const auto& e : entries) {
            if (mine(e)) history_[in_base_++].server_version = e.server_version; // it is in the base now
            for (const auto& op : e.ops) GameModel::apply(base_, op);
        }
        if (in_base_) sync_.upload_acked = std::max(sync_.upload_acked, history_[in_base_ - 1].client_version);
        if (!entries.empty()) sync_.download = entries.back().position();
        if (in_base_ > retention) { // acknowledged changesets are kept a while, for RecoverAll
            history_.erase(history_.begin(), history_.begin() + static_cast<std::ptrdiff_t>(in_base_ - retention));
            in_base_ = retention;
        }
        world_ = derive(base_, history_, in_base_);
        return {};
    }
    /// A reset's one atomic commit: what allocates is built aside first, then everything moves in.
    resync::Result<World> commit_reset(resync::ResetCommit<World, Op>&& c) {
        World next = derive(c.state, c.history, 0);
        quarantine_.reserve(quarantine_.size() + c.quarantine.size());
        for (auto& cs : c.history) cs.server_version = 0;
        std::swap(world_, next);
        base_ = std::move(c.state);
        history_ = std::move(c.history);
        in_base_ = 0;
        next_version_ = history_.empty() ? 1 : history_.back().client_version + 1;
        sync_ = std::move(c.sync_state);
        for (auto& q : c.quarantine) quarantine_.push_back(std::move(q));
        return next; // the world before the reset
    }
private:
    static constexpr std::size_t retention = 1024;
    bool mine(const resync::RemoteChangeset<Op>& e) const { return e.origin && e.origin == sync_.client_ident; }
    // Unacknowledged changesets, or acknowledged ones integrated above `above`.
    std::vector<Changeset> select(std::uint64_t above, bool acknowledged) const {
        std::vector<Changeset> out;
        for (const auto& c : history_)
            if (acknowledged ? c.server_version > above : !c.acknowledged()) out.push_back(c);
        return out;
    }
    static World derive(const World& base, const std::vector<Changeset>& history, std::size_t from) {
        World w = base;
        for (std::size_t i = from; i < history.size(); ++i)
            for (const auto& op : history[i].ops) GameModel::apply(w, op);
        return w;
    }
    World base_, world_;
    std::vector<Changeset> history_; ///< the first `in_base_` are in the base (acknowledged, kept a while)
    std::size_t in_base_ = 0;
    resync::ClientVersion next_version_ = 1;
    resync::SyncState sync_;
    std::vector<resync::QuarantinedOperation<Op>> quarantine_;
};

/// What a client reset does with each local operation, replayed in order onto the fresh copy:
/// | local operation | rule |
/// |---|---|
/// | pick up / use up | a delta onto the server's count (a use-up clamped to what the server holds) |
/// | move | the server's position wins: dropped (kept only for an entity this recovery spawned) |
/// | set health | the local value wins |
/// | spawn / despawn | applied (a spawn of an entity that exists changes nothing) |
/// | any other, on an entity the server despawned | dropped: never resurrected |
struct GameRules {
    using operation_type = Op;
    using Outcome = resync::recover::RuleOutcome<Op>;
    /// One recovery's scratch space: the fresh copy with what was kept so far applied.
    struct Context { World now; const World* fresh; };
    /// These rules need no before-state: the fresh copy decides everything.
    Context context(const World& fresh, const World* /*before*/) const { return {fresh, &fresh}; }
    Outcome recover(Context& c, const Op& op) const {
        if (op.kind != Op::spawn && op.kind != Op::despawn && !c.now.find(op.entity))
            return drop("entity " + std::to_string(op.entity) + " is gone on the server; never resurrected");
        if (op.kind == Op::set_position && c.fresh->find(op.entity))
            return drop("the server's position wins; a move made offline is not replayed");
        const std::int32_t have = c.now.count(op.entity, op.item);
        if (op.kind == Op::inventory_remove && op.value > 0 && have == 0) return drop("the server holds none of it");
        if (op.kind == Op::inventory_remove && op.value > have)
            return keep(c, {op.kind, op.entity, op.pos, have, op.item}, resync::OperationFate::transformed,
                        "used up more than the server holds: clamped to " + std::to_string(have));
        return keep(c, op);
    }
private:
    static Outcome keep(Context& c, const Op& op, resync::OperationFate fate = resync::OperationFate::recovered,
                        std::string why = {}) {
        GameModel::apply(c.now, op);
        return {fate, std::move(why), {op}, {}};
    }
    static Outcome drop(std::string why) { return {resync::OperationFate::dropped, std::move(why), {}, {}}; }
};

static_assert(resync::Model<GameModel>);
static_assert(resync::Store<GameStore>);

} // namespace game
