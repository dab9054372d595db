//! The groups `Nk` functions behind RPCs, and hooks on every group REST operation, for the
//! integration tests (tests/js/groups.test.mjs) and as an example of both.
//!
//! RPCs (payload and answer in JSON; groups and lists in Nakama's JSON shapes):
//! * `rust_groups_create` — a [`GroupCreate`] (`user_id`, `name`, `creator_id`, `lang_tag`,
//!   `description`, `avatar_url`, `open`, `metadata`, `max_count`) → the group;
//! * `rust_groups_update` — `{"group_id", "caller_id", "update": GroupUpdate}` → `{}`;
//! * `rust_groups_delete` — `{"group_id"}` → `{}`;
//! * `rust_groups_join`, `rust_groups_leave` — `{"group_id", "user_id", "username"}` → `{}`;
//! * `rust_groups_users` — `{"change": "add"|"kick"|"ban"|"promote"|"demote", "group_id",
//!   "user_ids", "caller_id"}` → `{}`;
//! * `rust_groups_users_list` — `{"group_id", "limit", "state", "cursor"}` → the list;
//! * `rust_groups_user_groups` — `{"user_id", "limit", "state", "cursor"}` → the list;
//! * `rust_groups_get` — `{"ids": [..]}` → `{"groups": [..]}`;
//! * `rust_groups_list` — a [`GroupsFilter`] → the list;
//! * `rust_groups_random` — `{"count"}` → `{"groups": [..]}`;
//! * `rust_groups_hooks` — how many times each group after hook ran for the caller.
//!
//! The before hooks act only on groups named for them: a group whose name starts with
//! `rust_hook_denied` is refused by every before hook (code 3, `denied by a before hook`), one
//! starting with `rust_hook_disabled` disables the operation (404); creating a group named
//! `rust_hook_rewrite...` gets the description `rewritten`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use tavern_runtime::operation::{
    AddGroupUsers, BanGroupUsers, CreateGroup, DeleteGroup, DemoteGroupUsers, JoinGroup,
    KickGroupUsers, LeaveGroup, ListGroupUsers, ListGroups, ListUserGroups, Operation,
    PromoteGroupUsers, UpdateGroup,
};
use tavern_runtime::{
    Code, Context, GroupCreate, GroupUpdate, GroupsFilter, Initializer, Module, Nk, RuntimeError,
};

use crate::params;

/// The `groups_api` module.
pub const MODULE: Module = Module::new("groups_api", init);

const DENIED: &str = "rust_hook_denied";
const DISABLED: &str = "rust_hook_disabled";
const REWRITE: &str = "rust_hook_rewrite";

#[derive(Deserialize)]
struct Update {
    group_id: String,
    #[serde(default)]
    caller_id: String,
    update: GroupUpdate,
}

#[derive(Deserialize)]
struct Member {
    group_id: String,
    user_id: String,
    username: String,
}

#[derive(Deserialize)]
struct Users {
    change: String,
    group_id: String,
    user_ids: Vec<String>,
    #[serde(default)]
    caller_id: String,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    group_id: String,
    #[serde(default)]
    user_id: String,
    #[serde(default = "hundred")]
    limit: i32,
    state: Option<i32>,
    #[serde(default)]
    cursor: String,
}

fn hundred() -> i32 {
    100
}

fn payload<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, RuntimeError> {
    serde_json::from_value(params(text)?)
        .map_err(|e| RuntimeError::invalid_argument(format!("bad payload: {e}")))
}

fn json(value: &impl serde::Serialize) -> Result<String, RuntimeError> {
    serde_json::to_string(value).map_err(|e| RuntimeError::internal(e.to_string()))
}

fn field(text: &str, name: &str) -> Result<serde_json::Value, RuntimeError> {
    Ok(params(text)?.get(name).cloned().unwrap_or_default())
}

fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    init.register_rpc("rust_groups_create", |_ctx, nk, text| async move {
        json(&nk.group_create(payload::<GroupCreate>(&text)?).await?)
    });
    init.register_rpc("rust_groups_update", |_ctx, nk, text| async move {
        let u = payload::<Update>(&text)?;
        nk.group_update(&u.group_id, &u.caller_id, u.update).await?;
        Ok("{}".to_owned())
    });
    init.register_rpc("rust_groups_delete", |_ctx, nk, text| async move {
        let group_id = field(&text, "group_id")?;
        nk.group_delete(group_id.as_str().unwrap_or_default())
            .await?;
        Ok("{}".to_owned())
    });
    init.register_rpc("rust_groups_join", |_ctx, nk, text| async move {
        let m = payload::<Member>(&text)?;
        nk.group_user_join(&m.group_id, &m.user_id, &m.username)
            .await?;
        Ok("{}".to_owned())
    });
    init.register_rpc("rust_groups_leave", |_ctx, nk, text| async move {
        let m = payload::<Member>(&text)?;
        nk.group_user_leave(&m.group_id, &m.user_id, &m.username)
            .await?;
        Ok("{}".to_owned())
    });
    init.register_rpc("rust_groups_users", |_ctx, nk, text| async move {
        let u = payload::<Users>(&text)?;
        let (group, users, caller) = (&u.group_id, &u.user_ids, &u.caller_id);
        match u.change.as_str() {
            "add" => nk.group_users_add(group, users, caller).await?,
            "kick" => nk.group_users_kick(group, users, caller).await?,
            "ban" => nk.group_users_ban(group, users, caller).await?,
            "promote" => nk.group_users_promote(group, users, caller).await?,
            "demote" => nk.group_users_demote(group, users, caller).await?,
            other => {
                return Err(RuntimeError::invalid_argument(format!(
                    "unknown change {other:?}"
                )));
            }
        }
        Ok("{}".to_owned())
    });
    init.register_rpc("rust_groups_users_list", |_ctx, nk, text| async move {
        let p = payload::<Page>(&text)?;
        json(
            &nk.group_users_list(&p.group_id, p.limit, p.state, &p.cursor)
                .await?,
        )
    });
    init.register_rpc("rust_groups_user_groups", |_ctx, nk, text| async move {
        let p = payload::<Page>(&text)?;
        json(
            &nk.user_groups_list(&p.user_id, p.limit, p.state, &p.cursor)
                .await?,
        )
    });
    init.register_rpc("rust_groups_get", |_ctx, nk, text| async move {
        let ids: Vec<String> = serde_json::from_value(field(&text, "ids")?)
            .map_err(|e| RuntimeError::invalid_argument(format!("bad payload: {e}")))?;
        json(&serde_json::json!({ "groups": nk.groups_get_id(&ids).await? }))
    });
    init.register_rpc("rust_groups_list", |_ctx, nk, text| async move {
        json(&nk.groups_list(payload::<GroupsFilter>(&text)?).await?)
    });
    init.register_rpc("rust_groups_random", |_ctx, nk, text| async move {
        let count = field(&text, "count")?.as_i64().unwrap_or_default();
        let count = i32::try_from(count)
            .map_err(|_| RuntimeError::invalid_argument("count out of range"))?;
        json(&serde_json::json!({ "groups": nk.groups_get_random(count).await? }))
    });

    let calls = HookCalls::default();
    let seen = calls.clone();
    init.register_rpc("rust_groups_hooks", move |ctx, _nk, _text| {
        let counts = ctx.user_id().map(|user_id| {
            let calls = seen.lock().unwrap_or_else(|p| p.into_inner());
            calls.get(user_id).cloned().unwrap_or_default()
        });
        async move {
            let counts = counts.ok_or_else(|| {
                RuntimeError::new("rust_groups_hooks needs a session", Code::Unauthenticated)
            })?;
            json(&counts)
        }
    });
    before_hooks(init);
    after_hooks(init, &calls);
    Ok(())
}

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

/// What the before hooks do with a group of this name: refuse, disable (`false`) or let pass.
fn gate(name: &str) -> Result<bool, RuntimeError> {
    if name.starts_with(DENIED) {
        return Err(denied());
    }
    Ok(!name.starts_with(DISABLED))
}

/// [`gate`] for the group with this id (an id the server will refuse passes).
async fn gate_id(nk: &Nk, group_id: &str) -> Result<bool, RuntimeError> {
    let groups = nk.groups_get_id(&[group_id]).await.unwrap_or_default();
    match groups.first() {
        Some(group) => gate(&group.name),
        None => Ok(true),
    }
}

/// A before hook on an operation whose request names a group by `group_id`.
macro_rules! gate_by_id {
    ($init:expr, $($op:ident),*) => {
        $(
            $init.register_before($op, |_ctx, nk, request| async move {
                Ok(gate_id(&nk, &request.group_id).await?.then_some(request))
            });
        )*
    };
}

fn before_hooks(init: &mut Initializer) {
    init.register_before(CreateGroup, |_ctx, _nk, mut request| async move {
        if request.name.starts_with(REWRITE) {
            request.description = "rewritten".to_owned();
        }
        Ok(gate(&request.name)?.then_some(request))
    });
    init.register_before(ListGroups, |_ctx, _nk, request| async move {
        Ok(gate(&request.name)?.then_some(request))
    });
    gate_by_id!(
        init,
        UpdateGroup,
        DeleteGroup,
        JoinGroup,
        LeaveGroup,
        AddGroupUsers,
        KickGroupUsers,
        BanGroupUsers,
        PromoteGroupUsers,
        DemoteGroupUsers,
        ListGroupUsers
    );
}

/// An after hook counting the operation's calls per user.
macro_rules! counted {
    ($init:expr, $calls:expr, $($op:ident),*) => {
        $(
            let c = $calls.clone();
            $init.register_after($op, move |ctx, _nk, _request, _response| {
                count::<$op>(&c, &ctx);
                async { Ok(()) }
            });
        )*
    };
}

fn after_hooks(init: &mut Initializer, calls: &HookCalls) {
    counted!(
        init,
        calls,
        CreateGroup,
        UpdateGroup,
        DeleteGroup,
        JoinGroup,
        LeaveGroup,
        AddGroupUsers,
        KickGroupUsers,
        BanGroupUsers,
        PromoteGroupUsers,
        DemoteGroupUsers,
        ListGroupUsers,
        ListUserGroups,
        ListGroups
    );
}
