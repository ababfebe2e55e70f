#pragma once
/// \file
/// `resync::SqliteStore` and its pieces (include/resync/sqlite/): the document model in a SQLite
/// database file. Needs the `resync::sqlite` CMake target, which links libsqlite3.

#include <resync/sqlite/database.hpp>
#include <resync/sqlite/rows.hpp>
#include <resync/sqlite/schema.hpp>
#include <resync/sqlite/store.hpp>
