//! `multi_update`: account updates, storage writes and wallet updates in one transaction, as
//! Nakama's `MultiUpdate`; everything is checked before the transaction begins.

use tavern_runtime::{AccountUpdate, MultiUpdateResult, RuntimeError, StorageWrite, WalletUpdate};
use uuid::Uuid;

use super::nk::{failed, wallet_change};
use super::sql::update_wallets;
use crate::api::account::{account_write_error, profile_update};
use crate::social::storage_objects;
use crate::social::storage_objects::sql::{StorageError, write_objects};
use crate::state::AppState;
use crate::storage::users::update_account_on;

pub(super) async fn multi_update(
    state: &AppState,
    accounts: Vec<AccountUpdate>,
    storage: Vec<StorageWrite>,
    wallets: Vec<WalletUpdate>,
    update_ledger: bool,
) -> Result<MultiUpdateResult, RuntimeError> {
    let accounts = accounts
        .into_iter()
        .map(|account| {
            let id = Uuid::parse_str(&account.user_id).map_err(|_| {
                RuntimeError::invalid_argument("expects user ID to be a valid identifier")
            })?;
            let metadata = account
                .metadata
                .map(|m| serde_json::Value::Object(m).to_string());
            Ok((id.to_string(), profile_update(account.profile, metadata)?))
        })
        .collect::<Result<Vec<_>, RuntimeError>>()?;
    let writes = storage
        .into_iter()
        .map(storage_objects::nk::write_op)
        .collect::<Result<Vec<_>, _>>()?;
    let changes = wallets
        .into_iter()
        .map(wallet_change)
        .collect::<Result<Vec<_>, _>>()?;
    if accounts.is_empty() && writes.is_empty() && changes.is_empty() {
        return Ok(MultiUpdateResult::default());
    }

    let database = |e: sqlx::Error| failed(e.into());
    let mut tx = state.db.begin().await.map_err(database)?;
    for (user_id, update) in &accounts {
        update_account_on(&mut tx.conn(), user_id, update)
            .await
            .map_err(|e| RuntimeError::from(account_write_error(e)))?;
    }
    let storage_acks = write_objects(&mut tx.conn(), &writes, true)
        .await
        .map_err(storage_objects::nk::failed)?;
    let wallet_updates = update_wallets(&mut tx.conn(), &changes, update_ledger)
        .await
        .map_err(failed)?;
    tx.commit()
        .await
        .map_err(|e| storage_objects::nk::failed(StorageError::Sql(e)))?;
    Ok(MultiUpdateResult {
        storage_acks,
        wallet_updates,
    })
}
