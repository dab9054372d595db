//! Loading an entry file into a registry and calling what it registered.

use std::sync::Arc;

use tavern_runtime::registry::{Registry, RpcError, RuntimeSetup};
use tavern_runtime::{BoxFuture, Code, Database, ExecutionMode, Nk, NkBackend, RuntimeError, api};

use crate::JsSettings;

/// A server without data, for calls that never reach it.
struct NoServer;

impl NkBackend for NoServer {
    fn account_get_id(&self, _: String) -> BoxFuture<'_, Result<api::Account, RuntimeError>> {
        Box::pin(async { Err(RuntimeError::internal("no server")) })
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

pub(crate) fn settings() -> JsSettings {
    JsSettings {
        entrypoint: String::new(),
        min_count: 1,
        max_count: 2,
        memory_limit: 8 << 20,
        instruction_budget: 2_000_000,
    }
}

/// A registry with `source` loaded as `index.js`.
pub(crate) fn load(source: &str, settings: JsSettings) -> Result<Registry, String> {
    let dir = std::env::temp_dir().join(format!("tavern-js-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.js"), source).unwrap();
    let pool = tavern_runtime::sqlx::SqlitePool::connect_lazy("sqlite::memory:").unwrap();
    let setup = RuntimeSetup {
        node: "nakama".into(),
        env: [("GREETING".to_owned(), "hi".to_owned())].into(),
        nk: Nk::new(Arc::new(NoServer), Database::Sqlite(pool)),
        fleet_manager: None,
    };
    let mut registry = Registry::load(&[], setup).unwrap();
    let loaded = crate::load_into(&mut registry, &dir, settings);
    let _ = std::fs::remove_dir_all(&dir);
    match loaded {
        Ok(true) => Ok(registry),
        Ok(false) => Err("nothing loaded".to_owned()),
        Err(e) => Err(e.problems.join("; ")),
    }
}

async fn call(registry: &Registry, id: &str, payload: &str) -> Result<String, RuntimeError> {
    let ctx = registry.context(ExecutionMode::Rpc);
    match registry.call_rpc(ctx, id, payload.to_owned()).await {
        Ok(out) => Ok(out),
        Err(RpcError::Failed(e)) => Err(e),
        Err(other) => Err(RuntimeError::not_found(other.to_string())),
    }
}

const MODULE: &str = r#"
function echo(ctx, logger, nk, payload) {
  logger.info("echo %s", payload);
  return JSON.stringify({ payload: payload, mode: ctx.executionMode, env: ctx.env.GREETING, node: ctx.node });
}
function fail(ctx, logger, nk, payload) {
  var want = JSON.parse(payload);
  if (want.kind === "code") throw { message: want.message, code: want.code };
  if (want.kind === "string") throw "just a string";
  if (want.kind === "error") throw new Error("boom");
  if (want.kind === "fraction") throw { message: "half", code: 3.5 };
  throw { message: "message only" };
}
function object(ctx, logger, nk, payload) { return { a: 1 }; }
function nothing(ctx, logger, nk, payload) {}
function spin(ctx, logger, nk, payload) { for (;;) {} }
function hog(ctx, logger, nk, payload) { var a = []; for (;;) { a.push("x".repeat(4096) + a.length); } }
let counted = 0;
const count = function (ctx, logger, nk, payload) { counted += 1; return String(counted); };
let InitModule = function (ctx, logger, nk, initializer) {
  if (ctx.executionMode !== "run_once") throw new Error("mode " + ctx.executionMode);
  initializer.registerRpc("Echo", echo);
  initializer.registerRpc("fail", fail);
  initializer.registerRpc("object", object);
  initializer.registerRpc("nothing", nothing);
  initializer.registerRpc("spin", spin);
  initializer.registerRpc("hog", hog);
  initializer.registerRpc("count", count);
};
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpcs_run_with_nakamas_arguments_and_return_conventions() {
    let registry = load(MODULE, settings()).unwrap();
    let out = call(&registry, "echo", "hello").await.unwrap();
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        json,
        serde_json::json!({ "payload": "hello", "mode": "rpc", "env": "hi", "node": "nakama" })
    );
    assert_eq!(call(&registry, "nothing", "").await.unwrap(), "");
    let invalid = call(&registry, "object", "").await.unwrap_err();
    assert_eq!(invalid.code, Code::Internal);
    assert!(
        invalid
            .message
            .starts_with("Runtime function returned invalid data")
    );
    // A `const` at the top level is found by name too, and keeps its state in its VM.
    assert_eq!(call(&registry, "count", "").await.unwrap(), "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thrown_values_map_to_codes_as_nakama() {
    let registry = load(MODULE, settings()).unwrap();
    let fail = |payload: serde_json::Value| {
        let registry = &registry;
        async move {
            call(registry, "fail", &payload.to_string())
                .await
                .unwrap_err()
        }
    };
    let e = fail(serde_json::json!({ "kind": "code", "code": 9, "message": "not now" })).await;
    assert_eq!(
        (e.code, e.message.as_str()),
        (Code::FailedPrecondition, "not now")
    );
    let e = fail(serde_json::json!({ "kind": "code", "code": 99, "message": "odd" })).await;
    assert_eq!((e.code.as_u16(), e.code.http_status()), (99, 500));
    let e = fail(serde_json::json!({ "kind": "string" })).await;
    assert_eq!(
        (e.code, e.message.as_str()),
        (Code::Internal, "just a string")
    );
    let e = fail(serde_json::json!({ "kind": "error" })).await;
    assert_eq!(e.code, Code::Internal);
    assert!(
        e.message.starts_with("Error: boom at fail (index.js:"),
        "{}",
        e.message
    );
    let e = fail(serde_json::json!({ "kind": "fraction" })).await;
    assert_eq!((e.code, e.message.as_str()), (Code::Internal, "half"));
    let e = fail(serde_json::json!({ "kind": "message" })).await;
    assert_eq!(
        (e.code, e.message.as_str()),
        (Code::Internal, "message only")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runaway_call_ends_alone_and_the_vm_serves_again() {
    let registry = load(MODULE, settings()).unwrap();
    for _ in 0..2 {
        let e = call(&registry, "spin", "").await.unwrap_err();
        assert_eq!(e.message, crate::vm::BUDGET_EXCEEDED);
        let e = call(&registry, "hog", "").await.unwrap_err();
        assert_eq!(e.code, Code::Internal);
        assert!(e.message.contains("out of memory"), "{}", e.message);
        assert!(call(&registry, "echo", "again").await.is_ok());
    }
}

#[tokio::test]
async fn bad_modules_stop_the_load_with_the_reason() {
    let inline = r#"
        function InitModule(ctx, logger, nk, initializer) {
          initializer.registerRpc("inline", function (ctx, logger, nk, payload) { return ""; });
        }
    "#;
    let e = load(inline, settings()).err().unwrap();
    assert!(e.contains("javascript functions cannot be inlined"), "{e}");
    let e = load("function InitModule() {} )", settings())
        .err()
        .unwrap();
    assert!(e.contains("SyntaxError"), "{e}");
    let e = load("var x = 1;", settings()).err().unwrap();
    assert!(e.contains("InitModule function not found"), "{e}");
    let e = load(
        "function InitModule() { throw { message: 'no config' }; }",
        settings(),
    )
    .err()
    .unwrap();
    assert!(e.contains("no config"), "{e}");
    let mut missing = settings();
    missing.entrypoint = "nope.js".into();
    let e = load("", missing).err().unwrap();
    assert!(
        e.contains("JavaScript entrypoint must be a valid path"),
        "{e}"
    );
}
