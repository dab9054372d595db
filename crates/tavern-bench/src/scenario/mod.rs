//! The scenarios, and the unmeasured setup step they share: creating device accounts.

pub mod auth;
pub mod ccu;
pub mod chat;
pub mod idle;
pub mod match_traffic;
pub mod matchmake;
pub mod storage;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::client::{Endpoint, HttpClient};

/// Attempts per account during setup before the run is abandoned.
const SETUP_ATTEMPTS: u32 = 3;

/// A device id unique to this run: `tbench-<run>-<index>` (well within 10..128 bytes).
pub fn device_id(run: &str, index: u64) -> String {
    format!("tbench-{run}-{index:08}")
}

/// A short random tag that keeps device ids of different runs apart.
pub fn run_tag() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..10].to_string()
}

/// Authenticates devices `0..count` of `run` (creating them) with `concurrency` clients and
/// returns their session tokens in index order. Any account failing three times aborts.
pub async fn create_accounts(
    endpoint: Arc<Endpoint>,
    run: &str,
    count: u64,
    concurrency: u64,
) -> Result<Vec<String>, String> {
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency.min(count) {
        let endpoint = endpoint.clone();
        let next = next.clone();
        let run = run.to_string();
        tasks.push(tokio::spawn(async move {
            let mut client = HttpClient::new(&endpoint);
            let mut tokens = Vec::new();
            // Bounded by `count`: every iteration claims a distinct index.
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= count {
                    return Ok(tokens);
                }
                let id = device_id(&run, index);
                let mut last_error = String::new();
                let mut token = None;
                for _ in 0..SETUP_ATTEMPTS {
                    match client.authenticate_device(&id).await {
                        Ok(session) => {
                            token = Some(session.token);
                            break;
                        }
                        Err(e) => last_error = e,
                    }
                }
                match token {
                    Some(token) => tokens.push((index, token)),
                    None => return Err(format!("creating account {id}: {last_error}")),
                }
            }
        }));
    }
    let mut all = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    for task in tasks {
        all.extend(task.await.map_err(|e| format!("setup task: {e}"))??);
    }
    all.sort_unstable_by_key(|(index, _)| *index);
    eprintln!(
        "setup: {count} accounts authenticated in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(all.into_iter().map(|(_, token)| token).collect())
}
