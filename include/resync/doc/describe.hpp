#pragma once
/// \file
/// `doc::describe(op)`: a short text naming what a document-model operation does and to which
/// object (`set tasks/t1.title`), for reports, plans and the demo.

#include <resync/detail/linkage.hpp>
#include <resync/doc/operation.hpp>

#include <string>
#include <type_traits>

namespace resync::doc {

/// What `op` does, and where: `create tasks/t1`, `add tasks/t1.count +5`, `list insert tasks/t1.tags`.
RESYNC_FUNC std::string describe(const Operation& op)
#if RESYNC_HEADER_DEFINITIONS
{
    return visit_operation(
        [](const auto& o) -> std::string {
            using T = std::decay_t<decltype(o)>;
            const std::string object = o.collection + "/" + o.key;
            if constexpr (std::is_same_v<T, CreateObject>) return "create " + object;
            else if constexpr (std::is_same_v<T, EraseObject>) return "erase " + object;
            else if constexpr (std::is_same_v<T, SetField>) return "set " + object + "." + o.field;
            else if constexpr (std::is_same_v<T, AddInteger>)
                return "add " + object + "." + o.field + (o.delta < 0 ? " " : " +") + std::to_string(o.delta);
            else if constexpr (std::is_same_v<T, ListInsert>) return "list insert " + object + "." + o.field;
            else if constexpr (std::is_same_v<T, ListErase>) return "list erase " + object + "." + o.field;
            else if constexpr (std::is_same_v<T, ListMove>) return "list move " + object + "." + o.field;
            else if constexpr (std::is_same_v<T, ListSet>) return "list set " + object + "." + o.field;
            else return "list clear " + object + "." + o.field;
        },
        op);
}
#else
;
#endif

} // namespace resync::doc
