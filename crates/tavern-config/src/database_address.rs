//! `database.address` entries: PostgreSQL URLs or Nakama's bare `user:pass@host:port/db` form.
//!
//! Both forms are read the way Nakama reads them: a missing user becomes `root` and a missing
//! database name `nakama`. A missing port is PostgreSQL's usual 5432 (Nakama hands the address
//! to a PostgreSQL driver, which does the same; its documented default address spells out
//! CockroachDB's 26257 explicitly). Query parameters such as `sslmode` are kept.
//!
//! [`DatabaseAddress::url`] gives the connection URL, password included; its `Display` and
//! [`DatabaseAddress::redacted`] hide the password so the address can be logged.

use std::fmt;
use std::str::FromStr;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The port used when an address names none.
pub const DEFAULT_POSTGRES_PORT: u16 = 5432;
/// The user used when an address names none (Nakama's choice).
pub const DEFAULT_USER: &str = "root";
/// The database used when an address names none (Nakama's choice).
pub const DEFAULT_DATABASE: &str = "nakama";

/// Shown in place of a password.
const HIDDEN: &str = "***";

/// One parsed `database.address` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseAddress {
    input: String,
    user: String,
    password: Option<String>,
    host: String,
    port: u16,
    database: String,
    query: String,
}

/// Why an address could not be read. Its text never contains the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid database address {shown:?}: {reason}")]
pub struct DatabaseAddressError {
    shown: String,
    reason: String,
}

impl DatabaseAddress {
    /// Reads `postgres://…`, `postgresql://…` or bare `[user[:password]@]host[:port][/db][?params]`.
    pub fn parse(input: &str) -> Result<Self, DatabaseAddressError> {
        let fail = |reason: &str| DatabaseAddressError {
            shown: hide_password_in_text(input),
            reason: reason.to_owned(),
        };
        if input.is_empty() {
            return Err(fail("it is empty"));
        }
        if input.chars().any(char::is_whitespace) {
            return Err(fail("it contains white space"));
        }
        let rest = match input
            .strip_prefix("postgres://")
            .or_else(|| input.strip_prefix("postgresql://"))
        {
            Some(rest) => rest,
            None if input.contains("://") => {
                return Err(fail(
                    "only postgres:// and postgresql:// URLs are supported",
                ));
            }
            None => input,
        };
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        if rest.contains('#') {
            return Err(fail("a fragment (#) is not allowed"));
        }
        let (authority, database) = rest.split_once('/').unwrap_or((rest, ""));
        if database.contains('/') {
            return Err(fail("the database name cannot contain '/'"));
        }
        let (userinfo, host_port) = authority.rsplit_once('@').unwrap_or(("", authority));
        let (user, password) = match userinfo.split_once(':') {
            Some((user, password)) => (user, Some(password.to_owned())),
            None => (userinfo, None),
        };
        let (host, port) = split_host_port(host_port).map_err(|reason| fail(&reason))?;
        if host.is_empty() {
            return Err(fail("the host is missing"));
        }
        Ok(Self {
            input: input.to_owned(),
            user: if user.is_empty() { DEFAULT_USER } else { user }.to_owned(),
            password,
            host: host.to_owned(),
            port: port.unwrap_or(DEFAULT_POSTGRES_PORT),
            database: if database.is_empty() {
                DEFAULT_DATABASE
            } else {
                database
            }
            .to_owned(),
            query: query.to_owned(),
        })
    }

    /// The address exactly as configured.
    pub fn as_configured(&self) -> &str {
        &self.input
    }

    /// A `postgres://user[:password]@host:port/db[?params]` URL for the driver, password included.
    pub fn url(&self) -> String {
        self.render(false)
    }

    /// The same URL with the password (and any `password=` parameter) replaced by `***`.
    pub fn redacted(&self) -> String {
        self.render(true)
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// Host name or IP address; IPv6 addresses keep their brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    fn render(&self, redact: bool) -> String {
        let mut url = format!("postgres://{}", self.user);
        if let Some(password) = &self.password {
            url.push(':');
            url.push_str(if redact { HIDDEN } else { password });
        }
        url.push_str(&format!("@{}:{}/{}", self.host, self.port, self.database));
        if !self.query.is_empty() {
            url.push('?');
            if redact {
                url.push_str(&hide_password_parameter(&self.query));
            } else {
                url.push_str(&self.query);
            }
        }
        url
    }
}

/// Splits `host[:port]` or `[v6]:port`, checking the port.
fn split_host_port(text: &str) -> Result<(&str, Option<u16>), String> {
    let (host, port) = if text.starts_with('[') {
        let end = text
            .find(']')
            .ok_or_else(|| "an IPv6 host is missing its ']'".to_owned())?;
        let after = &text[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(port) => Some(port),
            None if after.is_empty() => None,
            None => return Err("unexpected text after the IPv6 host".to_owned()),
        };
        (&text[..=end], port)
    } else {
        match text.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    let port = match port {
        None => None,
        Some(port) => match port.parse::<u16>() {
            Ok(port) if port > 0 => Some(port),
            _ => return Err(format!("the port {port:?} is not a number from 1 to 65535")),
        },
    };
    Ok((host, port))
}

/// Replaces the value of any `password=` query parameter with `***`.
fn hide_password_parameter(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if name.eq_ignore_ascii_case("password") => format!("{name}={HIDDEN}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Best-effort hiding of a password in text that did not parse, for error messages.
fn hide_password_in_text(input: &str) -> String {
    let (scheme, rest) = match input.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), input),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, format!("?{}", hide_password_parameter(query))),
        None => (rest, String::new()),
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}{user}:{HIDDEN}@{host}{query}"),
            None => format!("{scheme}{userinfo}@{host}{query}"),
        },
        None => format!("{scheme}{rest}{query}"),
    }
}

impl fmt::Display for DatabaseAddress {
    /// Shows the redacted URL, so addresses can go into logs as they are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl FromStr for DatabaseAddress {
    type Err = DatabaseAddressError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl Serialize for DatabaseAddress {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.input)
    }
}

impl<'de> Deserialize<'de> for DatabaseAddress {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> String {
        DatabaseAddress::parse(text).unwrap().url()
    }

    #[test]
    fn nakama_bare_form() {
        assert_eq!(
            url("root@localhost:26257"),
            "postgres://root@localhost:26257/nakama"
        );
        assert_eq!(
            url("bob:secret@db.example:5433/game"),
            "postgres://bob:secret@db.example:5433/game"
        );
        assert_eq!(url("localhost"), "postgres://root@localhost:5432/nakama");
        assert_eq!(url(":pw@host/x"), "postgres://root:pw@host:5432/x");
    }

    #[test]
    fn url_forms() {
        assert_eq!(
            url("postgres://postgres@127.0.0.1:5432/tavern?sslmode=disable"),
            "postgres://postgres@127.0.0.1:5432/tavern?sslmode=disable"
        );
        assert_eq!(
            url("postgresql://u:p@[::1]:6000/d"),
            "postgres://u:p@[::1]:6000/d"
        );
        assert_eq!(url("postgres://h"), "postgres://root@h:5432/nakama");
    }

    #[test]
    fn accessors() {
        let address = DatabaseAddress::parse("alice:pw@db:7000/app").unwrap();
        assert_eq!(address.user(), "alice");
        assert_eq!(address.password(), Some("pw"));
        assert_eq!(address.host(), "db");
        assert_eq!(address.port(), 7000);
        assert_eq!(address.database(), "app");
        assert_eq!(address.as_configured(), "alice:pw@db:7000/app");
    }

    #[test]
    fn password_never_shown() {
        let address = DatabaseAddress::parse("alice:s3cret@db/app?password=other").unwrap();
        assert_eq!(
            address.redacted(),
            "postgres://alice:***@db:5432/app?password=***"
        );
        assert_eq!(address.to_string(), address.redacted());
        assert!(address.url().contains("s3cret"));
        let no_password = DatabaseAddress::parse("postgres://u@h/d?password=x").unwrap();
        assert_eq!(no_password.redacted(), "postgres://u@h:5432/d?password=***");

        let error = DatabaseAddress::parse("alice:s3cret@db:notaport/app").unwrap_err();
        let text = error.to_string();
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("notaport"), "{text}");
    }

    #[test]
    fn rejects_bad_addresses() {
        for bad in [
            "",
            "mysql://u@h/d",
            "u@h:0/d",
            "u@h:99999/d",
            "u@/d",
            "u@h/d/e",
            "u@[::1/d",
            "u@h d",
        ] {
            assert!(DatabaseAddress::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
