//! The bundled modules loaded into a registry, without a server.

use std::sync::Arc;

use tavern_runtime::api;
use tavern_runtime::operation::AuthenticateCustom;
use tavern_runtime::registry::{Registry, RpcError, RuntimeSetup};
use tavern_runtime::{
    BoxFuture, Caller, Code, Database, ExecutionMode, Nk, NkBackend, RuntimeError, UserSession,
};

/// A server with no accounts.
struct Empty;

impl NkBackend for Empty {
    fn account_get_id(&self, _: String) -> BoxFuture<'_, Result<api::Account, RuntimeError>> {
        Box::pin(async { Err(RuntimeError::not_found("Account not found.")) })
    }
    fn users_get(
        &self,
        _: Vec<String>,
        _: Vec<String>,
    ) -> BoxFuture<'_, Result<Vec<api::User>, RuntimeError>> {
        Box::pin(async { Ok(Vec::new()) })
    }
    fn account_update_id(
        &self,
        _: String,
        _: api::UpdateAccountRequest,
    ) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async { Ok(()) })
    }
    fn account_delete_id(&self, _: String) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async { Ok(()) })
    }
}

fn registry() -> Registry {
    let pool = tavern_runtime::sqlx::SqlitePool::connect_lazy("sqlite::memory:").unwrap();
    let setup = RuntimeSetup {
        node: "test".into(),
        env: Default::default(),
        nk: Nk::new(Arc::new(Empty), Database::Sqlite(pool)),
        fleet_manager: None,
    };
    Registry::load(tavern_examples::MODULES, setup).unwrap()
}

fn custom(id: &str) -> api::AuthenticateCustomRequest {
    api::AuthenticateCustomRequest {
        account: Some(api::AccountCustom {
            id: id.into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn user(id: &str) -> Caller {
    Caller::User(UserSession {
        user_id: id.into(),
        username: "u".into(),
        vars: Default::default(),
        expiry: 0,
        session_id: None,
    })
}

#[tokio::test]
async fn echo_and_rpc_error() {
    let registry = registry();
    let ctx = registry.context(ExecutionMode::Rpc);
    assert_eq!(
        registry
            .call_rpc(ctx.clone(), "echo", "{\"a\":1}".into())
            .await
            .unwrap(),
        "{\"a\":1}"
    );
    let Err(RpcError::Failed(e)) = registry
        .call_rpc(ctx.clone(), "rpc_error", r#"{"code":7}"#.into())
        .await
    else {
        panic!("rpc_error must fail");
    };
    assert_eq!(e.code, Code::PermissionDenied);
    let Err(RpcError::Failed(e)) = registry
        .call_rpc(
            ctx.clone(),
            "rpc_error",
            r#"{"code":6,"message":"taken"}"#.into(),
        )
        .await
    else {
        panic!("rpc_error must fail");
    };
    assert_eq!((e.code, e.message.as_str()), (Code::AlreadyExists, "taken"));
    for bad in ["", "{}", r#"{"code":0}"#, r#"{"code":17}"#] {
        let Err(RpcError::Failed(e)) = registry
            .call_rpc(ctx.clone(), "rpc_error", bad.into())
            .await
        else {
            panic!("rpc_error must fail");
        };
        assert_eq!(e.code, Code::InvalidArgument, "payload {bad:?}");
    }
    let Err(RpcError::Failed(e)) = registry.call_rpc(ctx, "panic", String::new()).await else {
        panic!("panic must fail");
    };
    assert_eq!(e.code, Code::Internal);
}

#[tokio::test]
async fn custom_ids_must_look_like_cid_and_six_digits() {
    let registry = registry();
    let ctx = || registry.context(ExecutionMode::Before);
    for good in ["cid-000000", "cid-123456"] {
        assert!(
            registry
                .before(ctx(), AuthenticateCustom, custom(good))
                .await
                .unwrap()
                .is_some()
        );
    }
    for bad in [
        "custom-abc",
        "cid-12345",
        "cid-1234567",
        "xcid-123456",
        "cid-abcdef",
    ] {
        let e = registry
            .before(ctx(), AuthenticateCustom, custom(bad))
            .await
            .unwrap_err();
        assert_eq!(e.code, Code::InvalidArgument, "id {bad:?}");
    }
    let e = registry
        .before(
            ctx(),
            AuthenticateCustom,
            api::AuthenticateCustomRequest::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, Code::InvalidArgument);
}

#[tokio::test]
async fn logins_are_counted_per_user() {
    let registry = registry();
    let session = api::Session::default();
    for _ in 0..2 {
        let mut ctx = registry.context(ExecutionMode::After);
        ctx.caller = user("a");
        registry
            .after(
                ctx,
                AuthenticateCustom,
                custom("cid-000001"),
                session.clone(),
            )
            .await;
    }
    let mut ctx = registry.context(ExecutionMode::Rpc);
    ctx.caller = user("a");
    assert_eq!(
        registry
            .call_rpc(ctx.clone(), "login_count", String::new())
            .await
            .unwrap(),
        r#"{"logins":2}"#
    );
    ctx.caller = user("b");
    assert_eq!(
        registry
            .call_rpc(ctx.clone(), "login_count", String::new())
            .await
            .unwrap(),
        r#"{"logins":0}"#
    );
    ctx.caller = Caller::HttpKey;
    let Err(RpcError::Failed(e)) = registry.call_rpc(ctx, "login_count", String::new()).await
    else {
        panic!("login_count needs a user");
    };
    assert_eq!(e.code, Code::Unauthenticated);
}
