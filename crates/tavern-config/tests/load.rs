//! End-to-end tests of `tavern_config::load`: defaults, files, flags, precedence and errors.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use tavern_config::{Config, ConfigError, LogFormat, LogLevel, SocketProtocol, load};

/// Writes `text` to a fresh file under the system temp folder and returns its path.
fn yaml(text: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("tavern-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{}.yml", NEXT.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|arg| arg.to_string()).collect()
}

fn config(list: &[&str]) -> Config {
    load(args(list)).unwrap().config
}

fn error(list: &[&str]) -> String {
    let error: ConfigError = load(args(list)).unwrap_err();
    assert_eq!(error.exit_code(), 2);
    error.to_string()
}

#[test]
fn defaults_match_nakama() {
    let c = config(&[]);
    assert_eq!(c.name, "nakama");
    assert_eq!(c.data_dir, Path::new("./data"));
    assert_eq!(c.shutdown_grace_sec, 0);
    assert_eq!(c.logger.level, LogLevel::Info);
    assert_eq!(c.logger.format, LogFormat::Json);
    assert!(c.logger.stdout);
    assert_eq!(c.logger.file, "");

    let s = &c.session;
    assert_eq!(s.encryption_key, "defaultencryptionkey");
    assert_eq!(s.token_expiry_sec, 60);
    assert_eq!(s.refresh_encryption_key, "defaultrefreshencryptionkey");
    assert_eq!(s.refresh_token_expiry_sec, 3600);
    assert!(!s.single_socket && !s.single_match && !s.single_party && !s.single_session);

    let k = &c.socket;
    assert_eq!(k.server_key, "defaultkey");
    assert_eq!(k.port, 7350);
    assert_eq!(k.address, "");
    assert_eq!(k.protocol, SocketProtocol::Tcp);
    assert_eq!(k.max_message_size_bytes, 4096);
    assert_eq!(k.max_request_size_bytes, 262_144);
    assert_eq!(k.read_buffer_size_bytes, 4096);
    assert_eq!(k.write_buffer_size_bytes, 4096);
    assert_eq!(k.read_timeout_ms, 10_000);
    assert_eq!(k.write_timeout_ms, 10_000);
    assert_eq!(k.idle_timeout_ms, 60_000);
    assert_eq!(k.write_wait_ms, 5000);
    assert_eq!(k.pong_wait_ms, 25_000);
    assert_eq!(k.ping_period_ms, 15_000);
    assert_eq!(k.ping_backoff_threshold, 20);
    assert_eq!(k.outgoing_queue_size, 64);
    assert_eq!(k.close_ack_wait_ms, 2000);
    assert_eq!(k.ssl_certificate, "");
    assert_eq!(k.ssl_private_key, "");
    assert!(k.response_headers.is_empty());

    // Tavern's deliberate change: no address means embedded SQLite.
    assert!(c.database.address.is_empty());
    assert_eq!(c.database.conn_max_lifetime_ms, 3_600_000);
    assert_eq!(c.database.max_open_conns, 100);
    assert_eq!(c.database.max_idle_conns, 100);

    let r = &c.runtime;
    assert!(r.env.is_empty());
    assert_eq!(r.path, Path::new("./data").join("modules"));
    assert_eq!(r.http_key, "defaulthttpkey");
    assert_eq!(
        (
            r.lua_min_count,
            r.lua_max_count,
            r.lua_call_stack_size,
            r.lua_registry_size
        ),
        (16, 48, 128, 512)
    );
    assert!(r.lua_read_only_globals && !r.lua_api_stacktrace);
    assert_eq!(r.lua_match_threads, 0);

    let m = &c.match_;
    assert_eq!(
        (
            m.input_queue_size,
            m.call_queue_size,
            m.signal_queue_size,
            m.join_attempt_queue_size,
            m.deferred_queue_size
        ),
        (128, 128, 10, 128, 128)
    );
    assert_eq!(m.join_marker_deadline_ms, 15_000);
    assert_eq!(m.max_empty_sec, 0);
    assert_eq!(m.label_update_interval_ms, 1000);

    let mm = &c.matchmaker;
    assert_eq!(
        (mm.max_tickets, mm.interval_sec, mm.max_intervals),
        (3, 15, 2)
    );
    // Our one matchmaker difference: mutual query acceptance is on (Nakama: off).
    assert!(mm.rev_precision);
    assert_eq!(mm.rev_threshold, 1);

    assert_eq!(c.tracker.event_queue_size, 1024);
    assert_eq!(c.metrics.prometheus_port, 0);
    assert_eq!(c.metrics.reporting_freq_sec, 60);
    assert_eq!(c.fleet.odin.app_id, "");
    assert_eq!(c.fleet.odin.api_token, "");
    assert_eq!(c.fleet.odin.api_url, "https://fleet.4players.io/api");
}

#[test]
fn flag_beats_file_beats_default() {
    let file = yaml("socket:\n  port: 7000\n  server_key: fromfile\nname: filenode\n");
    let c = config(&["--config", &file, "--socket.port", "7351"]);
    assert_eq!(c.socket.port, 7351);
    assert_eq!(c.socket.server_key, "fromfile");
    assert_eq!(c.name, "filenode");
    assert_eq!(c.socket.max_message_size_bytes, 4096);

    // Position does not matter: flags still win over a file named after them.
    let c = config(&["--socket.port=7351", "--config", &file]);
    assert_eq!(c.socket.port, 7351);
}

#[test]
fn repeated_config_files_apply_in_order() {
    let first = yaml("name: first\nsession:\n  token_expiry_sec: 100\n");
    let second = yaml("name: second\nlogger:\n  level: warn\n");
    let loaded = load(args(&["--config", &first, "--config", &second])).unwrap();
    assert_eq!(loaded.config.name, "second");
    assert_eq!(loaded.config.session.token_expiry_sec, 100);
    assert_eq!(loaded.config.logger.level, LogLevel::Warn);
    assert_eq!(loaded.config_files, [first, second]);
}

#[test]
fn unknown_keys_are_rejected_by_name() {
    assert_eq!(
        error(&["--socket.prot", "1"]),
        "config error: unknown key \"socket.prot\""
    );
    let file = yaml("socket:\n  prot: 1\n");
    assert_eq!(
        error(&["--config", &file]),
        format!("config error: {file}: unknown key \"socket.prot\"")
    );
    let file = yaml("nonsense:\n  port: 7351\n");
    assert_eq!(
        error(&["--config", &file]),
        format!("config error: {file}: unknown key \"nonsense\"")
    );
}

#[test]
fn nakama_keys_tavern_lacks_are_refused_as_not_supported() {
    const NOT_SUPPORTED: &str =
        "not supported by Tavern (a Nakama key it does not implement); remove it";
    assert_eq!(
        error(&["--console.port", "7351"]),
        format!("config error: console.port: {NOT_SUPPORTED}")
    );
    assert_eq!(
        error(&["--socket.proxy_count", "2"]),
        format!("config error: socket.proxy_count: {NOT_SUPPORTED}")
    );
    let file = yaml("console:\n  port: 7351\n");
    assert_eq!(
        error(&["--config", &file]),
        format!("config error: {file}: console.port: {NOT_SUPPORTED}")
    );
    let file = yaml("social:\n  steam:\n    app_id: 5\n");
    assert_eq!(
        error(&["--config", &file]),
        format!("config error: {file}: social.steam.app_id: {NOT_SUPPORTED}")
    );
    let file = yaml("console:\n  colour: red\n");
    assert_eq!(
        error(&["--config", &file]),
        format!("config error: {file}: unknown key \"console.colour\"")
    );
}

#[test]
fn bad_values_are_rejected_by_name() {
    assert_eq!(
        error(&["--socket.port", "abc"]),
        "config error: socket.port: invalid value \"abc\", expected an integer"
    );
    assert_eq!(
        error(&["--socket.port", "70000"]),
        "config error: socket.port: invalid value 70000, expected an integer from 0 to 65535"
    );
    assert_eq!(
        error(&["--match.max_empty_sec=-1"]),
        "config error: match.max_empty_sec: invalid value -1, expected a non-negative integer"
    );
    assert_eq!(
        error(&["--session.single_socket=maybe"]),
        "config error: session.single_socket: invalid value \"maybe\", expected a boolean (true or false)"
    );
    assert_eq!(
        error(&["--logger.level", "verbose"]),
        "config error: logger.level: invalid value \"verbose\", expected one of debug, info, warn, error"
    );
    let file = yaml("socket:\n  port: [1]\n");
    assert_eq!(
        error(&["--config", &file]),
        format!("config error: {file}: socket.port: invalid value (a list), expected an integer")
    );
}

#[test]
fn file_problems() {
    let missing = "/nonexistent/tavern.yml";
    assert!(
        error(&["--config", missing])
            .starts_with(&format!("config error: {missing}: cannot read the file: "))
    );
    let broken = yaml("socket: [1, 2\nname: x\n");
    let text = error(&["--config", &broken]);
    assert!(text.starts_with(&format!(
        "config error: {broken}: not a valid configuration file: "
    )));
    assert!(!text.contains('\n'));
    let list = yaml("- 1\n");
    assert!(error(&["--config", &list]).contains("top level must be a mapping"));
    assert_eq!(config(&["--config", &yaml("")]), config(&[]));
    assert_eq!(
        error(&["--config"]),
        "config error: flag --config needs a value"
    );
}

#[test]
fn bool_flag_forms() {
    assert!(config(&["--session.single_socket"]).session.single_socket);
    assert!(
        config(&["--session.single_socket=true"])
            .session
            .single_socket
    );
    assert!(
        config(&["-session.single_socket", "T"])
            .session
            .single_socket
    );
    assert!(!config(&["--logger.stdout=false"]).logger.stdout);
    assert!(!config(&["--logger.stdout", "false"]).logger.stdout);
    assert!(!config(&["--logger.stdout", "0"]).logger.stdout);
    let loaded = load(args(&["--logger.stdout", "healthcheck", "7351"])).unwrap();
    assert!(loaded.config.logger.stdout);
    assert_eq!(loaded.positional, ["healthcheck", "7351"]);
}

#[test]
fn list_flags_replace_the_file_list_then_append() {
    let file = yaml("database:\n  address:\n    - root@filehost:26257\n");
    let c = config(&["--config", &file]);
    assert_eq!(c.database.address.len(), 1);
    assert_eq!(c.database.address[0].host(), "filehost");

    let c = config(&[
        "--config",
        &file,
        "--database.address",
        "postgres://a@one:5432/x",
        "--database.address=b:pw@two/y",
    ]);
    let hosts: Vec<_> = c.database.address.iter().map(|a| a.host()).collect();
    assert_eq!(hosts, ["one", "two"]);
    assert_eq!(c.database.address[1].url(), "postgres://b:pw@two:5432/y");

    let c = config(&[
        "--socket.response_headers",
        "X-A=1",
        "--socket.response_headers",
        "X-B=2",
    ]);
    assert_eq!(
        c.socket.response_header_pairs(),
        [("X-A", "1"), ("X-B", "2")]
    );

    // A single YAML value where a list is expected is a one-element list.
    let file = yaml("database:\n  address: u@solo/db\n");
    assert_eq!(
        config(&["--config", &file]).database.address[0].host(),
        "solo"
    );
}

#[test]
fn runtime_env_merges_across_files_and_flags() {
    let first = yaml("runtime:\n  env:\n    - A=1\n    - B=file1\n");
    let second = yaml("runtime:\n  env:\n    - B=file2\n    - C=x=y\n");
    let c = config(&[
        "--config",
        &first,
        "--config",
        &second,
        "--runtime.env",
        "D=flag",
        "--runtime.env=A=flag",
    ]);
    let env: Vec<_> = c
        .runtime
        .env
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    assert_eq!(env, ["A=flag", "B=file2", "C=x=y", "D=flag"]);
    assert_eq!(
        error(&["--runtime.env", "NOEQUALS"]),
        "config error: runtime.env: invalid value \"NOEQUALS\", expected KEY=VALUE"
    );
}

#[test]
fn runtime_path_follows_data_dir_unless_set() {
    let c = config(&["--data_dir", "/srv/tavern"]);
    assert_eq!(c.runtime.path, PathBuf::from("/srv/tavern/modules"));
    let c = config(&["--data_dir", "/srv/tavern", "--runtime.path", "/mods"]);
    assert_eq!(c.runtime.path, PathBuf::from("/mods"));
}

#[test]
fn database_addresses_are_checked() {
    let text = error(&["--database.address", "u:secret@host:notaport/db"]);
    assert!(
        text.starts_with("config error: database.address[0]: invalid database address"),
        "{text}"
    );
    assert!(!text.contains("secret"), "{text}");
}

#[test]
fn help_version_and_positional() {
    let loaded = load(args(&["--socket.prot", "--help"])).unwrap();
    assert!(loaded.help && !loaded.version);
    assert_eq!(loaded.config, Config::default());
    let loaded = load(args(&["--version"])).unwrap();
    assert!(loaded.version);
    let loaded = load(args(&["migrate", "up", "--database.address", "u@h/d"])).unwrap();
    assert_eq!(loaded.positional, ["migrate", "up"]);
    assert!(!loaded.help && !loaded.version);
}

#[test]
fn validation_errors_name_the_key() {
    let cases: &[(&[&str], &str)] = &[
        (&["--name", ""], "name: must be 1 to 16 characters, got 0"),
        (
            &["--name", "seventeen-chars-x"],
            "name: must be 1 to 16 characters, got 17",
        ),
        (
            &["--session.token_expiry_sec", "0"],
            "session.token_expiry_sec: must be from 1 to 2147483647, got 0",
        ),
        (
            &["--session.refresh_token_expiry_sec", "0"],
            "session.refresh_token_expiry_sec: must be from 1 to 2147483647, got 0",
        ),
        (
            &["--session.refresh_encryption_key", "defaultencryptionkey"],
            "session.refresh_encryption_key: must differ from session.encryption_key",
        ),
        (
            &["--session.single_match"],
            "session.single_match: needs session.single_socket",
        ),
        (
            &["--socket.port", "0"],
            "socket.port: must be from 1 to 65535, got 0",
        ),
        (&["--socket.server_key="], "socket.server_key: must be set"),
        (
            &["--socket.max_message_size_bytes", "0"],
            "socket.max_message_size_bytes: must be from 1 to 1073741824, got 0",
        ),
        (
            &["--socket.ping_period_ms", "30000"],
            "socket.ping_period_ms: must be less than socket.pong_wait_ms (25000), got 30000",
        ),
        (
            &["--socket.ssl_certificate", "cert.pem"],
            "socket.ssl_private_key: must be set when socket.ssl_certificate is",
        ),
        (
            &["--socket.response_headers", "NoValue"],
            "socket.response_headers: invalid value \"NoValue\", expected Name=Value",
        ),
        (
            &["--matchmaker.interval_sec", "0"],
            "matchmaker.interval_sec: must be from 1 to 2147483647, got 0",
        ),
        (
            &["--match.input_queue_size", "0"],
            "match.input_queue_size: must be from 1 to 16777216, got 0",
        ),
        (
            &["--runtime.lua_min_count", "100"],
            "runtime.lua_min_count: must not exceed runtime.lua_max_count (48), got 100",
        ),
        (
            &["--runtime.lua_registry_size", "64"],
            "runtime.lua_registry_size: must be from 128 to 16777216, got 64",
        ),
        (
            &["--tracker.event_queue_size", "0"],
            "tracker.event_queue_size: must be from 1 to 16777216, got 0",
        ),
        (
            &["--metrics.prometheus_port", "7350"],
            "metrics.prometheus_port: must differ from socket.port (7350)",
        ),
        (
            &["--fleet.odin.app_id", "abc"],
            "fleet.odin.app_id: invalid value \"abc\", expected a positive integer (or empty for off)",
        ),
        (
            &["--fleet.odin.app_id", "12"],
            "fleet.odin.api_token: must be set when fleet.odin.app_id is (or set ODIN_API_TOKEN)",
        ),
        (
            &["--fleet.odin.port_name", " "],
            "fleet.odin.port_name: must name the server port players connect to",
        ),
        (
            &["--fleet.odin.api_url", "fleet.example"],
            "fleet.odin.api_url: invalid value \"fleet.example\", expected an http:// or https:// URL",
        ),
    ];
    for (flags, expected) in cases {
        assert_eq!(
            error(flags),
            format!("config error: {expected}"),
            "{flags:?}"
        );
    }
}

#[test]
fn levels_and_numbers_from_yaml() {
    let file = yaml(
        "logger:\n  level: DEBUG\nsocket:\n  port: \"7400\"\nfleet:\n  odin:\n    app_id: 12345\n    api_token: t\n",
    );
    let c = config(&["--config", &file]);
    assert_eq!(c.logger.level, LogLevel::Debug);
    assert_eq!(c.socket.port, 7400);
    assert_eq!(c.fleet.odin.app_id, "12345");
}

#[test]
fn shipped_local_yml_loads() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../local.yml");
    let c = config(&["--config", path]);
    assert_eq!(c.logger.level, LogLevel::Debug);
    assert_eq!(c.session.token_expiry_sec, 7200);
    assert!(c.database.address.is_empty());
}

#[test]
fn odin_environment_variables_rank_below_files_and_flags() {
    let env = |name: &str| match name {
        "ODIN_APP_ID" => Some("77".to_owned()),
        "ODIN_API_TOKEN" => Some("secret".to_owned()),
        "ODIN_API_URL" => Some("http://127.0.0.1:9/api".to_owned()),
        _ => None,
    };
    let loaded = tavern_config::load_with_env(Vec::<String>::new(), env).unwrap();
    let odin = &loaded.config.fleet.odin;
    assert_eq!(
        (
            odin.app_id.as_str(),
            odin.api_token.as_str(),
            odin.api_url.as_str()
        ),
        ("77", "secret", "http://127.0.0.1:9/api")
    );
    assert_eq!(odin.port_name, "game_port");
    let args = vec!["--fleet.odin.app_id=78".to_owned()];
    let loaded = tavern_config::load_with_env(args, env).unwrap();
    assert_eq!(loaded.config.fleet.odin.app_id, "78");
    let bad = |name: &str| (name == "ODIN_APP_ID").then(|| "x".to_owned());
    let error = tavern_config::load_with_env(Vec::<String>::new(), bad).unwrap_err();
    assert!(error.to_string().contains("fleet.odin.app_id"), "{error}");
}
