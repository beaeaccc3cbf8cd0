// PgStore: key health written behind by the gateways of a group, merged by decision time
// (Store::save_key_health), and read back without decrypting anything (load_key_health). The
// same rules as storage/sqlite/sqlite_key_health.cpp; the row lock (FOR UPDATE) orders two
// gateways writing the same key at once.
#include <algorithm>

#include "storage/postgres/pg_conn.h"
#include "storage/postgres/pg_store.h"
#include "storage/postgres/pg_util.h"
#include "storage/validate.h"

namespace gemgate::storage {

using pg::arg;
using pg::Tx;

Result<void> PgStore::save_key_health(const std::vector<KeyHealthRow>& health) {
  if (health.empty()) return {};
  const Millis now = pg::wall_clock_ms();
  Tx tx(*db_);
  PG_TRY(tx.begin());
  bool changed = false;
  for (const KeyHealthRow& h : health) {
    PG_LET(stored, db_->exec("SELECT health_changed_at FROM keys WHERE id = $1 FOR UPDATE",
                             {arg(h.key_id)}));
    if (stored.size() == 0) continue;  // deleted while its health was queued
    const Millis stored_at = stored.i64(0, 0);
    const std::string error = safe_text(h.last_error, kMaxErrorText);
    const int failures = std::max(h.consecutive_failures, 0);
    changed = true;
    if (h.health_changed_at < stored_at) {  // a stale view: its usage figures only
      PG_TRY(db_->exec(
          "UPDATE keys SET consecutive_failures = $1, "
          "last_used_at = GREATEST(last_used_at, $2), last_error = $3, "
          "last_checked_at = GREATEST(last_checked_at, $4) WHERE id = $5",
          {arg(failures), arg(h.last_used_at), arg(error), arg(h.last_checked_at), arg(h.key_id)}));
      continue;
    }
    PG_TRY(db_->exec(
        "UPDATE keys SET disabled = $1, disabled_reason = $2, health_changed_at = $3, "
        "consecutive_failures = $4, last_used_at = GREATEST(last_used_at, $5), last_error = $6, "
        "last_checked_at = GREATEST(last_checked_at, $7) WHERE id = $8",
        {arg(h.disabled),
         arg(h.disabled ? safe_text(h.disabled_reason, kMaxShortText) : std::string()),
         arg(h.health_changed_at), arg(failures), arg(h.last_used_at), arg(error),
         arg(h.last_checked_at), arg(h.key_id)}));
    if (h.health_changed_at > stored_at) {  // a newer decision replaces the list
      PG_TRY(db_->exec("DELETE FROM key_cooldowns WHERE key_id = $1", {arg(h.key_id)}));
    } else {  // the same decision: merge, dropping what has ended
      PG_TRY(
          db_->exec("DELETE FROM key_cooldowns WHERE key_id = $1 AND until_ms > 0 AND "
                    "until_ms <= $2",
                    {arg(h.key_id), arg(now)}));
    }
    for (const ModelCooldown& c : h.cooldowns) {
      if (c.model.empty()) continue;
      PG_TRY(db_->exec(
          "INSERT INTO key_cooldowns (key_id, model, until_ms, strikes) VALUES ($1, $2, $3, $4) "
          "ON CONFLICT (key_id, model) DO UPDATE SET strikes = CASE WHEN excluded.until_ms >= "
          "key_cooldowns.until_ms THEN excluded.strikes ELSE key_cooldowns.strikes END, "
          "until_ms = GREATEST(key_cooldowns.until_ms, excluded.until_ms)",
          {arg(h.key_id), arg(clip_utf8(c.model, kMaxShortText)), arg(c.until_ms),
           arg(std::max(c.strikes, 0))}));
    }
  }
  if (changed) PG_TRY(notify(ChangeTopic::kKeyHealth));
  PG_TRY(tx.commit());
  return {};
}

Result<std::vector<KeyHealthRow>> PgStore::load_key_health() {
  Tx tx(*db_);
  PG_TRY(tx.begin("REPEATABLE READ READ ONLY"));  // keys and cooldowns from one snapshot
  PG_LET(rows, db_->exec("SELECT id, disabled, disabled_reason, consecutive_failures, "
                         "last_used_at, last_error, last_checked_at, health_changed_at "
                         "FROM keys ORDER BY id"));
  std::vector<KeyHealthRow> out;
  out.reserve(static_cast<std::size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    KeyHealthRow h;
    h.key_id = rows.i64(i, 0);
    h.disabled = rows.boolean(i, 1);
    h.disabled_reason = rows.text(i, 2);
    h.consecutive_failures = static_cast<int>(rows.i64(i, 3));
    h.last_used_at = rows.i64(i, 4);
    h.last_error = rows.text(i, 5);
    h.last_checked_at = rows.i64(i, 6);
    h.health_changed_at = rows.i64(i, 7);
    out.push_back(std::move(h));
  }
  PG_LET(cd, db_->exec("SELECT key_id, model, until_ms, strikes FROM key_cooldowns "
                       "ORDER BY key_id, model"));
  std::size_t k = 0;
  for (int i = 0; i < cd.size(); ++i) {  // both ordered by key id: one pass
    const std::int64_t id = cd.i64(i, 0);
    while (k < out.size() && out[k].key_id < id) ++k;
    if (k == out.size()) break;
    if (out[k].key_id != id) continue;
    out[k].cooldowns.push_back({cd.text(i, 1), cd.i64(i, 2), static_cast<int>(cd.i64(i, 3))});
  }
  PG_TRY(tx.commit());
  return out;
}

}  // namespace gemgate::storage
