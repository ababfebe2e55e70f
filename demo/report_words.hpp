#pragma once
// What a ResetReport says, in words: shared by the table (report_table.cpp) and the JSON
// (report_json.cpp), so that both say the same.

#include <resync/report.hpp>
#include <resync/trigger.hpp>

#include <array>
#include <chrono>
#include <string>

namespace resync_demo {

inline constexpr std::array all_fates{resync::OperationFate::recovered,   resync::OperationFate::transformed,
                                      resync::OperationFate::dropped,     resync::OperationFate::quarantined,
                                      resync::OperationFate::discarded,   resync::OperationFate::lost_on_server};

inline constexpr std::array all_phases{resync::ResetPhase::detect,  resync::ResetPhase::guard,
                                       resync::ResetPhase::backup,  resync::ResetPhase::fetch,
                                       resync::ResetPhase::recover, resync::ResetPhase::commit,
                                       resync::ResetPhase::notify,  resync::ResetPhase::replay,
                                       resync::ResetPhase::acknowledge};

/// Why the detection policy found a reset necessary, from what the trigger holds.
std::string why(const resync::ResetTrigger& t);

/// The server's error, as "code (action): message"; empty when the trigger came from positions.
std::string server_error_words(const resync::ResetTrigger& t);

/// What the backup holds and where.
std::string backup_words(const resync::ResetReport& r);

/// A fate's meaning, in a few words.
std::string meaning(resync::OperationFate f);

/// Milliseconds, as a number.
inline double milliseconds(std::chrono::nanoseconds d) { return std::chrono::duration<double, std::milli>(d).count(); }

} // namespace resync_demo
