//! The RPC routes and REST hooks through the router, with test modules and a fresh SQLite file.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tavern_runtime::operation::{AuthenticateCustom, AuthenticateDevice, GetAccount};
use tavern_runtime::{Code, Context, Initializer, Module, Nk, RuntimeError};
use tavern_server::runtime::RuntimeHost;
use tavern_server::state::AppState;
use tavern_server::storage::{Db, StorageTarget};
use tower::ServiceExt;

static DEVICE_LOGINS: AtomicUsize = AtomicUsize::new(0);

async fn explode(_ctx: Context, _nk: Nk, _payload: String) -> Result<String, RuntimeError> {
    panic!("test panic")
}

fn game(init: &mut Initializer) -> Result<(), RuntimeError> {
    init.register_rpc("Echo", |ctx, _nk, payload| async move {
        Ok(format!("{payload}|{}", ctx.used_http_key()))
    });
    init.register_rpc("deny", |_ctx, _nk, _payload| async {
        Err::<String, _>(RuntimeError::new("not yours", Code::PermissionDenied))
    });
    init.register_rpc("explode", explode);
    init.register_before(AuthenticateCustom, |_ctx, _nk, request| async move {
        let id = request
            .account
            .as_ref()
            .map(|a| a.id.clone())
            .unwrap_or_default();
        match id.as_str() {
            "disabled-id" => Ok(None),
            "panicky-id" => panic!("hook panic"),
            _ => Ok(Some(request)),
        }
    });
    init.register_before(GetAccount, |ctx, _nk, ()| async move {
        match ctx.username() {
            Some("banned") => Err(RuntimeError::new("go away", Code::PermissionDenied)),
            _ => Ok(Some(())),
        }
    });
    init.register_after(AuthenticateDevice, |_ctx, _nk, _request, _session| async {
        DEVICE_LOGINS.fetch_add(1, Ordering::SeqCst);
        Ok(())
    });
    Ok(())
}

async fn app(name: &str) -> axum::Router {
    let dir =
        std::env::temp_dir().join(format!("tavern-runtime-api-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let db = Db::connect(&StorageTarget::Sqlite {
        path: dir.join("tavern.db"),
    })
    .await
    .unwrap();
    db.migrate_up().await.unwrap();
    let config = Arc::new(tavern_config::Config::default());
    let runtime = RuntimeHost::load(&[Module::new("game", game)], &config, &db, None).unwrap();
    tavern_server::api::router(Arc::new(AppState::new(config, db, runtime)))
}

async fn send(app: &axum::Router, request: Request<Body>) -> (StatusCode, Option<String>, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        content_type,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

fn post(uri: &str, auth: Option<&str>, body: &str) -> Request<Body> {
    let mut builder = Request::post(uri);
    if let Some(auth) = auth {
        builder = builder.header(header::AUTHORIZATION, auth);
    }
    builder.body(Body::from(body.to_owned())).unwrap()
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap()
}

const SERVER_KEY: &str = "Basic ZGVmYXVsdGtleTo=";

async fn token(app: &axum::Router, uri: &str, body: &str) -> String {
    let (status, _, body) = send(app, post(uri, Some(SERVER_KEY), body)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    json(&body)["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn rpc_auth_payloads_and_errors() {
    let app = app("rpc").await;
    let key_invalid = r#"{"code":16,"error":"HTTP key invalid","message":"HTTP key invalid"}"#;

    let (status, _, body) = send(&app, post("/v2/rpc/echo?http_key=wrong", None, "")).await;
    assert_eq!(
        (status, json(&body)),
        (StatusCode::UNAUTHORIZED, json(key_invalid))
    );
    let basic_wrong = "Basic d3Jvbmc6"; // "wrong:"
    let (status, _, body) = send(&app, post("/v2/rpc/echo", Some(basic_wrong), "")).await;
    assert_eq!(
        (status, json(&body)),
        (StatusCode::UNAUTHORIZED, json(key_invalid))
    );
    let (status, _, body) = send(&app, post("/v2/rpc/echo", None, "")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(json(&body)["message"], "Auth token or HTTP key required");
    let (status, _, body) = send(&app, post("/v2/rpc/echo", Some("Bearer x.y.z"), "")).await;
    assert_eq!(
        (status, json(&body)["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("Auth token invalid"))
    );

    let basic_key = "Basic ZGVmYXVsdGh0dHBrZXk6"; // "defaulthttpkey:"
    let (status, content_type, body) =
        send(&app, post("/v2/rpc/ECHO", Some(basic_key), r#""hi""#)).await;
    assert_eq!(
        (status, content_type.as_deref()),
        (StatusCode::OK, Some("application/json"))
    );
    assert_eq!(json(&body), json(r#"{"payload":"hi|true"}"#));

    let session = token(
        &app,
        "/v2/account/authenticate/device",
        r#"{"id":"device-0000001"}"#,
    )
    .await;
    let bearer = format!("Bearer {session}");
    let (_, _, body) = send(&app, post("/v2/rpc/echo", Some(&bearer), r#""x""#)).await;
    assert_eq!(json(&body)["payload"], "x|false");
    let request = Request::post("/v2/rpc/echo?unwrap")
        .header(header::AUTHORIZATION, &bearer)
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from("a,b"))
        .unwrap();
    let (status, content_type, body) = send(&app, request).await;
    assert_eq!(
        (status, content_type.as_deref(), body.as_str()),
        (StatusCode::OK, Some("text/csv"), "a,b|false")
    );
    let request = Request::get("/v2/rpc/echo?http_key=defaulthttpkey&payload=q")
        .body(Body::empty())
        .unwrap();
    assert_eq!(json(&send(&app, request).await.2)["payload"], "q|true");

    let (status, _, body) = send(&app, post("/v2/rpc/echo", Some(&bearer), "{}")).await;
    assert_eq!(
        (status, json(&body)["code"].as_u64()),
        (StatusCode::BAD_REQUEST, Some(3))
    );
    let (status, _, body) = send(&app, post("/v2/rpc/nothing", Some(&bearer), "")).await;
    assert_eq!(
        (status, json(&body)["message"].as_str()),
        (StatusCode::NOT_FOUND, Some("RPC function not found"))
    );
    let (status, _, body) = send(&app, post("/v2/rpc/", Some(&bearer), "")).await;
    assert_eq!(
        (status, json(&body)["message"].as_str()),
        (StatusCode::BAD_REQUEST, Some("RPC ID must be set"))
    );
    let (status, _, body) = send(&app, post("/v2/rpc/deny", Some(&bearer), "")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        json(&body),
        json(r#"{"code":7,"error":{"Message":"not yours","Code":7},"message":"not yours"}"#)
    );
    let (status, _, body) = send(&app, post("/v2/rpc/explode", Some(&bearer), "")).await;
    assert_eq!(
        (status, json(&body)["code"].as_u64()),
        (StatusCode::INTERNAL_SERVER_ERROR, Some(13))
    );
    let (status, _, _) = send(&app, post("/v2/rpc/echo", Some(&bearer), "")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn hooks_disable_reject_and_observe() {
    let app = app("hooks").await;
    let custom = "/v2/account/authenticate/custom";
    let (status, _, body) = send(
        &app,
        post(custom, Some(SERVER_KEY), r#"{"id":"disabled-id"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        json(&body),
        json(r#"{"code":5,"message":"Requested resource was not found."}"#)
    );
    let (status, _, body) = send(
        &app,
        post(custom, Some(SERVER_KEY), r#"{"id":"panicky-id"}"#),
    )
    .await;
    assert_eq!(
        (status, json(&body)["code"].as_u64()),
        (StatusCode::INTERNAL_SERVER_ERROR, Some(13))
    );
    token(&app, custom, r#"{"id":"allowed-id"}"#).await;

    let before = DEVICE_LOGINS.load(Ordering::SeqCst);
    let banned = token(
        &app,
        "/v2/account/authenticate/device?username=banned",
        r#"{"id":"device-0000002"}"#,
    )
    .await;
    assert_eq!(DEVICE_LOGINS.load(Ordering::SeqCst), before + 1);
    let request = Request::get("/v2/account")
        .header(header::AUTHORIZATION, format!("Bearer {banned}"))
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send(&app, request).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(json(&body), json(r#"{"code":7,"message":"go away"}"#));
}
