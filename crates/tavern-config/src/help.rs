//! `tavern --help`: usage, subcommands, and every configuration key as a flag with its default.
//!
//! The key list is generated from [`Config::default`], so it cannot fall behind the model. The
//! few keys whose empty default means something, and the word-valued keys, get a short note.

use serde_json::Value;

use crate::choices::{LogFormat, LogLevel, SocketProtocol};
use crate::overlay::{self, Kind};
use crate::sections::Config;

/// Keys whose default needs a word of explanation, and the accepted words of word-valued keys.
fn notes() -> Vec<(&'static str, String)> {
    let words = |list: &[&str]| format!("one of: {}", list.join(", "));
    vec![
        (
            "database.address",
            "empty: embedded SQLite under data_dir; Nakama's default is root@localhost:26257"
                .to_owned(),
        ),
        ("runtime.path", "empty: <data_dir>/modules".to_owned()),
        (
            "runtime.bundled_modules",
            "bundled example modules to load by name, * for all; empty: none".to_owned(),
        ),
        (
            "runtime.env",
            "KEY=VALUE; merged across files and flags".to_owned(),
        ),
        (
            "runtime.lua_memory_limit_mb",
            "per Lua VM; 0: no limit".to_owned(),
        ),
        (
            "runtime.lua_instruction_budget",
            "per Lua call or match callback; 0: no limit".to_owned(),
        ),
        (
            "runtime.lua_match_threads",
            "threads running Lua match callbacks; 0: one per CPU".to_owned(),
        ),
        (
            "runtime.js_entrypoint",
            "JavaScript entry file under runtime.path; empty: index.js if present".to_owned(),
        ),
        (
            "runtime.js_memory_limit_mb",
            "per JavaScript VM; 0: no limit".to_owned(),
        ),
        (
            "runtime.js_instruction_budget",
            "jumps and calls per JavaScript call or match callback; 0: no limit".to_owned(),
        ),
        ("socket.response_headers", "Name=Value".to_owned()),
        ("socket.address", "empty: every interface".to_owned()),
        (
            "socket.max_inbound_messages_per_sec",
            "per socket, burst as many; over it the socket is closed; 0: no limit".to_owned(),
        ),
        ("metrics.prometheus_port", "0: off".to_owned()),
        (
            "fleet.odin.app_id",
            "empty: ODIN Fleet adapter off; env ODIN_APP_ID".to_owned(),
        ),
        ("fleet.odin.api_token", "env ODIN_API_TOKEN".to_owned()),
        ("fleet.odin.api_url", "env ODIN_API_URL".to_owned()),
        ("logger.level", words(LogLevel::WORDS)),
        ("logger.format", words(LogFormat::WORDS)),
        ("socket.protocol", words(SocketProtocol::WORDS)),
    ]
}

/// The full help text, ending with a newline.
pub fn help_text() -> String {
    let defaults = serde_json::to_value(Config::default()).unwrap_or(Value::Null);
    let mut text = String::from(
        "Tavern: a game server for Nakama's clients.\n\
         \n\
         Usage:\n\
         \x20 tavern [FLAGS]                    run the server\n\
         \x20 tavern migrate up [FLAGS]         apply database migrations, then exit\n\
         \x20 tavern healthcheck [PORT]         exit 0 if the server on this machine answers\n\
         \x20                                   (PORT defaults to 7350)\n\
         \x20 tavern --version                  print the version\n\
         \x20 tavern -h, --help                 print this help\n\
         \n\
         Configuration: built-in defaults, then each --config file in order, then flags.\n\
         \x20 --config FILE                     a YAML file of sections and keys; may repeat\n\
         \n\
         Keys, as flags (--key VALUE or --key=VALUE; a boolean alone means true;\n\
         repeat a list flag for several values):\n",
    );
    let notes = notes();
    for (key, value) in overlay::leaves(&defaults) {
        let flag = format!("--{key} {}", placeholder(value));
        let mut line = format!("  {flag:<48} default {}", shown_default(value));
        if let Some((_, note)) = notes.iter().find(|(name, _)| *name == key) {
            line.push_str(&format!(" ({note})"));
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

fn placeholder(value: &Value) -> &'static str {
    match Kind::of(value) {
        Kind::Bool => "[BOOL]",
        Kind::Integer => "INT",
        Kind::List => "VALUE...",
        Kind::Section | Kind::Text => "STRING",
    }
}

fn shown_default(value: &Value) -> String {
    match value {
        Value::String(text) => format!("{text:?}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_listed_with_its_default() {
        let text = help_text();
        let defaults = serde_json::to_value(Config::default()).unwrap();
        let leaves = overlay::leaves(&defaults);
        assert!(leaves.len() > 70, "only {} keys", leaves.len());
        for (key, value) in leaves {
            let line = text
                .lines()
                .find(|line| line.trim_start().starts_with(&format!("--{key} ")))
                .unwrap_or_else(|| panic!("--{key} missing from help"));
            assert!(line.contains(&shown_default(value)), "{line}");
        }
        assert!(text.contains("  --socket.port INT"));
        assert!(text.contains("default 7350"));
        assert!(text.contains("tavern migrate up"));
        assert!(text.contains("tavern healthcheck [PORT]"));
        assert!(text.contains("one of: debug, info, warn, error"));
    }

    #[test]
    fn notes_name_real_keys() {
        let defaults = serde_json::to_value(Config::default()).unwrap();
        for (key, _) in notes() {
            assert!(overlay::lookup(&defaults, key).is_some(), "{key}");
        }
    }
}
