//! Starts the `my-game` binary on a free port with a fresh SQLite database and calls its RPCs
//! over HTTP, as a game client would.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The running server; killed when dropped.
struct Server {
    child: Child,
    port: u16,
    data_dir: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

fn start() -> Server {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data_dir = std::env::temp_dir().join(format!("my-game-test-{}-{port}", std::process::id()));
    let child = Command::new(env!("CARGO_BIN_EXE_my-game"))
        .arg(format!("--socket.port={port}"))
        .arg(format!("--data_dir={}", data_dir.display()))
        .arg("--logger.level=warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("my-game starts");
    let server = Server {
        child,
        port,
        data_dir,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while request(port, "GET", "/healthcheck", "", "").is_err() {
        assert!(Instant::now() < deadline, "my-game did not start listening");
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

/// One HTTP/1.1 request; the status and the body.
fn request(
    port: u16,
    method: &str,
    path: &str,
    auth: &str,
    body: &str,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let auth = if auth.is_empty() {
        String::new()
    } else {
        format!("Authorization: {auth}\r\n")
    };
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, body.to_owned()))
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Calls an RPC the way nakama-js does: the payload JSON-encoded as a JSON string.
fn rpc(port: u16, token: &str, id: &str, payload: serde_json::Value) -> (u16, serde_json::Value) {
    let body = serde_json::to_string(&payload.to_string()).unwrap();
    let (status, body) = request(
        port,
        "POST",
        &format!("/v2/rpc/{id}"),
        &format!("Bearer {token}"),
        &body,
    )
    .unwrap();
    (status, json(&body))
}

#[test]
fn my_game_rpcs_answer_a_signed_in_player() {
    let server = start();
    let (status, body) = request(
        server.port,
        "POST",
        "/v2/account/authenticate/device?create=true&username=alice",
        "Basic ZGVmYXVsdGtleTo=",
        r#"{"id":"my-game-test-device-1"}"#,
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let token = json(&body)["token"].as_str().unwrap().to_owned();

    let (status, body) = rpc(server.port, &token, "greet", serde_json::json!({}));
    assert_eq!(status, 200, "{body}");
    let greeting = json(body["payload"].as_str().unwrap());
    assert_eq!(greeting["message"], "Hello, alice!");

    let (_, body) = rpc(
        server.port,
        &token,
        "submit_score",
        serde_json::json!({ "score": 40 }),
    );
    assert_eq!(json(body["payload"].as_str().unwrap())["best"], 40);
    let (_, body) = rpc(
        server.port,
        &token,
        "SUBMIT_SCORE",
        serde_json::json!({ "score": 12 }),
    );
    assert_eq!(json(body["payload"].as_str().unwrap())["best"], 40);

    let (status, body) = rpc(
        server.port,
        &token,
        "submit_score",
        serde_json::json!({ "points": 1 }),
    );
    assert_eq!((status, body["code"].as_u64()), (400, Some(3)));

    // The bundled examples are not part of this game.
    let (status, _) = rpc(server.port, &token, "echo", serde_json::json!({}));
    assert_eq!(status, 404);
}
