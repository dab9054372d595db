//! The server's side of the wallet `Nk` functions, with the checks and messages of Nakama's
//! runtime.

use tavern_runtime::{
    AccountUpdate, BoxFuture, Metadata, MultiUpdateResult, RuntimeError, StorageWrite,
    WalletBackend, WalletLedgerItem, WalletLedgerList, WalletUpdate, WalletUpdateResult,
};
use uuid::Uuid;

use super::multi_update::multi_update;
use super::sql::{LedgerCursor, WalletChange, WalletError};
use crate::runtime::nk_backend::ServerNk;

/// Most ledger entries in one page.
const MAX_LEDGER_PAGE: usize = 100;

impl WalletBackend for ServerNk {
    fn wallets_update(
        &self,
        updates: Vec<WalletUpdate>,
        update_ledger: bool,
    ) -> BoxFuture<'_, Result<Vec<WalletUpdateResult>, RuntimeError>> {
        Box::pin(async move {
            let changes = updates
                .into_iter()
                .map(wallet_change)
                .collect::<Result<Vec<_>, _>>()?;
            if changes.is_empty() {
                return Ok(Vec::new());
            }
            self.state()?
                .db
                .wallets_update(&changes, update_ledger)
                .await
                .map_err(failed)
        })
    }

    fn wallet_ledger_update(
        &self,
        item_id: String,
        metadata: Metadata,
    ) -> BoxFuture<'_, Result<WalletLedgerItem, RuntimeError>> {
        Box::pin(async move {
            let id = Uuid::parse_str(&item_id)
                .map_err(|_| RuntimeError::invalid_argument("expects a valid item id"))?;
            self.state()?
                .db
                .wallet_ledger_update(&id.to_string(), &metadata)
                .await
                .map_err(failed)
        })
    }

    fn wallet_ledger_list(
        &self,
        user_id: String,
        limit: usize,
        cursor: String,
    ) -> BoxFuture<'_, Result<WalletLedgerList, RuntimeError>> {
        Box::pin(async move {
            let user_id = canonical_user_id(&user_id)?;
            if limit > MAX_LEDGER_PAGE {
                return Err(RuntimeError::invalid_argument("expects limit to be 0-100"));
            }
            let after = if cursor.is_empty() {
                None
            } else {
                Some(
                    LedgerCursor::decode(&cursor, &user_id)
                        .ok_or_else(|| failed(WalletError::BadCursor))?,
                )
            };
            self.state()?
                .db
                .wallet_ledger_list(&user_id, limit, after.as_ref())
                .await
                .map_err(failed)
        })
    }

    fn multi_update(
        &self,
        accounts: Vec<AccountUpdate>,
        storage: Vec<StorageWrite>,
        wallets: Vec<WalletUpdate>,
        update_ledger: bool,
    ) -> BoxFuture<'_, Result<MultiUpdateResult, RuntimeError>> {
        Box::pin(async move {
            let state = self.state()?;
            multi_update(&state, accounts, storage, wallets, update_ledger).await
        })
    }
}

/// A runtime wallet update with its user id checked and its metadata as text.
pub(super) fn wallet_change(update: WalletUpdate) -> Result<WalletChange, RuntimeError> {
    Ok(WalletChange {
        user_id: canonical_user_id(&update.user_id)?,
        changeset: update.changeset,
        metadata: serde_json::Value::Object(update.metadata).to_string(),
    })
}

fn canonical_user_id(user_id: &str) -> Result<String, RuntimeError> {
    Uuid::parse_str(user_id)
        .map(|id| id.to_string())
        .map_err(|_| RuntimeError::invalid_argument("expects a valid user id"))
}

/// A refused change keeps Nakama's message; a database failure is logged.
pub(super) fn failed(e: WalletError) -> RuntimeError {
    match e {
        WalletError::ItemNotFound => RuntimeError::not_found(e.to_string()),
        WalletError::Corrupt(_) | WalletError::Sql(_) => {
            tracing::error!(error = %e, "wallet query failed");
            RuntimeError::internal("Error updating wallets.")
        }
        refused => RuntimeError::invalid_argument(refused.to_string()),
    }
}
