// SqliteStore: Gemini pool keys and their health (cooldowns live in key_cooldowns). Keys are
// stored sealed (AES-256-GCM, secret_box.h) with a keyed fingerprint for dedupe; the clear key
// exists only in memory. Deleted keys leave their fingerprint in deleted_secrets.
#include <SQLiteCpp/SQLiteCpp.h>
#include <algorithm>
#include <unordered_map>

#include "core/clock.h"
#include "core/log.h"
#include "storage/sqlite/sql_util.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/validate.h"

namespace gemgate::storage {

using sqlite::guarded;
using sqlite::ReadTx;
using sqlite::WriteTx;

Result<std::vector<Key>> SqliteStore::load_keys() {
  return guarded("load_keys", [&]() -> Result<std::vector<Key>> {
    ReadTx snapshot(*db_);
    std::vector<Key> keys;
    std::unordered_map<std::int64_t, std::size_t> by_id;
    SQLite::Statement st(*db_,
                         "SELECT id, fingerprint, created_at, disabled, disabled_reason, "
                         "consecutive_failures, last_used_at, last_error, last_checked_at, "
                         "sealed, plain, weight, key_group, rpm, tpm, proxy_sealed, note, "
                         "health_changed_at FROM keys ORDER BY id");
    while (st.executeStep()) {
      Key k;
      k.id = st.getColumn(0).getInt64();
      if (!st.getColumn(10).isNull()) {
        k.secret = st.getColumn(10).getString();  // only between migration and sealing
      } else {
        const SQLite::Column blob = st.getColumn(9);
        auto opened =
            box_->open(std::string_view(static_cast<const char*>(blob.getBlob()), blob.getBytes()),
                       sqlite::key_aad(st.getColumn(1).getString()));
        if (!opened.ok()) {
          // The master key was verified at open, so this row was altered on disk. Skipping it
          // keeps the other keys serving; the operator sees the id, never a value.
          log::error("storage: pool key " + std::to_string(k.id) +
                     " cannot be decrypted (altered or corrupt) and is not loaded: " +
                     opened.error().message);
          continue;
        }
        k.secret = std::move(opened).value();
      }
      k.created_at = st.getColumn(2).getInt64();
      k.health.key_id = k.id;
      k.health.disabled = st.getColumn(3).getInt() != 0;
      k.health.disabled_reason = st.getColumn(4).getString();
      k.health.consecutive_failures = st.getColumn(5).getInt();
      k.health.last_used_at = st.getColumn(6).getInt64();
      k.health.last_error = st.getColumn(7).getString();
      k.health.last_checked_at = st.getColumn(8).getInt64();
      k.policy.weight = st.getColumn(11).getInt();
      k.policy.group = st.getColumn(12).getString();
      k.policy.rpm = st.getColumn(13).getInt64();
      k.policy.tpm = st.getColumn(14).getInt64();
      k.policy.note = st.getColumn(16).getString();
      if (!st.getColumn(15).isNull()) {
        const SQLite::Column blob = st.getColumn(15);
        auto proxy =
            box_->open(std::string_view(static_cast<const char*>(blob.getBlob()), blob.getBytes()),
                       sqlite::key_proxy_aad(k.id));
        if (proxy.ok()) {
          k.policy.proxy = std::move(proxy).value();
        } else {
          // Sending this key's traffic direct could break the operator's routing (or leak it
          // past a proxy they rely on): the key stays out until its proxy is set again.
          log::error("storage: the proxy of pool key " + std::to_string(k.id) +
                     " cannot be decrypted (altered or corrupt); the key is not loaded");
          continue;
        }
      }
      k.health.health_changed_at = st.getColumn(17).getInt64();
      by_id.emplace(k.id, keys.size());
      keys.push_back(std::move(k));
    }
    // All cooldowns in one query, attached in memory: no per-key round trip.
    SQLite::Statement cd(*db_,
                         "SELECT key_id, model, until_ms, strikes FROM key_cooldowns "
                         "ORDER BY key_id, model");
    while (cd.executeStep()) {
      auto it = by_id.find(cd.getColumn(0).getInt64());
      if (it == by_id.end()) continue;
      keys[it->second].health.cooldowns.push_back(
          {cd.getColumn(1).getString(), cd.getColumn(2).getInt64(), cd.getColumn(3).getInt()});
    }
    return keys;
  });
}

Result<AddKeysResult> SqliteStore::add_keys(const std::vector<std::string>& secrets, Millis now_ms,
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
  return guarded("add_keys", [&]() -> Result<AddKeysResult> {
    WriteTx tx(*db_);
    SQLite::Statement ins(*db_,
                          "INSERT INTO keys (fingerprint, sealed, created_at) VALUES (?, ?, ?) "
                          "ON CONFLICT (fingerprint) DO NOTHING");
    SQLite::Statement deleted(*db_,
                              "SELECT 1 FROM deleted_secrets WHERE kind = 'key' AND digest = ?");
    SQLite::Statement lift(*db_, "DELETE FROM deleted_secrets WHERE kind = 'key' AND digest = ?");
    for (const auto& [index, secret] : valid) {
      const std::string fp = box_->fingerprint(secret);
      if (origin == KeyOrigin::kEnvironment) {
        deleted.bind(1, fp);
        const bool was_deleted = deleted.executeStep();
        deleted.reset();
        if (was_deleted) {
          result.skipped_deleted.push_back(index);
          continue;
        }
      } else {
        lift.bind(1, fp);
        lift.exec();
        lift.reset();
      }
      const std::string blob = box_->seal(secret, sqlite::key_aad(fp));
      ins.bind(1, fp);
      ins.bind(2, blob.data(), static_cast<int>(blob.size()));
      ins.bind(3, now_ms);
      if (ins.exec() == 1) {
        result.added_ids.push_back(db_->getLastInsertRowid());
      } else {
        ++result.duplicates;
      }
      ins.reset();
    }
    tx.commit();
    return result;
  });
}

Result<std::int64_t> SqliteStore::delete_keys(const std::vector<std::int64_t>& ids) {
  const Millis now = sqlite::wall_clock_ms();
  return guarded("delete_keys", [&]() -> Result<std::int64_t> {
    std::int64_t deleted = 0;
    WriteTx tx(*db_);
    for (const auto& chunk : sqlite::chunk_ids(ids)) {
      const std::string in = " IN (" + sqlite::placeholders(chunk.size()) + ")";
      // Fingerprints first, in the same transaction: the environment must not re-add them.
      SQLite::Statement record(*db_,
                               "INSERT OR REPLACE INTO deleted_secrets (kind, digest, deleted_at) "
                               "SELECT 'key', fingerprint, ? FROM keys WHERE fingerprint IS NOT "
                               "NULL AND id" +
                                   in);
      SQLite::Statement del(*db_, "DELETE FROM keys WHERE id" + in);
      record.bind(1, now);
      for (std::size_t i = 0; i < chunk.size(); ++i) {
        record.bind(static_cast<int>(i + 2), chunk[i]);
        del.bind(static_cast<int>(i + 1), chunk[i]);
      }
      record.exec();
      deleted += del.exec();  // key_cooldowns rows go with them (ON DELETE CASCADE)
    }
    tx.commit();
    return deleted;
  });
}

Result<std::int64_t> SqliteStore::set_keys_disabled(const std::vector<std::int64_t>& ids,
                                                    bool disabled, std::string_view reason) {
  const std::string text = disabled ? safe_text(reason, kMaxShortText) : std::string();
  return guarded("set_keys_disabled", [&]() -> Result<std::int64_t> {
    std::int64_t changed = 0;
    WriteTx tx(*db_);
    for (const auto& chunk : sqlite::chunk_ids(ids)) {
      SQLite::Statement st(*db_,
                           "UPDATE keys SET disabled = ?, disabled_reason = ?, health_changed_at = "
                           "? WHERE id IN (" +
                               sqlite::placeholders(chunk.size()) + ")");
      st.bind(1, disabled ? 1 : 0);
      st.bind(2, text);
      st.bind(3, now_unix_ms());  // a decision: later than any health view written before it
      for (std::size_t i = 0; i < chunk.size(); ++i) st.bind(static_cast<int>(i + 4), chunk[i]);
      changed += st.exec();
    }
    tx.commit();
    return changed;
  });
}

Result<std::int64_t> SqliteStore::reset_key_health(const std::vector<std::int64_t>& ids) {
  return guarded("reset_key_health", [&]() -> Result<std::int64_t> {
    std::int64_t changed = 0;
    WriteTx tx(*db_);
    for (const auto& chunk : sqlite::chunk_ids(ids)) {
      const std::string in = " IN (" + sqlite::placeholders(chunk.size()) + ")";
      SQLite::Statement upd(*db_,
                            "UPDATE keys SET disabled = 0, disabled_reason = '', "
                            "consecutive_failures = 0, health_changed_at = " +
                                std::to_string(now_unix_ms()) + " WHERE id" + in);
      SQLite::Statement del(*db_, "DELETE FROM key_cooldowns WHERE key_id" + in);
      for (std::size_t i = 0; i < chunk.size(); ++i) {
        upd.bind(static_cast<int>(i + 1), chunk[i]);
        del.bind(static_cast<int>(i + 1), chunk[i]);
      }
      changed += upd.exec();
      del.exec();
    }
    tx.commit();
    return changed;
  });
}

Result<std::int64_t> SqliteStore::set_key_policies(
    const std::vector<std::pair<std::int64_t, KeyPolicyRow>>& policies) {
  for (const auto& [id, p] : policies) {
    if (p.weight < 1 || p.weight > 100 || p.group.size() > 64 || p.rpm < 0 || p.tpm < 0 ||
        p.note.size() > 500) {
      return Error::invalid("key " + std::to_string(id) + ": policy value out of range");
    }
  }
  return guarded("set_key_policies", [&]() -> Result<std::int64_t> {
    std::int64_t changed = 0;
    WriteTx tx(*db_);
    SQLite::Statement upd(*db_,
                          "UPDATE keys SET weight = ?, key_group = ?, rpm = ?, tpm = ?, "
                          "proxy_sealed = ?, note = ? WHERE id = ?");
    for (const auto& [id, p] : policies) {
      upd.bind(1, p.weight);
      upd.bind(2, p.group);
      upd.bind(3, p.rpm);
      upd.bind(4, p.tpm);
      if (p.proxy.empty()) {
        upd.bind(5);  // NULL: no proxy of its own
      } else {
        const std::string blob = box_->seal(p.proxy, sqlite::key_proxy_aad(id));
        upd.bind(5, blob.data(), static_cast<int>(blob.size()));
      }
      upd.bind(6, p.note);
      upd.bind(7, id);
      changed += upd.exec();
      upd.reset();
    }
    tx.commit();
    return changed;
  });
}

}  // namespace gemgate::storage
