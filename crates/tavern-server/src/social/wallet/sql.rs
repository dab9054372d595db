//! Wallets (`users.wallet`, a JSON object of integer balances) and the `wallet_ledger` table.
//!
//! An update reads the wallets it changes, computes the new balances and writes them back in
//! the caller's transaction. On PostgreSQL the read takes row locks (`FOR UPDATE`, in user id
//! order so two updates cannot deadlock); on SQLite the single writer connection runs one
//! transaction at a time. Either way a concurrent update waits for the one before it and sees
//! its result: no increment is lost.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sqlx::AssertSqlSafe;
use tavern_runtime::{Balances, Metadata, WalletLedgerItem, WalletLedgerList, WalletUpdateResult};

use crate::on_conn;
use crate::on_db;
use crate::storage::transaction::Conn;
use crate::storage::{Db, now_unix};

/// Most ledger entries inserted by one statement.
const LEDGER_CHUNK: usize = 100;

/// A change to one user's wallet.
#[derive(Debug, Clone)]
pub struct WalletChange {
    /// UUID text, canonical.
    pub user_id: String,
    pub changeset: Balances,
    /// A JSON object, as text.
    pub metadata: String,
}

/// Why a wallet or ledger call changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    #[error("wallet update rejected negative value at path '{0}'")]
    Negative(String),
    #[error("wallet update rejected value out of range at path '{0}'")]
    OutOfRange(String),
    #[error("wallet ledger cursor invalid")]
    BadCursor,
    #[error("wallet ledger item not found")]
    ItemNotFound,
    #[error("stored wallet or ledger data is not valid: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

/// Where a ledger listing resumes: the owner and the last entry's sequence number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerCursor {
    #[serde(rename = "u")]
    pub user_id: String,
    #[serde(rename = "s")]
    pub seq: i64,
}

impl LedgerCursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// A cursor this server made for `user_id`'s ledger, or `None`.
    pub fn decode(text: &str, user_id: &str) -> Option<LedgerCursor> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let cursor: LedgerCursor = serde_json::from_slice(&bytes).ok()?;
        (cursor.user_id == user_id).then_some(cursor)
    }
}

fn balances(user_id: &str, text: &str) -> Result<Balances, WalletError> {
    serde_json::from_str(text)
        .map_err(|e| WalletError::Corrupt(format!("wallet of {user_id}: {e}")))
}

fn metadata(text: &str) -> Result<Metadata, WalletError> {
    serde_json::from_str(text).map_err(|e| WalletError::Corrupt(format!("ledger metadata: {e}")))
}

/// Applies `updates` in order on `conn` (the caller holds the transaction): each user's
/// wallet changes in turn, a balance may not go below zero, and updates of unknown users are
/// skipped. With `update_ledger`, each applied update gets a ledger entry.
pub async fn update_wallets(
    conn: &mut Conn<'_>,
    updates: &[WalletChange],
    update_ledger: bool,
) -> Result<Vec<WalletUpdateResult>, WalletError> {
    if updates.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids: Vec<&str> = updates.iter().map(|u| u.user_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT id, wallet FROM users WHERE id IN ({}) ORDER BY id{}",
        placeholders.join(", "),
        conn.lock_rows()
    );
    let rows: Vec<(String, String)> = on_conn!(conn, |c| {
        let mut query = sqlx::query_as(AssertSqlSafe(sql));
        for id in &ids {
            query = query.bind(*id);
        }
        query.fetch_all(c).await?
    });
    let mut wallets = BTreeMap::new();
    for (id, text) in rows {
        let wallet = balances(&id, &text)?;
        wallets.insert(id, wallet);
    }

    let mut results = Vec::with_capacity(updates.len());
    let mut entries = Vec::new();
    for update in updates {
        let Some(wallet) = wallets.get_mut(&update.user_id) else {
            continue;
        };
        let previous = wallet.clone();
        for (path, amount) in &update.changeset {
            let balance = wallet.entry(path.clone()).or_insert(0);
            let new = balance
                .checked_add(*amount)
                .ok_or_else(|| WalletError::OutOfRange(path.clone()))?;
            if new < 0 {
                return Err(WalletError::Negative(path.clone()));
            }
            *balance = new;
        }
        results.push(WalletUpdateResult {
            user_id: update.user_id.clone(),
            updated: wallet.clone(),
            previous,
        });
        if update_ledger {
            let changeset = serde_json::to_string(&update.changeset)
                .map_err(|e| WalletError::Corrupt(e.to_string()))?;
            entries.push((&update.user_id, changeset, &update.metadata));
        }
    }

    let now = now_unix();
    for result in &results {
        // Each user's final wallet, once.
        let Some(wallet) = wallets.remove(&result.user_id) else {
            continue;
        };
        let text =
            serde_json::to_string(&wallet).map_err(|e| WalletError::Corrupt(e.to_string()))?;
        on_conn!(conn, |c| {
            sqlx::query("UPDATE users SET wallet = $1, update_time = $2 WHERE id = $3")
                .bind(&text)
                .bind(now)
                .bind(&result.user_id)
                .execute(c)
                .await?;
        });
    }
    for chunk in entries.chunks(LEDGER_CHUNK) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p = 4 * i;
                format!("(${}, ${}, ${}, ${}, $1, $1)", p + 2, p + 3, p + 4, p + 5)
            })
            .collect();
        let sql = format!(
            "INSERT INTO wallet_ledger (id, user_id, changeset, metadata, create_time, update_time) VALUES {}",
            rows.join(", ")
        );
        on_conn!(conn, |c| {
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(now);
            for (user_id, changeset, metadata) in chunk {
                query = query
                    .bind(uuid::Uuid::new_v4().to_string())
                    .bind(*user_id)
                    .bind(changeset)
                    .bind(*metadata);
            }
            query.execute(c).await?;
        });
    }
    Ok(results)
}

type LedgerRow = (i64, String, String, String, String, i64, i64);

fn ledger_item(row: LedgerRow) -> Result<(i64, WalletLedgerItem), WalletError> {
    let (seq, id, user_id, changeset, meta, create_time, update_time) = row;
    let changeset = balances(&user_id, &changeset)?;
    Ok((
        seq,
        WalletLedgerItem {
            id,
            user_id,
            create_time,
            update_time,
            changeset,
            metadata: metadata(&meta)?,
        },
    ))
}

const LEDGER_COLUMNS: &str = "seq, id, user_id, changeset, metadata, create_time, update_time";

impl Db {
    /// Applies wallet updates in one transaction: all of them, or none.
    pub async fn wallets_update(
        &self,
        updates: &[WalletChange],
        update_ledger: bool,
    ) -> Result<Vec<WalletUpdateResult>, WalletError> {
        let mut tx = self.begin().await?;
        let results = update_wallets(&mut tx.conn(), updates, update_ledger).await?;
        tx.commit().await?;
        Ok(results)
    }

    /// Up to `limit` ledger entries of a user, newest first, after `cursor`; and the cursor
    /// of the next page (empty after the last).
    pub async fn wallet_ledger_list(
        &self,
        user_id: &str,
        limit: usize,
        cursor: Option<&LedgerCursor>,
    ) -> Result<WalletLedgerList, WalletError> {
        if limit == 0 {
            return Ok(WalletLedgerList::default());
        }
        let mut sql = format!("SELECT {LEDGER_COLUMNS} FROM wallet_ledger WHERE user_id = $1");
        if cursor.is_some() {
            sql.push_str(" AND seq < $3");
        }
        sql.push_str(" ORDER BY seq DESC LIMIT $2");
        let rows: Vec<LedgerRow> = on_db!(self, read, |pool| {
            let mut query = sqlx::query_as(AssertSqlSafe(sql))
                .bind(user_id)
                .bind(i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1));
            if let Some(cursor) = cursor {
                query = query.bind(cursor.seq);
            }
            query.fetch_all(pool).await?
        });
        let more = rows.len() > limit;
        let mut items = Vec::with_capacity(rows.len().min(limit));
        let mut last_seq = None;
        for row in rows.into_iter().take(limit) {
            let (seq, item) = ledger_item(row)?;
            last_seq = Some(seq);
            items.push(item);
        }
        let cursor = match last_seq {
            Some(seq) if more => LedgerCursor {
                user_id: user_id.to_owned(),
                seq,
            }
            .encode(),
            _ => String::new(),
        };
        Ok(WalletLedgerList { items, cursor })
    }

    /// Merges `metadata` into a ledger entry's (top-level fields replace) and returns the
    /// entry as it is now.
    pub async fn wallet_ledger_update(
        &self,
        id: &str,
        metadata_patch: &Metadata,
    ) -> Result<WalletLedgerItem, WalletError> {
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        let sql = format!(
            "SELECT {LEDGER_COLUMNS} FROM wallet_ledger WHERE id = $1{}",
            conn.lock_rows()
        );
        let row: Option<LedgerRow> = on_conn!(&mut conn, |c| {
            sqlx::query_as(AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(c)
                .await?
        });
        let (_, mut item) = ledger_item(row.ok_or(WalletError::ItemNotFound)?)?;
        for (key, value) in metadata_patch {
            item.metadata.insert(key.clone(), value.clone());
        }
        item.update_time = now_unix();
        let text = serde_json::Value::Object(item.metadata.clone()).to_string();
        on_conn!(&mut conn, |c| {
            sqlx::query("UPDATE wallet_ledger SET metadata = $1, update_time = $2 WHERE id = $3")
                .bind(&text)
                .bind(item.update_time)
                .bind(id)
                .execute(c)
                .await?;
        });
        tx.commit().await?;
        Ok(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ledger_cursor_belongs_to_one_user() {
        let cursor = LedgerCursor {
            user_id: "a".into(),
            seq: 42,
        };
        let text = cursor.encode();
        assert_eq!(LedgerCursor::decode(&text, "a"), Some(cursor));
        assert_eq!(LedgerCursor::decode(&text, "b"), None);
        assert_eq!(LedgerCursor::decode("!!", "a"), None);
        assert_eq!(LedgerCursor::decode("e30", "a"), None);
    }
}
