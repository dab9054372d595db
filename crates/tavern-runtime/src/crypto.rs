//! The cryptographic helpers Nakama's runtimes give game code, with Nakama's exact formats so
//! data produced by a Nakama module can be read by the same module on Tavern and back:
//!
//! * AES in CFB mode, the 16-byte IV first, the clear text padded with spaces to a multiple of
//!   four bytes before encryption (what Nakama's `aes128_encrypt`/`aes256_encrypt` do);
//! * an RSA PKCS #1 v1.5 signature of the SHA-256 of the input, from a PKCS #1 PEM key;
//! * bcrypt at Nakama's cost (10);
//! * JSON Web Tokens signed with HS256 or RS256.
//!
//! Lua and JavaScript modules reach them as `nk` functions; Rust modules call them directly.

use aes::cipher::{AsyncStreamCipher, KeyIvInit};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::signature::{SignatureEncoding, Signer};

use crate::RuntimeError;

/// Nakama's bcrypt cost for `bcrypt_hash`.
pub const BCRYPT_COST: u32 = 10;

const AES_BLOCK: usize = 16;

/// Encrypts `input` with AES-128 (16-byte key) or AES-256 (32-byte key) in CFB mode: a random
/// IV followed by the cipher text of the input padded with spaces to a multiple of four bytes.
pub fn aes_encrypt(input: &[u8], key: &[u8]) -> Result<Vec<u8>, RuntimeError> {
    let mut out = Vec::with_capacity(AES_BLOCK + input.len() + 3);
    let mut iv = [0u8; AES_BLOCK];
    rand::fill(&mut iv);
    out.extend_from_slice(&iv);
    out.extend_from_slice(input);
    while !(out.len() - AES_BLOCK).is_multiple_of(4) {
        out.push(b' ');
    }
    let body = &mut out[AES_BLOCK..];
    match key.len() {
        16 => cfb_mode::Encryptor::<aes::Aes128>::new(key.into(), &iv.into()).encrypt(body),
        32 => cfb_mode::Encryptor::<aes::Aes256>::new(key.into(), &iv.into()).encrypt(body),
        n => return Err(key_length_error(n)),
    }
    Ok(out)
}

/// Decrypts what [`aes_encrypt`] produced (the padding spaces stay, as in Nakama).
pub fn aes_decrypt(input: &[u8], key: &[u8]) -> Result<Vec<u8>, RuntimeError> {
    if !matches!(key.len(), 16 | 32) {
        return Err(key_length_error(key.len()));
    }
    if input.len() < AES_BLOCK {
        return Err(RuntimeError::invalid_argument("input too short"));
    }
    let (iv, body) = input.split_at(AES_BLOCK);
    let mut clear = body.to_vec();
    if key.len() == 16 {
        cfb_mode::Decryptor::<aes::Aes128>::new(key.into(), iv.into()).decrypt(&mut clear);
    } else {
        cfb_mode::Decryptor::<aes::Aes256>::new(key.into(), iv.into()).decrypt(&mut clear);
    }
    Ok(clear)
}

fn key_length_error(len: usize) -> RuntimeError {
    RuntimeError::invalid_argument(format!("expects key 16 or 32 bytes long, got {len} bytes"))
}

/// Signs the SHA-256 of `input` with an RSA private key in PKCS #1 PEM form
/// (`-----BEGIN RSA PRIVATE KEY-----`); the raw signature bytes.
pub fn rsa_sha256_sign(input: &[u8], private_key_pem: &str) -> Result<Vec<u8>, RuntimeError> {
    let key = rsa::RsaPrivateKey::from_pkcs1_pem(private_key_pem)
        .map_err(|e| RuntimeError::invalid_argument(format!("error parsing key: {e}")))?;
    let signer = rsa::pkcs1v15::SigningKey::<rsa::sha2::Sha256>::new(key);
    Ok(signer.sign(input).to_vec())
}

/// A bcrypt hash of `input` at Nakama's cost. Slow by design: call it off async workers.
pub fn bcrypt_hash(input: &[u8]) -> Result<String, RuntimeError> {
    bcrypt::non_truncating_hash(input, BCRYPT_COST)
        .map_err(|e| RuntimeError::internal(format!("error hashing input: {e}")))
}

/// Whether `plaintext` matches a bcrypt `hash`; a malformed hash is an error, as in Nakama.
pub fn bcrypt_compare(hash: &str, plaintext: &[u8]) -> Result<bool, RuntimeError> {
    match bcrypt::non_truncating_verify(plaintext, hash) {
        Ok(matches) => Ok(matches),
        Err(bcrypt::BcryptError::Truncation(_)) => Ok(false),
        Err(e) => Err(RuntimeError::invalid_argument(format!(
            "error comparing hash and plaintext: {e}"
        ))),
    }
}

/// A JSON Web Token with `claims`, signed with `HS256` (the key is the secret) or `RS256` (the
/// key is an RSA private key in PEM, PKCS #1 or PKCS #8).
pub fn jwt_generate(
    algorithm: &str,
    key: &str,
    claims: &serde_json::Map<String, serde_json::Value>,
) -> Result<String, RuntimeError> {
    let (algorithm, key) = match algorithm {
        "HS256" => (
            jsonwebtoken::Algorithm::HS256,
            jsonwebtoken::EncodingKey::from_secret(key.as_bytes()),
        ),
        "RS256" => (
            jsonwebtoken::Algorithm::RS256,
            jsonwebtoken::EncodingKey::from_rsa_der(rsa_private_key_der(key)?.as_bytes()),
        ),
        _ => {
            return Err(RuntimeError::invalid_argument(
                "unsupported algo type - only allowed 'HS256', 'RS256'.",
            ));
        }
    };
    jsonwebtoken::encode(&jsonwebtoken::Header::new(algorithm), claims, &key)
        .map_err(|e| RuntimeError::internal(format!("failed to sign token: {e}")))
}

/// The PKCS #1 DER form of an RSA private key given in PEM, PKCS #8 or PKCS #1.
fn rsa_private_key_der(pem: &str) -> Result<rsa::pkcs1::der::SecretDocument, RuntimeError> {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(pem))
        .map_err(|e| RuntimeError::invalid_argument(format!("could not parse private key: {e}")))?;
    key.to_pkcs1_der()
        .map_err(|e| RuntimeError::internal(format!("could not encode private key: {e}")))
}

/// `count` bytes from the operating system's secure random source.
pub fn secure_random_bytes(count: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; count];
    rand::fill(bytes.as_mut_slice());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aes_round_trips_with_nakama_padding() {
        for key in [&[7u8; 16][..], &[9u8; 32][..]] {
            let sealed = aes_encrypt(b"hello", key).unwrap();
            assert_eq!(sealed.len(), 16 + 8);
            assert_eq!(aes_decrypt(&sealed, key).unwrap(), b"hello   ");
        }
        assert!(aes_encrypt(b"x", &[0u8; 10]).is_err());
        assert!(aes_decrypt(b"short", &[0u8; 16]).is_err());
    }

    /// A throw-away 1024-bit key made with `openssl genrsa -traditional`; the expected signature
    /// is `printf hello | openssl dgst -sha256 -sign key.pem | base64`.
    const TEST_KEY: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIICXgIBAAKBgQDP1OlhWppm+tNIMoVHk/AkOOhWVib7A7Yg/UO+CNC9+iMzBDhO\njfRefYMGC7BysuASvSl3A6n3ZyVfZ/NKpxObn4R0a83dErbRRVEixlGcN8X5HD0T\ntRvsvxsQUBEUPxJRm60887x8ViWclC4cyhEB3nKc79kqbJD5nJUJBbtKxQIDAQAB\nAoGAcUKDaMWabVJ1v9ugXHCXpvXIT/ylQ5gzMekzeKWPNGjTs+Kx2MVtjezycWH/\nZ5JpoGyr4ysA/k2cxVB9+onwmZt98CjpV5qx9PYo5XhVLmStMJZiJKAyYtSc3Nzd\nehQoo3mnIRw7D6ak9msfjJQTHamA5zpQGW1xjBRogU/IymECQQD5LS84YsdNjwzT\nVrvc04qjsGhNvH3M9WJW1SznongGgCpXXiMffXiL5WSTCtc9hsnltdbiRhMFlAQ6\nzV4P8m1ZAkEA1YXiqIJBSTKUNj4DCmq7VCK3fqAo8EsL3bEdtMDC7hWmfK4KdWgx\n6tTfW+PnHXu7+kRriv7RqY5iJ40fbbO/TQJBAMeEgpbnoSZdMKvYezxqtkwzaJE2\nKJUAtulIcFhZIzoxTbX/TqhcUzXRTCLhP0+oqekhHRq5eWmyB2D+KB8kwqECQQDD\nXn62ioAr9oCQZQspM+F1qVJWJTtwKmqQDShOI/X4HI06FZDyPkU2RlKc5Jmqa3Xj\nF0mDY4b5apM69zBjkw0dAkEArVCN09rDpDYvk+Tp6/qw0cj6g99Ak/XgFOtxl9mW\nsUXrUOeWH5was66wch1vDJ0sKpCvqw8EW+wACkagjNq1Nw==\n-----END RSA PRIVATE KEY-----";

    #[test]
    fn rsa_signature_matches_openssl() {
        use base64::Engine;
        let signature = rsa_sha256_sign(b"hello", TEST_KEY).unwrap();
        assert_eq!(
            base64::engine::general_purpose::STANDARD.encode(signature),
            "lgw3h2k5fMA+wg5oXbJ0uhKV7xgmdUXtZaIh8cepXaSuph+Z9pZHOVGB+JG/mDbvXZHNg56K/Y2yijzNtSIlgN1GROJCdQbr0iyjE++s3v/X6w+xLWOGXE7CL4APIvRH/Tlil6HQ93wgcGxcoMkGOs8VZ+scl6McPVV8M1vu6UQ="
        );
        assert!(rsa_sha256_sign(b"hello", "not a key").is_err());
        let claims = serde_json::Map::new();
        assert_eq!(
            jwt_generate("RS256", TEST_KEY, &claims)
                .unwrap()
                .split('.')
                .count(),
            3
        );
    }

    #[test]
    fn bcrypt_compares() {
        let hash = bcrypt::non_truncating_hash("secret", 4).unwrap();
        assert!(bcrypt_compare(&hash, b"secret").unwrap());
        assert!(!bcrypt_compare(&hash, b"other").unwrap());
        assert!(bcrypt_compare("not a hash", b"x").is_err());
    }

    #[test]
    fn jwt_hs256_verifies() {
        let mut claims = serde_json::Map::new();
        claims.insert("sub".into(), "player".into());
        let token = jwt_generate("HS256", "k", &claims).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let data = jsonwebtoken::decode::<serde_json::Value>(
            &token,
            &jsonwebtoken::DecodingKey::from_secret(b"k"),
            &validation,
        )
        .unwrap();
        assert_eq!(data.claims["sub"], "player");
        assert!(jwt_generate("ES256", "k", &claims).is_err());
    }
}
