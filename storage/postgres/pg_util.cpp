// Helpers shared by the PgStore source files (see pg_util.h).
#include "storage/postgres/pg_util.h"

#include "storage/log_index_terms.h"

namespace gemgate::storage::pg {

Where log_where(const LogFilter& f, const std::optional<std::string>& kind, bool failed_keys,
                int first) {
  Where w;
  w.next = first;
  auto add = [&w](const std::string& cond) {
    w.sql += w.sql.empty() ? " WHERE " : " AND ";
    w.sql += cond;
  };
  auto ph = [&w]() { return "$" + std::to_string(w.next++); };
  if (f.from_ms) {
    add("time_ms >= " + ph());
    w.args.push_back(arg(*f.from_ms));
  }
  if (f.to_ms) {
    add("time_ms < " + ph());
    w.args.push_back(arg(*f.to_ms));
  }
  if (f.key_id && failed_keys) {
    const std::string p = ph();
    // A UNION of two index lookups (the key's own rows, the rows it failed in): an OR of the
    // two would make the planner scan the whole log.
    add("id IN (SELECT id FROM request_log WHERE key_id = " + p +
        " UNION SELECT log_id FROM request_log_failed_keys WHERE key_id = " + p + ")");
    w.args.push_back(arg(*f.key_id));
  } else if (f.key_id) {
    add("key_id = " + ph());
    w.args.push_back(arg(*f.key_id));
  }
  if (f.model) {
    add("model = " + ph());
    w.args.push_back(arg(*f.model));
  }
  if (f.status) {
    add("status = " + ph());
    w.args.push_back(arg(*f.status));
  }
  if (f.status_class) {
    const std::string lo = ph();
    const std::string hi = ph();
    add("status >= " + lo + " AND status < " + hi);
    w.args.push_back(arg(*f.status_class * 100));
    w.args.push_back(arg((*f.status_class + 1) * 100));
  }
  // The partial indexes' conditions, literally (log_index_terms.h): a generic plan of a
  // prepared statement cannot prove them from $n. Redundant on error_log.
  if (filter_excludes_status_200(f)) add(kStatusIndexTerm);
  if (f.instance_id) {
    add("instance_id = " + ph());
    w.args.push_back(arg(*f.instance_id));
    if (filter_names_instance(f)) add(kInstanceIndexTerm);
  }
  if (kind) {
    add("kind = " + ph());
    w.args.push_back(arg(*kind));
  }
  return w;
}

}  // namespace gemgate::storage::pg
