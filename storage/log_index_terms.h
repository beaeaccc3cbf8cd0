// The partial indexes of request_log (schema v12, both stores) and the literal terms a filtered
// query carries so that the planner uses them. A planner uses a partial index only when it can
// prove that the query's WHERE implies the index's condition; from a bound parameter
// (`status = ?`) neither SQLite nor a generic PostgreSQL plan can, so a filter that such an
// index serves repeats the index's condition word for word. The term is implied by the filter
// itself (status 404 is not 200), so it never changes which rows match.
#pragma once

#include "storage/types.h"

namespace gemgate::storage {

// request_log_by_status holds only the rows whose status is not 200: nearly every stored
// request is a 200, and an index entry per row cost ~0.65 µs of each insert
// (bench_log_append). A filter that includes 200 (status 200, class 2xx) is served by the time
// index instead.
inline constexpr const char* kStatusIndexTerm = "status <> 200";

// True when every row `f` matches has a status other than 200: its query carries
// kStatusIndexTerm and can use request_log_by_status.
inline bool filter_excludes_status_200(const LogFilter& f) {
  return (f.status && *f.status != 200) || (f.status_class && *f.status_class != 2);
}

// request_log_by_instance holds only the rows of a named gateway (GEMGATE_INSTANCE_ID set: a
// group); an unnamed gateway stores '' and pays no entry.
inline constexpr const char* kInstanceIndexTerm = "instance_id <> ''";

// True when `f` asks for one named instance's rows: its query carries kInstanceIndexTerm and can
// use request_log_by_instance.
inline bool filter_names_instance(const LogFilter& f) {
  return f.instance_id && !f.instance_id->empty();
}

}  // namespace gemgate::storage
