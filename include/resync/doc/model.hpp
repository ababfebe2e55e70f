#pragma once
/// \file
/// `doc::Model`: the shipped document model (collections -> objects by primary key -> fields) as
/// a `resync::Model`, so that everything generic over a model - the reference server, backup
/// files, the law suite, every strategy - works with it.

#include <resync/bytes.hpp>
#include <resync/concepts/model.hpp>
#include <resync/chunked_output.hpp>
#include <resync/detail/linkage.hpp>
#include <resync/doc/operation.hpp>
#include <resync/doc/snapshot_decoder.hpp>
#include <resync/doc/state.hpp>
#include <resync/result.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

// What only the member functions' definitions use (see <resync/detail/linkage.hpp>).
#if RESYNC_HEADER_DEFINITIONS
#include <resync/doc/codec.hpp>
#include <resync/doc/describe.hpp>
#endif

namespace resync::doc {

/// The document model as a `resync::Model`.
struct Model {
    using model_concept = model_t;
    using operation_type = Operation;
    using snapshot_type = State;
    using snapshot_decoder = SnapshotDecoder;

    static void apply(State& state, const Operation& op);
    static std::size_t object_count(const State& state) noexcept { return state.object_count(); }
    static std::size_t release_objects(State& state, std::size_t max_objects);

    static void encode(ByteWriter& w, const Operation& op);
    static std::optional<Operation> decode_operation(ByteReader& r);

    static std::string encode_snapshot(const State& state);
    static void encode_snapshot_into(std::string& out, const State& state);
    static void encode_snapshot_into(resync::ChunkedOutput& out, const State& state);
    static Result<State> decode_snapshot(std::string_view bytes);

    static std::string describe(const Operation& op);
};

#if RESYNC_HEADER_DEFINITIONS

RESYNC_FUNC void Model::apply(State& state, const Operation& op) {
    doc::apply(state, op);
}

RESYNC_FUNC std::size_t Model::release_objects(State& state, std::size_t max_objects) {
    return doc::release_objects(state, max_objects);
}

RESYNC_FUNC void Model::encode(ByteWriter& w, const Operation& op) {
    doc::encode(w, op);
}

RESYNC_FUNC std::optional<Operation> Model::decode_operation(ByteReader& r) {
    return doc::decode_operation(r);
}

RESYNC_FUNC std::string Model::encode_snapshot(const State& state) {
    return doc::encode_snapshot(state);
}

RESYNC_FUNC void Model::encode_snapshot_into(std::string& out, const State& state) {
    doc::encode_snapshot_into(out, state);
}

RESYNC_FUNC void Model::encode_snapshot_into(resync::ChunkedOutput& out, const State& state) {
    doc::encode_snapshot_into(out, state);
}

RESYNC_FUNC Result<State> Model::decode_snapshot(std::string_view bytes) {
    return doc::decode_snapshot(bytes);
}

RESYNC_FUNC std::string Model::describe(const Operation& op) {
    return doc::describe(op);
}

#endif // RESYNC_HEADER_DEFINITIONS

static_assert(resync::Model<Model>);

} // namespace resync::doc
