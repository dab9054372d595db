//! Email passwords: bcrypt at Nakama's cost, always off the async workers.

/// Nakama's bcrypt cost; hashes stay interchangeable with a Nakama database.
const BCRYPT_COST: u32 = 13;

/// Hashes a password on the blocking pool.
pub async fn hash(password: String) -> Option<String> {
    tokio::task::spawn_blocking(move || bcrypt::non_truncating_hash(password, BCRYPT_COST).ok())
        .await
        .ok()
        .flatten()
}

/// Checks a password against a stored hash on the blocking pool.
pub async fn verify(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        bcrypt::non_truncating_verify(password, &hash).unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn hashes_verify_and_wrong_passwords_fail() {
        // Cost 4 keeps the test quick; the production cost is exercised by the API tests.
        let hash = bcrypt::hash("password123", 4).unwrap();
        assert!(super::verify("password123".into(), hash.clone()).await);
        assert!(!super::verify("password124".into(), hash).await);
        assert!(!super::verify("x".into(), "not a hash".into()).await);
    }
}
