//! Wallets and their ledgers: the `Nk` functions and the part of the backend behind them, and
//! `multi_update` (accounts, storage objects and wallets in one transaction).
//!
//! A wallet is a map of integer balances per account (the `wallet` of `GET /v2/account`). A
//! change adds to balances and never lets one go below zero; with the ledger asked for, it
//! also records the change and its metadata, newest first.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{BoxFuture, Nk, StorageWrite, domain};
use crate::{RuntimeError, api};

/// Balances by currency (or item) name.
pub type Balances = BTreeMap<String, i64>;

/// JSON object fields, for metadata.
pub type Metadata = serde_json::Map<String, serde_json::Value>;

/// A change to one user's wallet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WalletUpdate {
    pub user_id: String,
    /// Amounts to add (negative to take away).
    pub changeset: Balances,
    /// Kept with the ledger entry, when the ledger is asked for.
    pub metadata: Metadata,
}

/// A user's wallet before and after an update.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WalletUpdateResult {
    pub user_id: String,
    pub updated: Balances,
    pub previous: Balances,
}

/// One entry of a user's wallet ledger.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WalletLedgerItem {
    pub id: String,
    pub user_id: String,
    /// Unix seconds.
    pub create_time: i64,
    /// Unix seconds.
    pub update_time: i64,
    pub changeset: Balances,
    pub metadata: Metadata,
}

/// A page of ledger entries, newest first, and the cursor of the next page (empty after the
/// last).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WalletLedgerList {
    pub items: Vec<WalletLedgerItem>,
    pub cursor: String,
}

/// A change to one account in [`Nk::multi_update`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccountUpdate {
    pub user_id: String,
    /// Profile fields: `None` leaves a field alone, `Some("")` clears it (the username must
    /// stay 1-128 bytes).
    pub profile: api::UpdateAccountRequest,
    /// Replaces the user's metadata when given.
    pub metadata: Option<Metadata>,
}

/// What [`Nk::multi_update`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MultiUpdateResult {
    /// One per storage write, in order.
    pub storage_acks: Vec<api::StorageObjectAck>,
    /// One per wallet update of an existing user, in order.
    pub wallet_updates: Vec<WalletUpdateResult>,
}

/// The server's side of the wallets and their ledgers functions of [`Nk`](super::Nk).
pub trait WalletBackend: Send + Sync {
    /// See [`Nk::wallets_update`].
    fn wallets_update(
        &self,
        updates: Vec<WalletUpdate>,
        update_ledger: bool,
    ) -> BoxFuture<'_, Result<Vec<WalletUpdateResult>, RuntimeError>>;
    /// See [`Nk::wallet_ledger_update`].
    fn wallet_ledger_update(
        &self,
        item_id: String,
        metadata: Metadata,
    ) -> BoxFuture<'_, Result<WalletLedgerItem, RuntimeError>>;
    /// See [`Nk::wallet_ledger_list`].
    fn wallet_ledger_list(
        &self,
        user_id: String,
        limit: usize,
        cursor: String,
    ) -> BoxFuture<'_, Result<WalletLedgerList, RuntimeError>>;
    /// See [`Nk::multi_update`].
    fn multi_update(
        &self,
        accounts: Vec<AccountUpdate>,
        storage: Vec<StorageWrite>,
        wallets: Vec<WalletUpdate>,
        update_ledger: bool,
    ) -> BoxFuture<'_, Result<MultiUpdateResult, RuntimeError>>;
}

impl Nk {
    /// Adds `changeset` to a user's wallet and returns it before and after; with
    /// `update_ledger`, records the change and `metadata` in the ledger. Concurrent updates of
    /// one wallet are applied one after the other, none lost.
    ///
    /// Fails with [`Code::InvalidArgument`](crate::Code::InvalidArgument) for a malformed id or
    /// a change that would take a balance below zero (`wallet update rejected negative value
    /// at path 'gold'`; nothing is changed), and [`Code::NotFound`](crate::Code::NotFound) for
    /// an unknown user.
    ///
    /// ```no_run
    /// # async fn demo(nk: tavern_runtime::Nk, user_id: &str) -> Result<(), tavern_runtime::RuntimeError> {
    /// let changeset = [("gold".to_owned(), -10), ("gems".to_owned(), 1)].into();
    /// let result = nk.wallet_update(user_id, &changeset, Default::default(), true).await?;
    /// println!("gold: {:?} -> {:?}", result.previous.get("gold"), result.updated.get("gold"));
    /// # Ok(()) }
    /// ```
    pub async fn wallet_update(
        &self,
        user_id: &str,
        changeset: &Balances,
        metadata: Metadata,
        update_ledger: bool,
    ) -> Result<WalletUpdateResult, RuntimeError> {
        let update = WalletUpdate {
            user_id: user_id.to_owned(),
            changeset: changeset.clone(),
            metadata,
        };
        domain(self.backend.wallet())?
            .wallets_update(vec![update], update_ledger)
            .await?
            .pop()
            .ok_or_else(|| RuntimeError::not_found("user not found"))
    }

    /// Applies several wallet updates in one transaction, all or none; returns a result per
    /// update of an existing user, in order (updates of unknown users are skipped). Several
    /// updates of one user apply in turn.
    pub async fn wallets_update(
        &self,
        updates: &[WalletUpdate],
        update_ledger: bool,
    ) -> Result<Vec<WalletUpdateResult>, RuntimeError> {
        domain(self.backend.wallet())?
            .wallets_update(updates.to_vec(), update_ledger)
            .await
    }

    /// Merges `metadata` into a ledger entry's metadata (top-level fields replace) and returns
    /// the entry. Fails with [`Code::NotFound`](crate::Code::NotFound) for an unknown entry.
    pub async fn wallet_ledger_update(
        &self,
        item_id: &str,
        metadata: Metadata,
    ) -> Result<WalletLedgerItem, RuntimeError> {
        domain(self.backend.wallet())?
            .wallet_ledger_update(item_id.to_owned(), metadata)
            .await
    }

    /// Up to `limit` (0-100) entries of a user's ledger, newest first, after `cursor` (`""`
    /// for the first page).
    pub async fn wallet_ledger_list(
        &self,
        user_id: &str,
        limit: usize,
        cursor: &str,
    ) -> Result<WalletLedgerList, RuntimeError> {
        domain(self.backend.wallet())?
            .wallet_ledger_list(user_id.to_owned(), limit, cursor.to_owned())
            .await
    }

    /// Account updates, storage writes (as [`Nk::storage_write`]) and wallet updates (as
    /// [`Nk::wallets_update`]) in one transaction: all of them, or none when any fails.
    ///
    /// ```no_run
    /// # async fn demo(nk: tavern_runtime::Nk, user_id: &str) -> Result<(), tavern_runtime::RuntimeError> {
    /// use tavern_runtime::{StorageWrite, WalletUpdate};
    /// // Buy a sword: take the gold and put the sword in the inventory, together.
    /// let pay = WalletUpdate {
    ///     user_id: user_id.to_owned(),
    ///     changeset: [("gold".to_owned(), -100)].into(),
    ///     ..Default::default()
    /// };
    /// let item = StorageWrite::new("inventory", "sword", user_id, r#"{"damage":7}"#);
    /// nk.multi_update(&[], &[item], &[pay], true).await?;
    /// # Ok(()) }
    /// ```
    pub async fn multi_update(
        &self,
        accounts: &[AccountUpdate],
        storage: &[StorageWrite],
        wallets: &[WalletUpdate],
        update_ledger: bool,
    ) -> Result<MultiUpdateResult, RuntimeError> {
        domain(self.backend.wallet())?
            .multi_update(
                accounts.to_vec(),
                storage.to_vec(),
                wallets.to_vec(),
                update_ledger,
            )
            .await
    }
}
