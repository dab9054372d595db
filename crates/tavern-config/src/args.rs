//! Splitting the command line into `--config` files, dotted key flags, positional words
//! (subcommands and their arguments) and the `--help` / `--version` switches.
//!
//! Flags may appear anywhere, with one or two leading dashes as Go's flag package allows, and
//! take their value as `--key=value` or `--key value`. A boolean key alone means true and takes
//! a following word only if it is one of Go's boolean spellings. Everything after `--` is
//! positional.

use serde_json::Value;

use crate::error::{ConfigError, ErrorKind};
use crate::overlay::{self, Kind};

/// The command line, sorted by role.
#[derive(Debug, Default)]
pub(crate) struct CommandLine {
    pub(crate) files: Vec<String>,
    /// `(dotted key, raw value)` in command-line order.
    pub(crate) flags: Vec<(String, String)>,
    pub(crate) positional: Vec<String>,
    pub(crate) help: bool,
    pub(crate) version: bool,
    /// The first problem found; the split goes on so that `--help` is still seen.
    pub(crate) error: Option<ConfigError>,
}

impl CommandLine {
    /// Splits `args` (without the program name), judging each key's kind from `defaults`.
    pub(crate) fn split(args: Vec<String>, defaults: &Value) -> Self {
        let mut line = Self::default();
        let mut args = args.into_iter().peekable();
        let mut only_positional = false;
        while let Some(arg) = args.next() {
            let name = match flag_name(&arg) {
                Some(name) if !only_positional => name,
                _ => {
                    if arg == "--" && !only_positional {
                        only_positional = true;
                    } else {
                        line.positional.push(arg);
                    }
                    continue;
                }
            };
            let (key, inline) = match name.split_once('=') {
                Some((key, value)) => (key, Some(value.to_owned())),
                None => (name, None),
            };
            let flag = format!("--{key}");
            match key {
                "h" | "help" => line.help = true,
                "version" => line.version = true,
                "config" => match inline.or_else(|| args.next()) {
                    Some(file) => line.files.push(file),
                    None => line.fail(ErrorKind::MissingValue { flag }.into()),
                },
                _ => match overlay::lookup(defaults, key).map(|value| (Kind::of(value), value)) {
                    None => line.fail(overlay::missing_key(key.to_owned(), &Value::Null)),
                    Some((Kind::Section, section)) => line.fail(overlay::not_a_key(key, section)),
                    Some((Kind::Bool, _)) => {
                        let value = inline
                            .or_else(|| args.next_if(|next| overlay::parse_go_bool(next).is_some()))
                            .unwrap_or_else(|| "true".to_owned());
                        line.flags.push((key.to_owned(), value));
                    }
                    Some(_) => match inline.or_else(|| args.next()) {
                        Some(value) => line.flags.push((key.to_owned(), value)),
                        None => line.fail(ErrorKind::MissingValue { flag }.into()),
                    },
                },
            }
        }
        line
    }

    fn fail(&mut self, error: ConfigError) {
        self.error.get_or_insert(error);
    }
}

/// The flag name without its leading dashes, or `None` for a positional word.
fn flag_name(arg: &str) -> Option<&str> {
    let name = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-'))?;
    (!name.is_empty() && !name.starts_with('-')).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn split(args: &[&str]) -> CommandLine {
        let defaults = json!({"s": {"port": 1, "on": false, "name": "x"}});
        CommandLine::split(args.iter().map(|a| a.to_string()).collect(), &defaults)
    }

    #[test]
    fn positional_words_keep_their_order() {
        let line = split(&["migrate", "--s.port", "9", "up", "--", "--s.on"]);
        assert_eq!(line.positional, ["migrate", "up", "--s.on"]);
        assert_eq!(line.flags, [("s.port".to_owned(), "9".to_owned())]);
        assert!(line.error.is_none());
    }

    #[test]
    fn bool_flag_forms() {
        let line = split(&[
            "--s.on",
            "healthcheck",
            "-s.on=false",
            "--s.on",
            "F",
            "--s.on",
            "0",
        ]);
        assert_eq!(line.positional, ["healthcheck"]);
        let values: Vec<_> = line.flags.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(values, ["true", "false", "F", "0"]);
    }

    #[test]
    fn config_help_and_version() {
        let line = split(&["--config", "a.yml", "--config=b.yml", "-h", "--version"]);
        assert_eq!(line.files, ["a.yml", "b.yml"]);
        assert!(line.help && line.version);
    }

    #[test]
    fn problems_are_recorded_but_help_is_still_seen() {
        let line = split(&["--s.prot", "1", "--help"]);
        assert!(line.help);
        assert_eq!(
            line.error.unwrap().to_string(),
            "config error: unknown key \"s.prot\""
        );
        let line = split(&["--s.port"]);
        assert_eq!(
            line.error.unwrap().to_string(),
            "config error: flag --s.port needs a value"
        );
        let line = split(&["--s", "1"]);
        assert_eq!(
            line.error.unwrap().to_string(),
            "config error: \"s\" is a section, not a key; set one of its keys, e.g. --s.name"
        );
    }
}
