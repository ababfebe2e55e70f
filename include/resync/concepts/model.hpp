#pragma once
/// \file
/// The `Model` concept: the user's operations and state, as the library needs them - the
/// operation and snapshot types, applying an operation, counting objects, and an encoding of
/// snapshots and operations (for backup files, fresh copies and the wire).
/// Contract in prose: docs/concepts.md#model.

#include <resync/bytes.hpp>
#include <resync/result.hpp>

#include <concepts>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace resync {

class ChunkedOutput; // <resync/chunked_output.hpp>

/// Opt-in tag: a Model declares `using model_concept = resync::model_t;`.
struct model_t {};

namespace model_requirements {

template <class M>
concept declares_model = requires { typename M::model_concept; } && std::same_as<typename M::model_concept, model_t>;

template <class M>
concept names_its_types = requires {
    typename M::operation_type;
    typename M::snapshot_type;
};

/// `M::apply(snapshot, op)` applies one operation with the model's deterministic semantics.
template <class M>
concept applies_operations = requires(typename M::snapshot_type& s, const typename M::operation_type& op) {
    M::apply(s, op);
};

/// `M::object_count(snapshot)`: how many objects a state holds, for reports and progress.
template <class M>
concept counts_objects = requires(const typename M::snapshot_type& s) {
    { M::object_count(s) } -> std::convertible_to<std::size_t>;
};

/// Snapshots compare equal when they hold the same data (the law suite and the tests need it).
template <class M>
concept compares_snapshots = std::equality_comparable<typename M::snapshot_type>;

/// `M::encode(ByteWriter&, const operation_type&)` and
/// `M::decode_operation(ByteReader&) -> std::optional<operation_type>`: decoding is total (any
/// input yields an operation or nullopt, never a crash).
template <class M>
concept encodes_operations = requires(ByteWriter& w, ByteReader& r, const typename M::operation_type& op) {
    M::encode(w, op);
    { M::decode_operation(r) } -> std::same_as<std::optional<typename M::operation_type>>;
};

/// `M::encode_snapshot(const snapshot_type&) -> std::string` and
/// `M::decode_snapshot(std::string_view) -> Result<snapshot_type>`: the bytes of a fresh copy
/// and of the state in a backup file. Damaged input is `errc::fresh_copy_corrupt` (or
/// `fresh_copy_truncated` when short), never a crash.
template <class M>
concept encodes_snapshots = requires(const typename M::snapshot_type& s, std::string_view bytes) {
    { M::encode_snapshot(s) } -> std::same_as<std::string>;
    { M::decode_snapshot(bytes) } -> std::same_as<Result<typename M::snapshot_type>>;
};

// ------------------------------------------------------------------------ optional

/// Optional: `M::describe(const operation_type&) -> std::string`, a short text naming what an
/// operation does and to which object (`set tasks/t1.title`), shown in reports and plans.
template <class M>
concept describes_operations = requires(const typename M::operation_type& op) {
    { M::describe(op) } -> std::convertible_to<std::string>;
};

/// Optional: `M::encode_snapshot_into(std::string& out, const snapshot_type&)` appends to `out`
/// the very bytes `encode_snapshot` returns, so a backup file encodes the state straight into
/// its buffer instead of copying a separate encoding in.
template <class M>
concept encodes_snapshots_into = requires(std::string& out, const typename M::snapshot_type& s) {
    M::encode_snapshot_into(out, s);
};

/// Optional: `M::encode_snapshot_into(ChunkedOutput& out, const snapshot_type&)` appends the same
/// bytes to `out.buffer()`, calling `out.piece_done()` between objects (where `out` may write the
/// bytes so far to the file and drop them); a field known only at the end is written as zeros and
/// given its value with `out.fill_in`, and `out.mark()` / `out.crc_since` checksum a part without
/// reading a byte twice. So a backup file of a large state is written while it is encoded, never
/// held whole in memory.
template <class M>
concept encodes_snapshots_in_pieces = requires(ChunkedOutput& out, const typename M::snapshot_type& s) {
    M::encode_snapshot_into(out, s);
};

/// Optional: `typename M::snapshot_decoder`, which decodes an encoded snapshot in slices, so a
/// budgeted reset never decodes a whole large copy in one `poll()`:
/// `feed(std::string&& bytes)` appends the next bytes of the encoding;
/// `step(std::size_t max_objects) -> Result<bool>` decodes up to `max_objects` more objects
/// from what was fed (true once the whole snapshot is decoded and checked);
/// `done() const`, `objects() const` (decoded so far) and `take() -> snapshot_type`.
template <class M>
concept decodes_in_slices = requires { typename M::snapshot_decoder; } &&
    requires(typename M::snapshot_decoder& d, std::string&& bytes, std::size_t n) {
        d.feed(std::move(bytes));
        { d.step(n) } -> std::same_as<Result<bool>>;
        { d.take() } -> std::same_as<typename M::snapshot_type>;
        { std::as_const(d).objects() } -> std::convertible_to<std::size_t>;
    };

/// Optional: `M::release_objects(snapshot_type&, std::size_t max_objects) -> std::size_t` frees
/// up to `max_objects` objects of a snapshot and says how many it freed (0 once it holds none),
/// so the state a reset replaced is freed a slice per `poll()`; without it, the session frees
/// such a state whole, in one later `poll()`.
template <class M>
concept releases_in_slices = requires(typename M::snapshot_type& s, std::size_t n) {
    { M::release_objects(s, n) } -> std::convertible_to<std::size_t>;
};
} // namespace model_requirements

/// A model of the user's data: operations, state, apply, counts and encodings. Each requirement
/// is a named sub-concept, so the compiler names the piece that is missing.
template <class M>
concept Model = model_requirements::declares_model<M> && model_requirements::names_its_types<M> &&
                model_requirements::applies_operations<M> && model_requirements::counts_objects<M> &&
                model_requirements::compares_snapshots<M> && model_requirements::encodes_operations<M> &&
                model_requirements::encodes_snapshots<M>;

/// A short description of `op` for reports: the model's own words when it has them, else empty.
template <class M>
std::string describe_operation(const typename M::operation_type& op) {
    if constexpr (model_requirements::describes_operations<M>)
        return std::string(M::describe(op));
    else {
        (void)op;
        return {};
    }
}

} // namespace resync
