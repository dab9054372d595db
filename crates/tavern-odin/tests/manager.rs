//! The ODIN fleet manager against the fake ODIN API.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tavern_fake_odin::{Fake, FakeConfig, NewPort, NewServer};
use tavern_odin::{OdinClient, OdinFleetManager, OdinSettings, RetryPolicy};
use tavern_runtime::fleet::{
    CreateOutcome, CreateRequest, CreateStatus, FleetCallbacks, FleetManager, Metadata,
    create_callback,
};
use tavern_runtime::{BoxFuture, Code, Database, Nk, NkBackend, RuntimeError, api};

struct NoServer;

impl NkBackend for NoServer {
    fn account_get_id(&self, _: String) -> BoxFuture<'_, Result<api::Account, RuntimeError>> {
        Box::pin(async { Err(RuntimeError::not_found("none")) })
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

fn server(id: i64, state: &str, address: Option<&str>, published: Option<i64>) -> NewServer {
    NewServer {
        id: Some(id),
        address: address.map(str::to_owned),
        ports: vec![NewPort {
            name: "game_port".into(),
            protocol: Some("udp".into()),
            target_port: 7777,
            published_port: published,
        }],
        metadata: json!({"instance_state": state})
            .as_object()
            .unwrap()
            .clone(),
        ..Default::default()
    }
}

async fn manager(create_timeout: Duration) -> (Fake, OdinFleetManager, FleetCallbacks) {
    let (fake, url) = tavern_fake_odin::start(FakeConfig::default())
        .await
        .unwrap();
    let mut settings = OdinSettings::new(1, "fake-token", &url);
    settings.request_timeout = Duration::from_secs(2);
    settings.create_timeout = create_timeout;
    settings.poll_interval = Duration::from_millis(50);
    settings.claim_settle = Duration::from_millis(300);
    let client = OdinClient::new(&url, "fake-token", settings.request_timeout)
        .unwrap()
        .with_retry(RetryPolicy {
            attempts: 2,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(10),
        });
    let manager = OdinFleetManager::with_client(settings, client);
    let pool = tavern_runtime::sqlx::SqlitePool::connect_lazy("sqlite::memory:").unwrap();
    let nk = Nk::new(Arc::new(NoServer), Database::Sqlite(pool));
    let callbacks = FleetCallbacks::new("test");
    manager.init(nk, callbacks.clone()).unwrap();
    assert!(manager.initialised());
    (fake, manager, callbacks)
}

/// Creates and waits for the callback.
async fn create(manager: &OdinFleetManager, users: &[&str]) -> CreateOutcome {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let request = CreateRequest {
        max_players: 2,
        user_ids: users.iter().map(|u| (*u).to_owned()).collect(),
        latencies: Vec::new(),
        metadata: json!({"mode": "duel"}).as_object().unwrap().clone(),
    };
    let ids = manager
        .create(
            request,
            create_callback(move |outcome| async move {
                let _ = tx.send(outcome);
            }),
        )
        .await
        .unwrap();
    assert!(!ids["request_id"].is_empty());
    tokio::time::timeout(Duration::from_secs(10), rx)
        .await
        .expect("the callback fires")
        .unwrap()
}

/// Facts §6 #1, #11, #12, #19: limit and cursor are honoured, the cursor ends, a bad query is
/// an error, unreachable servers are left out.
#[tokio::test]
async fn list_pages_with_a_cursor_that_ends() {
    let (fake, manager, _) = manager(Duration::from_secs(1)).await;
    for id in 1..=5 {
        fake.add_server(server(id, "idle", Some("10.0.0.1"), Some(30000 + id)));
    }
    fake.add_server(server(6, "idle", None, Some(30006)));
    fake.add_server(server(7, "busy", Some("10.0.0.1"), Some(30007)));
    let query = r#"{"metadata":{"instance_state":"idle"}}"#;
    let mut seen = Vec::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let page = manager.list(query.into(), 2, cursor.clone()).await.unwrap();
        pages += 1;
        seen.extend(page.instances.iter().map(|i| i.id.clone()));
        if page.cursor.is_empty() {
            break;
        }
        cursor = page.cursor;
        assert!(pages < 10, "the cursor never ends");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["1", "2", "3", "4", "5"]);
    let one = &manager.list(query.into(), 1, String::new()).await.unwrap();
    assert_eq!(
        one.instances[0].connection_info.as_ref().unwrap().port,
        30001
    );
    assert_eq!(one.cursor, "2");
    for bad in ["idle", r#"{"Nope":1}"#] {
        let error = manager
            .list(bad.into(), 10, String::new())
            .await
            .unwrap_err();
        assert_eq!(error.code, Code::InvalidArgument, "{bad}");
    }
    let error = manager
        .list(String::new(), 10, "x".into())
        .await
        .unwrap_err();
    assert_eq!(error.code, Code::InvalidArgument);
}

/// Facts §6 #13: not found stays not found.
#[tokio::test]
async fn get_tells_not_found_apart() {
    let (fake, manager, _) = manager(Duration::from_secs(1)).await;
    fake.add_server(server(1, "idle", None, None));
    let info = manager.get("1".into()).await.unwrap();
    assert_eq!(info.connection_info, None);
    assert_eq!(
        manager.get("2".into()).await.unwrap_err().code,
        Code::NotFound
    );
    assert_eq!(
        manager.get("x".into()).await.unwrap_err().code,
        Code::InvalidArgument
    );
    fake.add_fault(tavern_fake_odin::Fault {
        status: 401,
        count: 1,
        ..Default::default()
    });
    assert_eq!(
        manager.get("1".into()).await.unwrap_err().code,
        Code::PermissionDenied
    );
}

/// Facts §6 #18: concurrent creates never share a server; with too few servers the rest time
/// out instead of doubling up, and no callback is left behind.
#[tokio::test]
async fn concurrent_creates_claim_distinct_servers() {
    let (fake, manager, callbacks) = manager(Duration::from_secs(3)).await;
    for id in 1..=2 {
        fake.add_server(server(id, "idle", Some("10.0.0.1"), Some(30000 + id)));
    }
    let outcomes = futures_join(&manager, 3).await;
    let mut won: Vec<String> = outcomes
        .iter()
        .filter(|o| o.status == CreateStatus::Success)
        .map(|o| o.instance.as_ref().unwrap().id.clone())
        .collect();
    won.sort();
    assert_eq!(won, ["1", "2"], "{outcomes:?}");
    let timeouts = outcomes
        .iter()
        .filter(|o| o.status == CreateStatus::Timeout)
        .count();
    assert_eq!(timeouts, 1);
    for id in 1..=2 {
        let metadata = &fake.server(id).unwrap()["metadata"];
        assert_eq!(metadata["instance_state"], "allocated");
        assert_eq!(metadata["mode"], "duel");
        assert_eq!(metadata["tavern_claim"], serde_json::Value::Null);
    }
    assert_eq!(callbacks.pending(), 0);
    let winner = outcomes
        .iter()
        .find(|o| o.status == CreateStatus::Success)
        .unwrap();
    assert_eq!(winner.sessions.as_ref().unwrap().len(), 2);
}

async fn futures_join(manager: &OdinFleetManager, n: usize) -> Vec<CreateOutcome> {
    let mut tasks = Vec::new();
    for i in 0..n {
        let manager = manager.clone();
        let users = [format!("a{i}"), format!("b{i}")];
        tasks.push(tokio::spawn(async move {
            let users: Vec<&str> = users.iter().map(String::as_str).collect();
            create(&manager, &users).await
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    outcomes
}

/// Facts §6 #5 and #7: join, update and delete work; update records the player count.
#[tokio::test]
async fn join_update_delete() {
    let (fake, manager, _) = manager(Duration::from_secs(1)).await;
    let mut full = server(1, "occupied", Some("10.0.0.1"), Some(30001));
    full.metadata.insert("max_players".into(), json!(3));
    fake.add_server(full);
    let join = manager
        .join(
            "1".into(),
            vec!["u1".into(), "u2".into()],
            Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(join.session_info.len(), 2);
    assert_eq!(join.instance_info.unwrap().id, "1");
    // The same user keeps the same session; a fourth player does not fit.
    let again = manager
        .join("1".into(), vec!["u1".into()], Default::default())
        .await
        .unwrap();
    assert_eq!(
        again.session_info[0].session_id,
        join.session_info[0].session_id
    );
    let error = manager
        .join(
            "1".into(),
            vec!["u3".into(), "u4".into()],
            Default::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code, Code::ResourceExhausted);
    let mut metadata = Metadata::new();
    metadata.insert("round".into(), json!(2));
    manager.update("1".into(), 2, metadata).await.unwrap();
    let info = manager.get("1".into()).await.unwrap();
    assert_eq!(info.player_count, 2);
    assert_eq!(info.metadata["round"], 2);
    assert_eq!(
        manager
            .update("1".into(), -1, Metadata::new())
            .await
            .unwrap_err()
            .code,
        Code::InvalidArgument
    );
    manager.delete("1".into()).await.unwrap();
    assert_eq!(fake.server(1).unwrap()["metadata"], json!({}));
    assert_eq!(
        manager.delete("9".into()).await.unwrap_err().code,
        Code::NotFound
    );
}
