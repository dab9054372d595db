//! New accounts created at the same moment share a transaction on SQLite; a taken username or
//! identity must still fail only its own account.

use tavern_server::storage::users::{Identity, NewUser, WriteError};
use tavern_server::storage::{Db, StorageTarget};

async fn database(name: &str) -> Db {
    let dir = std::env::temp_dir().join(format!(
        "tavern-account-batches-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let db = Db::connect(&StorageTarget::Sqlite {
        path: dir.join("tavern.db"),
    })
    .await
    .unwrap();
    db.migrate_up().await.unwrap();
    db
}

/// Creates every account concurrently, so they meet in the writer's queue.
async fn create_all(db: &Db, accounts: &[(String, String, String)]) -> Vec<Result<(), String>> {
    let creates = accounts.iter().map(|(id, username, device)| {
        let db = db.clone();
        async move {
            db.create_user(NewUser {
                id,
                username,
                identity: Identity::Device(device),
                password: None,
            })
            .await
            .map_err(|e| match e {
                WriteError::UsernameTaken => "username".to_owned(),
                WriteError::IdentityTaken => "identity".to_owned(),
                WriteError::Sql(e) => e.to_string(),
            })
        }
    });
    futures_util::future::join_all(creates).await
}

fn account(n: usize, username: &str, device: &str) -> (String, String, String) {
    (
        uuid::Uuid::new_v4().to_string(),
        if username.is_empty() {
            format!("user{n}")
        } else {
            username.to_owned()
        },
        if device.is_empty() {
            format!("device-{n:04}")
        } else {
            device.to_owned()
        },
    )
}

#[tokio::test]
async fn a_batch_without_conflicts_creates_every_account() {
    let db = database("clean").await;
    let accounts: Vec<_> = (0..500).map(|n| account(n, "", "")).collect();
    let outcomes = create_all(&db, &accounts).await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    for (id, username, device) in &accounts {
        let row = db
            .find_login(Identity::Device(device))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((&row.id, &row.username), (id, username));
    }
}

#[tokio::test]
async fn conflicts_fail_only_their_own_accounts() {
    let db = database("conflicts").await;
    create_all(&db, &[account(0, "taken", "old-device")])
        .await
        .into_iter()
        .for_each(|r| r.unwrap());

    let mut accounts: Vec<_> = (1..200).map(|n| account(n, "", "")).collect();
    accounts.insert(50, account(1000, "taken", "")); // username of an older account
    accounts.insert(60, account(1001, "", "old-device")); // device of an older account
    accounts.insert(70, account(1002, "twin", ""));
    accounts.insert(71, account(1003, "twin", "")); // same username inside the batch
    accounts.insert(80, account(1004, "", "shared"));
    accounts.insert(81, account(1005, "", "shared")); // same device inside the batch
    let outcomes = create_all(&db, &accounts).await;

    let failed: Vec<_> = accounts
        .iter()
        .zip(&outcomes)
        .filter_map(|((_, username, device), r)| {
            r.as_ref()
                .err()
                .map(|e| (username.as_str(), device.as_str(), e.as_str()))
        })
        .collect();
    assert!(
        failed.contains(&("taken", "device-1000", "username")),
        "{failed:?}"
    );
    assert!(
        failed.contains(&("user1001", "old-device", "identity")),
        "{failed:?}"
    );
    assert_eq!(
        failed.iter().filter(|f| f.0 == "twin").count(),
        1,
        "{failed:?}"
    );
    assert_eq!(
        failed.iter().filter(|f| f.1 == "shared").count(),
        1,
        "{failed:?}"
    );
    assert_eq!(failed.len(), 4, "{failed:?}");

    // Every account reported created exists with its device; the failed ones left nothing.
    for ((id, username, device), outcome) in accounts.iter().zip(&outcomes) {
        let user = db.get_user(id).await.unwrap();
        match outcome {
            Ok(()) => {
                assert_eq!(user.unwrap().username, *username);
                let login = db.find_login(Identity::Device(device)).await.unwrap();
                assert_eq!(login.unwrap().id, *id);
            }
            Err(_) => assert!(user.is_none(), "failed account {username} was kept"),
        }
    }
}
