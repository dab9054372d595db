//! Input rules of the authenticate and account calls, with Nakama's exact messages.

use crate::api::error::ApiError;

/// Control characters or white space (POSIX `[[:cntrl:]]|[[:space:]]`): not allowed in ids.
fn has_invalid_chars(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_ascii_control() || matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c'))
}

/// Control characters, tabs and line breaks: not allowed in usernames (spaces are).
fn has_invalid_username_chars(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_control())
}

/// A device id: 10..128 bytes, no spaces or control characters.
pub fn device_id(id: &str) -> Result<(), ApiError> {
    identifier(id, "Device ID", 10)
}

/// A custom id: 6..128 bytes, no spaces or control characters.
pub fn custom_id(id: &str) -> Result<(), ApiError> {
    identifier(id, "Custom ID", 6)
}

fn identifier(id: &str, what: &str, min: usize) -> Result<(), ApiError> {
    if id.is_empty() {
        Err(ApiError::invalid(format!("{what} is required.")))
    } else if has_invalid_chars(id) {
        Err(ApiError::invalid(format!(
            "{what} invalid, no spaces or control characters allowed."
        )))
    } else if id.len() < min || id.len() > 128 {
        Err(ApiError::invalid(format!(
            "{what} invalid, must be {min}-128 bytes."
        )))
    } else {
        Ok(())
    }
}

/// An email address: no spaces or control characters, `^.+@.+\..+$`, 10..255 bytes.
pub fn email(email: &str) -> Result<(), ApiError> {
    if has_invalid_chars(email) {
        return Err(ApiError::invalid(
            "Invalid email address, no spaces or control characters allowed.",
        ));
    }
    if !looks_like_email(email) {
        return Err(ApiError::invalid("Invalid email address format."));
    }
    if email.len() < 10 || email.len() > 255 {
        return Err(ApiError::invalid(
            "Invalid email address, must be 10-255 bytes.",
        ));
    }
    Ok(())
}

/// `^.+@.+\..+$`: something, an `@`, something, a dot, something.
fn looks_like_email(email: &str) -> bool {
    email.char_indices().any(|(at, c)| {
        c == '@' && at > 0 && {
            let domain = &email[at + 1..];
            domain
                .char_indices()
                .any(|(dot, d)| d == '.' && dot > 0 && dot + 1 < domain.len())
        }
    })
}

/// A password for email accounts: at least 8 bytes.
pub fn password(password: &str) -> Result<(), ApiError> {
    if password.len() < 8 {
        return Err(ApiError::invalid(
            "Password must be at least 8 characters long.",
        ));
    }
    Ok(())
}

/// A username chosen at authentication (empty means "generate one").
pub fn username(username: &str) -> Result<(), ApiError> {
    if has_invalid_username_chars(username) {
        Err(ApiError::invalid(
            "Username invalid, no spaces or control characters allowed.",
        ))
    } else if username.len() > 128 {
        Err(ApiError::invalid("Username invalid, must be 1-128 bytes."))
    } else {
        Ok(())
    }
}

/// Ten random ASCII letters, as Nakama generates them.
pub fn generate_username() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut rng = rand::rng();
    (0..10)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(r: Result<(), ApiError>) -> String {
        r.unwrap_err().message
    }

    #[test]
    fn device_ids() {
        assert!(device_id("0123456789abcdef").is_ok());
        assert_eq!(message(device_id("")), "Device ID is required.");
        assert_eq!(
            message(device_id("short")),
            "Device ID invalid, must be 10-128 bytes."
        );
        assert_eq!(
            message(device_id("has a space in it")),
            "Device ID invalid, no spaces or control characters allowed."
        );
        assert_eq!(
            message(device_id("tab\there-0123")),
            "Device ID invalid, no spaces or control characters allowed."
        );
        assert!(device_id(&"x".repeat(128)).is_ok());
        assert!(device_id(&"x".repeat(129)).is_err());
    }

    #[test]
    fn custom_ids() {
        assert!(custom_id("cid-000000").is_ok());
        assert_eq!(message(custom_id("")), "Custom ID is required.");
        assert_eq!(
            message(custom_id("abc")),
            "Custom ID invalid, must be 6-128 bytes."
        );
    }

    #[test]
    fn emails() {
        assert!(email("vec@example.com").is_ok());
        assert_eq!(
            message(email("a@b.com")),
            "Invalid email address, must be 10-255 bytes."
        );
        assert_eq!(
            message(email("no-at-sign.example.com")),
            "Invalid email address format."
        );
        assert_eq!(
            message(email("user@nodotcom")),
            "Invalid email address format."
        );
        assert_eq!(
            message(email("a b@example.com")),
            "Invalid email address, no spaces or control characters allowed."
        );
        assert!(looks_like_email("a@b.c"));
        assert!(!looks_like_email("@b.c"));
        assert!(!looks_like_email("a@.c"));
        assert!(!looks_like_email("a@b."));
    }

    #[test]
    fn passwords_and_usernames() {
        assert_eq!(
            message(password("short")),
            "Password must be at least 8 characters long."
        );
        assert!(password("password").is_ok());
        assert!(username("with space").is_ok());
        assert_eq!(
            message(username("new\nline")),
            "Username invalid, no spaces or control characters allowed."
        );
        assert_eq!(
            message(username(&"u".repeat(129))),
            "Username invalid, must be 1-128 bytes."
        );
    }

    #[test]
    fn generated_usernames_are_ten_letters() {
        let name = generate_username();
        assert_eq!(name.len(), 10);
        assert!(name.chars().all(|c| c.is_ascii_alphabetic()));
    }
}
