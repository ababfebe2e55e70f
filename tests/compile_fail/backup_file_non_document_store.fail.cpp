// expect: resync::backup::File writes document-model stores
//
// backup::File knows how to write the shipped document model only; a store of another model is
// told to use backup::Callback. The twin does just that.
#include <resync/backup/callback.hpp>
#include <resync/backup/file.hpp>
#include <resync/strategy.hpp>
#include <resync/sync_session.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

struct Cell {
    int row = 0;
    int value = 0;
};
struct Sheet {
    std::vector<int> cells;
};

struct SheetStore {
    using store_concept = resync::store_t;
    using operation_type = Cell;
    using snapshot_type = Sheet;

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
    resync::Result<Sheet> decode_snapshot(std::string_view bytes) const {
        return Sheet{std::vector<int>(bytes.size())};
    }
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

inline constexpr auto save_sheet = [](const SheetStore&, const resync::ResetTrigger&) { return std::error_code{}; };

int main() {
    SheetStore store;
    SheetLink link;
#ifdef RESYNC_TWIN
    using Policy = resync::Strategy<resync::backup::Callback<std::remove_cvref_t<decltype(save_sheet)>>>;
    resync::SyncSession<SheetStore, SheetLink, Policy> session(store, link, Policy{resync::backup::Callback{save_sheet}});
#else
    resync::SyncSession<SheetStore, SheetLink, resync::Strategy<resync::backup::File>> session(store, link);
#endif
    session.poll();
}
