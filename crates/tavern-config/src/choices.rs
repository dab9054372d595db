//! Keys whose value is one of a few words: `logger.level`, `logger.format`, `socket.protocol`.
//!
//! Each is read without regard to letter case (Nakama lower-cases the log level and format
//! before matching, so `DEBUG` works) and written back in lower case.

use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Defines a word-valued enum with its accepted spellings and serde in both directions.
macro_rules! choice {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $word:literal $(| $alias:literal)*),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            /// Every accepted value, lower case, in order.
            pub const WORDS: &'static [&'static str] = &[$($word),+];

            /// The value as written in configuration, lower case.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $word),+
                }
            }

            /// Reads a value, ignoring letter case; `None` when it is not one of [`Self::WORDS`].
            pub fn parse(text: &str) -> Option<Self> {
                let lower = text.to_ascii_lowercase();
                match lower.as_str() {
                    $($word $(| $alias)* => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Self::parse(&text).ok_or_else(|| {
                    D::Error::custom(format!(
                        "invalid value {text:?}, expected one of {}",
                        Self::WORDS.join(", ")
                    ))
                })
            }
        }
    };
}

choice! {
    /// `logger.level`.
    LogLevel { Debug => "debug", Info => "info", Warn => "warn", Error => "error" }
}

choice! {
    /// `logger.format`; an empty value means JSON, as in Nakama.
    LogFormat { Json => "json" | "", Stackdriver => "stackdriver" }
}

choice! {
    /// `socket.protocol`: both IP versions, IPv4 only, or IPv6 only.
    SocketProtocol { Tcp => "tcp", Tcp4 => "tcp4", Tcp6 => "tcp6" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_ignore_case() {
        assert_eq!(LogLevel::parse("DEBUG"), Some(LogLevel::Debug));
        assert_eq!(LogLevel::parse("Warn"), Some(LogLevel::Warn));
        assert_eq!(LogLevel::parse("verbose"), None);
        assert_eq!(LogLevel::Error.as_str(), "error");
    }

    #[test]
    fn empty_format_is_json() {
        assert_eq!(LogFormat::parse(""), Some(LogFormat::Json));
        assert_eq!(
            LogFormat::parse("StackDriver"),
            Some(LogFormat::Stackdriver)
        );
    }

    #[test]
    fn protocols() {
        assert_eq!(SocketProtocol::parse("TCP6"), Some(SocketProtocol::Tcp6));
        assert_eq!(SocketProtocol::parse("udp"), None);
    }
}
