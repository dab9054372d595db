//! The storage and wallet `Nk` functions behind RPCs, and hooks on every storage REST
//! operation, for the integration tests (tests/js/storage.test.mjs, wallet.test.mjs) and as an
//! example of both.
//!
//! RPCs (payload and answer in JSON; objects and acks in Nakama's JSON shapes):
//! * `rust_storage_write` — `{"writes": [{"collection", "key", "user_id", "value": {..},
//!   "version", "permission_read", "permission_write"}]}` → `{"acks": [..]}`;
//! * `rust_storage_read` — `{"reads": [{"collection", "key", "user_id"}]}` → `{"objects": [..]}`;
//! * `rust_storage_delete` — `{"deletes": [{"collection", "key", "user_id", "version"}]}` → `{}`;
//! * `rust_storage_list` — `{"user_id", "collection", "limit", "cursor"}` → `{"objects", "cursor"}`;
//! * `rust_storage_hooks` — how many times each storage after hook ran for the caller;
//! * `rust_wallet_update` — `{"user_id", "changeset": {"gold": 5}, "metadata": {..},
//!   "update_ledger"}` → `{"updated", "previous"}`;
//! * `rust_wallets_update` — `{"updates": [{"user_id", "changeset", "metadata"}],
//!   "update_ledger"}` → `{"results": [{"user_id", "updated", "previous"}]}`;
//! * `rust_wallet_ledger_list` — `{"user_id", "limit", "cursor"}` → `{"items", "cursor"}`;
//! * `rust_wallet_ledger_update` — `{"id", "metadata"}` → the entry;
//! * `rust_multi_update` — `{"accounts": [{"user_id", "profile": {..}, "metadata"}],
//!   "writes": [as rust_storage_write], "wallets": [as rust_wallets_update], "update_ledger"}`
//!   → `{"acks", "results"}`.
//!
//! The hooks only act on collections named for them, so other storage calls pass untouched:
//! `rust_hook_denied` is refused by every before hook (code 3, `denied by a before hook`),
//! `rust_hook_disabled` disables the operation (404), and `rust_hook_rewrite` is rewritten
//! (written values become `{"rewritten": true}`, reads of key `alias` read key `real`, listings
//! return one object per page).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use tavern_runtime::operation::{
    DeleteStorageObjects, ListStorageObjects, Operation, ReadStorageObjects, WriteStorageObjects,
};
use tavern_runtime::{
    AccountUpdate, Balances, Code, Context, Initializer, Metadata, Module, RuntimeError,
    StorageDelete, StorageRead, StorageWrite, WalletUpdate,
};

use crate::params;

/// The `storage_api` module.
pub const MODULE: Module = Module::new("storage_api", init);

const DENIED: &str = "rust_hook_denied";
const DISABLED: &str = "rust_hook_disabled";
const REWRITE: &str = "rust_hook_rewrite";

#[derive(Deserialize)]
struct Write {
    collection: String,
    key: String,
    #[serde(default)]
    user_id: String,
    value: serde_json::Value,
    #[serde(default)]
    version: String,
    #[serde(default = "owner_only")]
    permission_read: i32,
    #[serde(default = "owner_only")]
    permission_write: i32,
}

fn owner_only() -> i32 {
    1
}

impl Write {
    fn into_storage_write(self) -> StorageWrite {
        StorageWrite {
            version: self.version,
            permission_read: self.permission_read,
            permission_write: self.permission_write,
            ..StorageWrite::new(
                self.collection,
                self.key,
                self.user_id,
                self.value.to_string(),
            )
        }
    }
}

#[derive(Deserialize)]
struct Writes {
    writes: Vec<Write>,
}

#[derive(Deserialize)]
struct OneWallet {
    user_id: String,
    changeset: Balances,
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    update_ledger: bool,
}

#[derive(Deserialize)]
struct Wallets {
    updates: Vec<WalletUpdate>,
    #[serde(default)]
    update_ledger: bool,
}

#[derive(Deserialize)]
struct Ledger {
    user_id: String,
    limit: usize,
    #[serde(default)]
    cursor: String,
}

#[derive(Deserialize)]
struct LedgerUpdate {
    id: String,
    metadata: Metadata,
}

#[derive(Deserialize)]
struct Multi {
    #[serde(default)]
    accounts: Vec<AccountUpdate>,
    #[serde(default)]
    writes: Vec<Write>,
    #[serde(default)]
    wallets: Vec<WalletUpdate>,
    #[serde(default)]
    update_ledger: bool,
}

#[derive(Deserialize)]
struct Read {
    collection: String,
    key: String,
    #[serde(default)]
    user_id: String,
}

#[derive(Deserialize)]
struct Reads {
    reads: Vec<Read>,
}

#[derive(Deserialize)]
struct Delete {
    collection: String,
    key: String,
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    version: String,
}

#[derive(Deserialize)]
struct Deletes {
    deletes: Vec<Delete>,
}

#[derive(Deserialize)]
struct List {
    #[serde(default)]
    user_id: String,
    collection: String,
    limit: usize,
    #[serde(default)]
    cursor: String,
}

/// A payload as the type an RPC expects.
fn payload<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, RuntimeError> {
    serde_json::from_value(params(text)?)
        .map_err(|e| RuntimeError::invalid_argument(format!("bad payload: {e}")))
}

fn json(value: &impl serde::Serialize) -> Result<String, RuntimeError> {
    serde_json::to_string(value).map_err(|e| RuntimeError::internal(e.to_string()))
}

/// After-hook runs per user and operation.
type HookCalls = Arc<Mutex<HashMap<String, HashMap<&'static str, u64>>>>;

fn count<Op: Operation>(calls: &HookCalls, ctx: &Context) {
    if let Some(user_id) = ctx.user_id() {
        let mut calls = calls.lock().unwrap_or_else(|p| p.into_inner());
        *calls
            .entry(user_id.to_owned())
            .or_default()
            .entry(Op::NAME)
            .or_default() += 1;
    }
}

fn denied() -> RuntimeError {
    RuntimeError::invalid_argument("denied by a before hook")
}

fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    init.register_rpc("rust_storage_write", |_ctx, nk, text| async move {
        let writes = payload::<Writes>(&text)?
            .writes
            .into_iter()
            .map(Write::into_storage_write)
            .collect::<Vec<_>>();
        let acks = nk.storage_write(&writes).await?;
        json(&serde_json::json!({ "acks": acks }))
    });
    init.register_rpc("rust_storage_read", |_ctx, nk, text| async move {
        let reads = payload::<Reads>(&text)?
            .reads
            .into_iter()
            .map(|r| StorageRead {
                collection: r.collection,
                key: r.key,
                user_id: r.user_id,
            })
            .collect::<Vec<_>>();
        let objects = nk.storage_read(&reads).await?;
        json(&serde_json::json!({ "objects": objects }))
    });
    init.register_rpc("rust_storage_delete", |_ctx, nk, text| async move {
        let deletes = payload::<Deletes>(&text)?
            .deletes
            .into_iter()
            .map(|d| StorageDelete {
                collection: d.collection,
                key: d.key,
                user_id: d.user_id,
                version: d.version,
            })
            .collect::<Vec<_>>();
        nk.storage_delete(&deletes).await?;
        Ok("{}".to_owned())
    });
    init.register_rpc("rust_storage_list", |_ctx, nk, text| async move {
        let list = payload::<List>(&text)?;
        let page = nk
            .storage_list(&list.user_id, &list.collection, list.limit, &list.cursor)
            .await?;
        json(&serde_json::json!({ "objects": page.objects, "cursor": page.cursor }))
    });

    wallets(init);

    let calls = HookCalls::default();
    let seen = calls.clone();
    init.register_rpc("rust_storage_hooks", move |ctx, _nk, _text| {
        let counts = ctx.user_id().map(|user_id| {
            let calls = seen.lock().unwrap_or_else(|p| p.into_inner());
            calls.get(user_id).cloned().unwrap_or_default()
        });
        async move {
            let counts = counts.ok_or_else(|| {
                RuntimeError::new("rust_storage_hooks needs a session", Code::Unauthenticated)
            })?;
            json(&counts)
        }
    });
    hooks(init, &calls);
    Ok(())
}

/// The wallet functions behind RPCs.
fn wallets(init: &mut Initializer) {
    init.register_rpc("rust_wallet_update", |_ctx, nk, text| async move {
        let w = payload::<OneWallet>(&text)?;
        let result = nk
            .wallet_update(&w.user_id, &w.changeset, w.metadata, w.update_ledger)
            .await?;
        json(&serde_json::json!({ "updated": result.updated, "previous": result.previous }))
    });
    init.register_rpc("rust_wallets_update", |_ctx, nk, text| async move {
        let w = payload::<Wallets>(&text)?;
        let results = nk.wallets_update(&w.updates, w.update_ledger).await?;
        json(&serde_json::json!({ "results": results }))
    });
    init.register_rpc("rust_wallet_ledger_list", |_ctx, nk, text| async move {
        let l = payload::<Ledger>(&text)?;
        json(
            &nk.wallet_ledger_list(&l.user_id, l.limit, &l.cursor)
                .await?,
        )
    });
    init.register_rpc("rust_wallet_ledger_update", |_ctx, nk, text| async move {
        let u = payload::<LedgerUpdate>(&text)?;
        json(&nk.wallet_ledger_update(&u.id, u.metadata).await?)
    });
    init.register_rpc("rust_multi_update", |_ctx, nk, text| async move {
        let m = payload::<Multi>(&text)?;
        let writes: Vec<StorageWrite> = m
            .writes
            .into_iter()
            .map(Write::into_storage_write)
            .collect();
        let done = nk
            .multi_update(&m.accounts, &writes, &m.wallets, m.update_ledger)
            .await?;
        json(&serde_json::json!({ "acks": done.storage_acks, "results": done.wallet_updates }))
    });
}

/// A before and an after hook on each storage operation.
fn hooks(init: &mut Initializer, calls: &HookCalls) {
    init.register_before(WriteStorageObjects, |_ctx, _nk, mut request| async move {
        let named = |name: &str| request.objects.iter().any(|o| o.collection == name);
        if named(DENIED) {
            return Err(denied());
        }
        if named(DISABLED) {
            return Ok(None);
        }
        for object in &mut request.objects {
            if object.collection == REWRITE {
                object.value = r#"{"rewritten":true}"#.to_owned();
            }
        }
        Ok(Some(request))
    });
    init.register_before(ReadStorageObjects, |_ctx, _nk, mut request| async move {
        let named = |name: &str| request.object_ids.iter().any(|o| o.collection == name);
        if named(DENIED) {
            return Err(denied());
        }
        if named(DISABLED) {
            return Ok(None);
        }
        for id in &mut request.object_ids {
            if id.collection == REWRITE && id.key == "alias" {
                id.key = "real".to_owned();
            }
        }
        Ok(Some(request))
    });
    init.register_before(DeleteStorageObjects, |_ctx, _nk, request| async move {
        let named = |name: &str| request.object_ids.iter().any(|o| o.collection == name);
        if named(DENIED) {
            return Err(denied());
        }
        if named(DISABLED) {
            return Ok(None);
        }
        Ok(Some(request))
    });
    init.register_before(ListStorageObjects, |_ctx, _nk, mut request| async move {
        match request.collection.as_str() {
            DENIED => Err(denied()),
            DISABLED => Ok(None),
            REWRITE => {
                request.limit = Some(1);
                Ok(Some(request))
            }
            _ => Ok(Some(request)),
        }
    });
    let c = calls.clone();
    init.register_after(WriteStorageObjects, move |ctx, _nk, _request, _acks| {
        count::<WriteStorageObjects>(&c, &ctx);
        async { Ok(()) }
    });
    let c = calls.clone();
    init.register_after(ReadStorageObjects, move |ctx, _nk, _request, _objects| {
        count::<ReadStorageObjects>(&c, &ctx);
        async { Ok(()) }
    });
    let c = calls.clone();
    init.register_after(DeleteStorageObjects, move |ctx, _nk, _request, _empty| {
        count::<DeleteStorageObjects>(&c, &ctx);
        async { Ok(()) }
    });
    let c = calls.clone();
    init.register_after(ListStorageObjects, move |ctx, _nk, _request, _list| {
        count::<ListStorageObjects>(&c, &ctx);
        async { Ok(()) }
    });
}
