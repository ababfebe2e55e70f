#pragma once
/// \file
/// `detect::Standard`: every shipped detection policy, most specific cause first.

#include <resync/detect/any_of.hpp>
#include <resync/detect/divergence.hpp>
#include <resync/detect/epoch_change.hpp>
#include <resync/detect/expired.hpp>
#include <resync/detect/rollback.hpp>
#include <resync/detect/schema_change.hpp>
#include <resync/detect/server_errors.hpp>

namespace resync::detect {

/// The default detection: server errors, then schema change, epoch change, expiry, rollback and
/// divergence.
using Standard = AnyOf<ServerErrors, SchemaChange, EpochChange, Expired, Rollback, Divergence>;

} // namespace resync::detect
