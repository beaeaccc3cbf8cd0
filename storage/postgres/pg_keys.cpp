// PgStore: Gemini pool keys and their health (cooldowns in key_cooldowns). Keys are stored
// sealed (AES-256-GCM, secret_box.h) with a keyed fingerprint for dedupe, exactly as in SQLite;
// deleted keys leave their fingerprint in deleted_secrets. Admin changes notify "keys", health
// written behind notifies "key_health".
#include <algorithm>
#include <unordered_map>

#include "core/log.h"
#include "storage/postgres/pg_conn.h"
#include "storage/postgres/pg_store.h"
#include "storage/postgres/pg_util.h"
#include "storage/validate.h"

namespace gemgate::storage {

using pg::arg;
using pg::Tx;

Result<std::vector<Key>> PgStore::load_keys() {
  Tx tx(*db_);
  PG_TRY(tx.begin("REPEATABLE READ READ ONLY"));  // keys and cooldowns from one snapshot
  PG_LET(rows, db_->exec("SELECT id, fingerprint, created_at, disabled, disabled_reason, "
                         "consecutive_failures, last_used_at, last_error, last_checked_at, sealed, "
                         "weight, key_group, rpm, tpm, proxy_sealed, note, health_changed_at "
                         "FROM keys ORDER BY id"));
  std::vector<Key> keys;
  std::unordered_map<std::int64_t, std::size_t> by_id;
  for (int i = 0; i < rows.size(); ++i) {
    Key k;
    k.id = rows.i64(i, 0);
    auto opened = box_->open(rows.bytes(i, 9), pg::key_aad(rows.text(i, 1)));
    if (!opened.ok()) {
      // The master key was verified at open, so this row was altered. Skipping it keeps the
      // other keys serving; the operator sees the id, never a value.
      log::error(
          "storage: pool key " + std::to_string(k.id) +
          " cannot be decrypted (altered or corrupt) and is not loaded: " + opened.error().message);
      continue;
    }
    k.secret = std::move(opened).value();
    k.created_at = rows.i64(i, 2);
    k.health.key_id = k.id;
    k.health.disabled = rows.boolean(i, 3);
    k.health.disabled_reason = rows.text(i, 4);
    k.health.consecutive_failures = static_cast<int>(rows.i64(i, 5));
    k.health.last_used_at = rows.i64(i, 6);
    k.health.last_error = rows.text(i, 7);
    k.health.last_checked_at = rows.i64(i, 8);
    k.policy.weight = static_cast<int>(rows.i64(i, 10));
    k.policy.group = rows.text(i, 11);
    k.policy.rpm = rows.i64(i, 12);
    k.policy.tpm = rows.i64(i, 13);
    k.policy.note = rows.text(i, 15);
    if (!rows.is_null(i, 14)) {
      auto proxy = box_->open(rows.bytes(i, 14), pg::key_proxy_aad(k.id));
      if (!proxy.ok()) {
        // Sending this key's traffic direct could break the operator's routing (or leak it past
        // a proxy they rely on): the key stays out until its proxy is set again.
        log::error("storage: the proxy of pool key " + std::to_string(k.id) +
                   " cannot be decrypted (altered or corrupt); the key is not loaded");
        continue;
      }
      k.policy.proxy = std::move(proxy).value();
    }
    k.health.health_changed_at = rows.i64(i, 16);
    by_id.emplace(k.id, keys.size());
    keys.push_back(std::move(k));
  }
  PG_LET(cd, db_->exec("SELECT key_id, model, until_ms, strikes FROM key_cooldowns "
                       "ORDER BY key_id, model"));
  for (int i = 0; i < cd.size(); ++i) {
    auto it = by_id.find(cd.i64(i, 0));
    if (it == by_id.end()) continue;
    keys[it->second].health.cooldowns.push_back(
        {cd.text(i, 1), cd.i64(i, 2), static_cast<int>(cd.i64(i, 3))});
  }
  PG_TRY(tx.commit());
  return keys;
}

Result<AddKeysResult> PgStore::add_keys(const std::vector<std::string>& secrets, Millis now_ms,
                                        KeyOrigin origin) {
  AddKeysResult result;
  std::vector<std::pair<std::size_t, std::string>> valid;  // input position, key
  for (std::size_t i = 0; i < secrets.size(); ++i) {
    auto key = normalize_key_secret(secrets[i]);
    if (key.ok()) {
      valid.emplace_back(i, std::move(key).value());
    } else {
      result.rejected.push_back({i, key.error().message});
    }
  }
  if (valid.empty()) return result;
  Tx tx(*db_);
  PG_TRY(tx.begin());
  for (const auto& [index, secret] : valid) {
    const std::string fp = box_->fingerprint(secret);
    if (origin == KeyOrigin::kEnvironment) {
      PG_LET(deleted, db_->exec("SELECT 1 FROM deleted_secrets WHERE kind = 'key' AND digest = $1",
                                {arg(fp)}));
      if (deleted.size() > 0) {
        result.skipped_deleted.push_back(index);
        continue;
      }
    } else {
      PG_TRY(
          db_->exec("DELETE FROM deleted_secrets WHERE kind = 'key' AND digest = $1", {arg(fp)}));
    }
    const std::string blob = box_->seal(secret, pg::key_aad(fp));
    PG_LET(ins, db_->exec("INSERT INTO keys (fingerprint, sealed, created_at) VALUES ($1, $2, $3) "
                          "ON CONFLICT (fingerprint) DO NOTHING RETURNING id",
                          {arg(fp), pg::bytea(blob), arg(now_ms)}));
    if (ins.size() == 1) {
      result.added_ids.push_back(ins.i64(0, 0));
    } else {
      ++result.duplicates;
    }
  }
  if (!result.added_ids.empty()) PG_TRY(notify(ChangeTopic::kKeys));
  PG_TRY(tx.commit());
  return result;
}

Result<std::int64_t> PgStore::delete_keys(const std::vector<std::int64_t>& ids) {
  if (ids.empty()) return std::int64_t{0};
  Tx tx(*db_);
  PG_TRY(tx.begin());
  // Fingerprints first, in the same transaction: the environment must not re-add them.
  PG_TRY(
      db_->exec("INSERT INTO deleted_secrets (kind, digest, deleted_at) "
                "SELECT 'key', fingerprint, $1 FROM keys WHERE id = ANY($2::bigint[]) "
                "ON CONFLICT (kind, digest) DO UPDATE SET deleted_at = excluded.deleted_at",
                {arg(pg::wall_clock_ms()), pg::id_array(ids)}));
  PG_LET(del, db_->exec("DELETE FROM keys WHERE id = ANY($1::bigint[])", {pg::id_array(ids)}));
  if (del.affected() > 0) PG_TRY(notify(ChangeTopic::kKeys));
  PG_TRY(tx.commit());
  return del.affected();
}

Result<std::int64_t> PgStore::set_keys_disabled(const std::vector<std::int64_t>& ids, bool disabled,
                                                std::string_view reason) {
  if (ids.empty()) return std::int64_t{0};
  const std::string text = disabled ? safe_text(reason, kMaxShortText) : std::string();
  Tx tx(*db_);
  PG_TRY(tx.begin());
  PG_LET(upd, db_->exec("UPDATE keys SET disabled = $1, disabled_reason = $2, "
                        "health_changed_at = $3 WHERE id = ANY($4::bigint[])",
                        {arg(disabled), arg(text), arg(pg::wall_clock_ms()), pg::id_array(ids)}));
  if (upd.affected() > 0) PG_TRY(notify(ChangeTopic::kKeys));
  PG_TRY(tx.commit());
  return upd.affected();
}

Result<std::int64_t> PgStore::reset_key_health(const std::vector<std::int64_t>& ids) {
  if (ids.empty()) return std::int64_t{0};
  Tx tx(*db_);
  PG_TRY(tx.begin());
  PG_LET(upd, db_->exec("UPDATE keys SET disabled = FALSE, disabled_reason = '', "
                        "consecutive_failures = 0, health_changed_at = $2 "
                        "WHERE id = ANY($1::bigint[])",
                        {pg::id_array(ids), arg(pg::wall_clock_ms())}));
  PG_TRY(
      db_->exec("DELETE FROM key_cooldowns WHERE key_id = ANY($1::bigint[])", {pg::id_array(ids)}));
  if (upd.affected() > 0) PG_TRY(notify(ChangeTopic::kKeyHealth));
  PG_TRY(tx.commit());
  return upd.affected();
}

Result<std::int64_t> PgStore::set_key_policies(
    const std::vector<std::pair<std::int64_t, KeyPolicyRow>>& policies) {
  for (const auto& [id, p] : policies) {
    if (p.weight < 1 || p.weight > 100 || p.group.size() > 64 || p.rpm < 0 || p.tpm < 0 ||
        p.note.size() > 500) {
      return Error::invalid("key " + std::to_string(id) + ": policy value out of range");
    }
  }
  if (policies.empty()) return std::int64_t{0};
  Tx tx(*db_);
  PG_TRY(tx.begin());
  std::int64_t changed = 0;
  for (const auto& [id, p] : policies) {
    pg::Param proxy;  // NULL: no proxy of its own
    if (!p.proxy.empty()) proxy = pg::bytea(box_->seal(p.proxy, pg::key_proxy_aad(id)));
    PG_LET(upd, db_->exec("UPDATE keys SET weight = $1, key_group = $2, rpm = $3, tpm = $4, "
                          "proxy_sealed = $5, note = $6 WHERE id = $7",
                          {arg(p.weight), arg(p.group), arg(p.rpm), arg(p.tpm), proxy, arg(p.note),
                           arg(id)}));
    changed += upd.affected();
  }
  if (changed > 0) PG_TRY(notify(ChangeTopic::kKeys));
  PG_TRY(tx.commit());
  return changed;
}

}  // namespace gemgate::storage
