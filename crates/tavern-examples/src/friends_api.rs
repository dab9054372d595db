//! The friends, account-link and user `Nk` functions behind RPCs, for the integration tests
//! (tests/js/friends.test.mjs) and as an example of them.
//!
//! RPCs (payload and answer in JSON; friends in Nakama's JSON shape):
//! * `rust_friends_list` — `{"user_id", "limit", "state", "cursor"}` → `{"friends", "cursor"}`;
//! * `rust_friends_add`, `rust_friends_delete`, `rust_friends_block` — `{"user_id",
//!   "username", "ids": [..], "usernames": [..]}` → `{}`;
//! * `rust_friends_link`, `rust_friends_unlink` — `{"user_id", "kind": "device" | "custom" |
//!   "email", "id", "email", "password"}` → `{}`;
//! * `rust_friends_ban`, `rust_friends_unban` — `{"ids": [..]}` → `{}`;
//! * `rust_friends_random` — `{"count"}` → `{"users": [..]}`.

use serde::Deserialize;
use tavern_runtime::{Initializer, Module, RuntimeError};

use crate::params;

/// The `friends_api` module.
pub const MODULE: Module = Module::new("friends_api", init);

#[derive(Deserialize)]
struct List {
    user_id: String,
    #[serde(default = "page")]
    limit: usize,
    state: Option<i32>,
    #[serde(default)]
    cursor: String,
}

fn page() -> usize {
    100
}

#[derive(Deserialize)]
struct Change {
    user_id: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    ids: Vec<String>,
    #[serde(default)]
    usernames: Vec<String>,
}

#[derive(Deserialize)]
struct Link {
    user_id: String,
    kind: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
struct Random {
    count: usize,
}

#[derive(Deserialize)]
struct Ban {
    ids: Vec<String>,
}

fn payload<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, RuntimeError> {
    serde_json::from_value(params(text)?)
        .map_err(|e| RuntimeError::invalid_argument(format!("bad payload: {e}")))
}

fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    init.register_rpc("rust_friends_list", |_ctx, nk, text| async move {
        let list = payload::<List>(&text)?;
        let (friends, cursor) = nk
            .friends_list(&list.user_id, list.limit, list.state, &list.cursor)
            .await?;
        Ok(serde_json::json!({ "friends": friends, "cursor": cursor }).to_string())
    });
    init.register_rpc("rust_friends_add", |_ctx, nk, text| async move {
        let c = payload::<Change>(&text)?;
        nk.friends_add(&c.user_id, &c.username, &c.ids, &c.usernames)
            .await?;
        Ok("{}".to_owned())
    });
    init.register_rpc("rust_friends_delete", |_ctx, nk, text| async move {
        let c = payload::<Change>(&text)?;
        nk.friends_delete(&c.user_id, &c.username, &c.ids, &c.usernames)
            .await?;
        Ok("{}".to_owned())
    });
    init.register_rpc("rust_friends_block", |_ctx, nk, text| async move {
        let c = payload::<Change>(&text)?;
        nk.friends_block(&c.user_id, &c.username, &c.ids, &c.usernames)
            .await?;
        Ok("{}".to_owned())
    });
    init.register_rpc("rust_friends_link", |_ctx, nk, text| async move {
        let l = payload::<Link>(&text)?;
        match l.kind.as_str() {
            "device" => nk.link_device(&l.user_id, &l.id).await?,
            "custom" => nk.link_custom(&l.user_id, &l.id).await?,
            "email" => nk.link_email(&l.user_id, &l.email, &l.password).await?,
            other => return Err(unknown_kind(other)),
        }
        Ok("{}".to_owned())
    });
    init.register_rpc("rust_friends_unlink", |_ctx, nk, text| async move {
        let l = payload::<Link>(&text)?;
        match l.kind.as_str() {
            "device" => nk.unlink_device(&l.user_id, &l.id).await?,
            "custom" => nk.unlink_custom(&l.user_id, &l.id).await?,
            "email" => nk.unlink_email(&l.user_id, &l.email).await?,
            other => return Err(unknown_kind(other)),
        }
        Ok("{}".to_owned())
    });
    init.register_rpc("rust_friends_ban", |_ctx, nk, text| async move {
        nk.users_ban_id(&payload::<Ban>(&text)?.ids).await?;
        Ok("{}".to_owned())
    });
    init.register_rpc("rust_friends_unban", |_ctx, nk, text| async move {
        nk.users_unban_id(&payload::<Ban>(&text)?.ids).await?;
        Ok("{}".to_owned())
    });
    init.register_rpc("rust_friends_random", |_ctx, nk, text| async move {
        let users = nk.users_get_random(payload::<Random>(&text)?.count).await?;
        Ok(serde_json::json!({ "users": users }).to_string())
    });
    Ok(())
}

fn unknown_kind(kind: &str) -> RuntimeError {
    RuntimeError::invalid_argument(format!("unknown kind '{kind}'"))
}
