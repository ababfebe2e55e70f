#pragma once
/// \file
/// The shipped document model (`resync::doc`: collections -> objects by primary key -> fields)
/// and everything made for it: `doc::Model`, `MemoryStore`, `recover::DocumentRules`, and the
/// recovering strategies with the document rules (`doc::RecoverOrDiscard` is
/// `RecoverOrDiscard<recover::DocumentRules>`). `replay::Squash`, which coalesces document
/// operations with range-v3's views, is included on its own (`<resync/replay/squash.hpp>`), so
/// that only the translation units that use it pay for range-v3.

#include <resync/doc/codec.hpp>
#include <resync/doc/describe.hpp>
#include <resync/doc/model.hpp>
#include <resync/doc/operation.hpp>
#include <resync/doc/snapshot_decoder.hpp>
#include <resync/doc/state.hpp>
#include <resync/doc/value.hpp>
#include <resync/doc/writer.hpp>
#include <resync/memory_store.hpp>
#include <resync/recover/document_rules.hpp>
#include <resync/strategy/recover.hpp>

namespace resync::doc {

/// `resync::Recover` with the document model's rules.
using Recover = resync::Recover<recover::DocumentRules>;
/// `resync::RecoverOrDiscard` with the document model's rules.
using RecoverOrDiscard = resync::RecoverOrDiscard<recover::DocumentRules>;
/// `resync::RecoverAll` with the document model's rules.
using RecoverAll = resync::RecoverAll<recover::DocumentRules>;

} // namespace resync::doc
