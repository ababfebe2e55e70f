#pragma once
/// \file
/// `QuarantinedOperation`: a local operation a reset could not recover, kept durably in the
/// store (not just logged) so that it can be exported, inspected and retried.

#include <resync/history.hpp>
#include <resync/trigger.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace resync {

template <class Op>
struct QuarantinedOperation {
    ClientVersion client_version = 0; ///< the changeset it came from
    std::size_t index = 0;            ///< its position there
    Op operation;
    std::string reason;               ///< why recovery dropped it
    ResetReason cause = ResetReason::server_requested; ///< the reset that dropped it
    std::int64_t at_ms = 0;           ///< when, in ms since the Unix epoch

    friend bool operator==(const QuarantinedOperation&, const QuarantinedOperation&) = default;
};

} // namespace resync
