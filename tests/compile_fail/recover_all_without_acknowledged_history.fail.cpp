// expect: re-applies acknowledged changes a restored server lost
// expect: cap::acknowledged_history
//
// RecoverAll re-applies the acknowledged changes a restored server lost, which it finds in the
// store's retained acknowledged history. A store that keeps none used to compile and silently
// lose them (the reset then reported nothing lost and healed nothing); now it gets one
// static_assert naming the capability. The twin declares it.
#include <resync/bytes.hpp>
#include <resync/concepts/capabilities.hpp>
#include <resync/concepts/model.hpp>
#include <resync/recover/rule_outcome.hpp>
#include <resync/strategy/recover.hpp>
#include <resync/sync_session.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

struct Cell {
    std::uint32_t row = 0;
    std::int32_t value = 0;
    friend bool operator==(const Cell&, const Cell&) = default;
};
using Sheet = std::map<std::uint32_t, std::int32_t>;

struct SheetModel {
    using model_concept = resync::model_t;
    using operation_type = Cell;
    using snapshot_type = Sheet;
    static void apply(Sheet& s, const Cell& c) { s[c.row] = c.value; }
    static std::size_t object_count(const Sheet& s) { return s.size(); }
    static void encode(resync::ByteWriter& w, const Cell& c) {
        w.u32(c.row);
        w.u32(static_cast<std::uint32_t>(c.value));
    }
    static std::optional<Cell> decode_operation(resync::ByteReader& r) {
        Cell c{r.u32(), static_cast<std::int32_t>(r.u32())};
        if (r.failed()) return std::nullopt;
        return c;
    }
    static std::string encode_snapshot(const Sheet&) { return {}; }
    static resync::Result<Sheet> decode_snapshot(std::string_view) { return Sheet{}; }
};

struct SheetStore {
    using store_concept = resync::store_t;
    using model_type = SheetModel;
#ifdef RESYNC_TWIN
    using store_capabilities = resync::capabilities<resync::cap::acknowledged_history>;
    std::vector<resync::LocalChangeset<Cell>> acknowledged_after(std::uint64_t) const { return {}; }
#endif

    const resync::SyncState& sync_state() const { return sync; }
    std::error_code write_sync_state(const resync::SyncState& s) {
        sync = s;
        return {};
    }
    std::vector<resync::LocalChangeset<Cell>> unsynced() const { return {}; }
    std::error_code integrate(std::span<const resync::RemoteChangeset<Cell>>) { return {}; }
    std::error_code acknowledge(resync::ClientVersion, std::span<const std::pair<resync::ClientVersion, std::uint64_t>>) {
        return {};
    }
    Sheet export_snapshot() const { return sheet; }
    resync::Result<Sheet> commit_reset(resync::ResetCommit<Sheet, Cell>&& c) {
        Sheet old = std::move(sheet);
        sheet = std::move(c.state);
        sync = c.sync_state;
        return old;
    }

    resync::SyncState sync;
    Sheet sheet;
};

struct SheetLink {
    using transport_concept = resync::transport_t;
    using operation_type = Cell;
    bool send(resync::protocol::ClientMessage<Cell>) { return false; }
    std::optional<resync::protocol::ServerMessage<Cell>> receive() { return std::nullopt; }
    bool connected() const { return false; }
    std::uint64_t connection_id() const { return 1; }
};

/// The spreadsheet's own rules: a cell written locally wins.
struct SheetRules {
    using operation_type = Cell;
    struct Context {};
    Context context(const Sheet&, const Sheet*) const { return {}; }
    resync::recover::RuleOutcome<Cell> recover(Context&, const Cell& c) const { return {resync::OperationFate::recovered, {}, {c}, {}}; }
};

int main() {
    SheetStore store;
    SheetLink link;
    resync::SyncSession<SheetStore, SheetLink, resync::RecoverAll<SheetRules>> session(store, link);
    session.poll();
}
