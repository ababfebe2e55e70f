#pragma once
/// \file
/// `recover::RuleOutcome<Op>`: what a recovery rule decided for one local operation.

#include <resync/report.hpp>

#include <string>
#include <system_error>
#include <vector>

namespace resync::recover {

/// What a rule decided for one operation of type `Op`.
template <class Op>
struct RuleOutcome {
    OperationFate fate = OperationFate::recovered;
    std::string reason;     ///< why, for anything but `recovered`
    std::vector<Op> emit;   ///< what is kept: the operation, a transformed one, or nothing
    std::error_code failure;///< set when recovery as a whole must fail (the reset falls back)
    /// Set (with `emit` empty) when what is kept is the operation itself, as given: the recovery
    /// copies it into the kept changeset directly, with no vector built for it (the common case).
    bool keeps_operation = false;
};

} // namespace resync::recover
