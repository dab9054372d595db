//! The `nakama` functions for UUID bytes, ciphers, signatures, password hashes, tokens and
//! random bytes, over `tavern_runtime::crypto` (Nakama's formats), with Nakama's argument
//! checks. Byte results are Lua strings of raw bytes, as in Nakama.

use mlua::{Lua, LuaString, Table, Value};
use tavern_runtime::crypto;

use super::storage::arg_error;
use crate::convert::to_json;

/// Adds these functions to the module table.
pub(super) fn register(lua: &Lua, nk: &Table) -> mlua::Result<()> {
    nk.set(
        "uuid_bytes_to_string",
        lua.create_function(|_, bytes: LuaString| {
            let bytes = non_empty(
                &bytes,
                1,
                "uuid_bytes_to_string",
                "expects a UUID byte string",
            )?;
            let id = uuid::Uuid::from_slice(&bytes).map_err(|_| {
                arg_error(1, "uuid_bytes_to_string", "not a valid UUID byte string")
            })?;
            Ok(id.to_string())
        })?,
    )?;
    nk.set(
        "uuid_string_to_bytes",
        lua.create_function(|lua, text: LuaString| {
            let text = non_empty(&text, 1, "uuid_string_to_bytes", "expects a UUID string")?;
            let id = std::str::from_utf8(&text)
                .ok()
                .and_then(|t| uuid::Uuid::parse_str(t).ok())
                .ok_or_else(|| arg_error(1, "uuid_string_to_bytes", "not a valid UUID string"))?;
            lua.create_string(id.as_bytes())
        })?,
    )?;
    for (name, key_len, encrypt) in [
        ("aes128_encrypt", 16, true),
        ("aes128_decrypt", 16, false),
        ("aes256_encrypt", 32, true),
        ("aes256_decrypt", 32, false),
    ] {
        nk.set(
            name,
            lua.create_function(move |lua, (input, key): (LuaString, LuaString)| {
                let input = non_empty(&input, 1, name, "expects string")?;
                let key = key.as_bytes();
                if key.len() != key_len {
                    return Err(arg_error(
                        2,
                        name,
                        &format!("expects key {key_len} bytes long"),
                    ));
                }
                let out = if encrypt {
                    crypto::aes_encrypt(&input, &key)
                } else {
                    crypto::aes_decrypt(&input, &key)
                }
                .map_err(|e| mlua::Error::runtime(e.message))?;
                lua.create_string(out)
            })?,
        )?;
    }
    nk.set(
        "rsa_sha256_hash",
        lua.create_function(|lua, (input, key): (LuaString, LuaString)| {
            let input = non_empty(&input, 1, "rsa_sha256_hash", "expects input string")?;
            let key = non_empty(&key, 2, "rsa_sha256_hash", "expects key string")?;
            let signature = crypto::rsa_sha256_sign(&input, &String::from_utf8_lossy(&key))
                .map_err(|e| mlua::Error::runtime(e.message))?;
            lua.create_string(signature)
        })?,
    )?;
    nk.set(
        "bcrypt_hash",
        lua.create_function(|_, input: LuaString| {
            let input = non_empty(&input, 1, "bcrypt_hash", "expects string")?;
            crypto::bcrypt_hash(&input).map_err(|e| mlua::Error::runtime(e.message))
        })?,
    )?;
    nk.set(
        "bcrypt_compare",
        lua.create_function(|_, (hash, plaintext): (LuaString, LuaString)| {
            let hash = non_empty(&hash, 1, "bcrypt_compare", "expects string")?;
            let plaintext = non_empty(&plaintext, 2, "bcrypt_compare", "expects string")?;
            crypto::bcrypt_compare(&String::from_utf8_lossy(&hash), &plaintext)
                .map_err(|e| mlua::Error::runtime(e.message))
        })?,
    )?;
    nk.set(
        "jwt_generate",
        lua.create_function(
            |_, (algorithm, key, claims): (LuaString, LuaString, Value)| {
                let algorithm = non_empty(&algorithm, 1, "jwt_generate", "expects string")?;
                let key = non_empty(&key, 2, "jwt_generate", "expects string")?;
                let Value::Table(_) = claims else {
                    return Err(arg_error(3, "jwt_generate", "expects table"));
                };
                let claims = match to_json(&claims)? {
                    serde_json::Value::Object(map) => map,
                    _ => serde_json::Map::new(),
                };
                crypto::jwt_generate(
                    &String::from_utf8_lossy(&algorithm),
                    &String::from_utf8_lossy(&key),
                    &claims,
                )
                .map_err(|e| mlua::Error::runtime(e.message))
            },
        )?,
    )?;
    nk.set(
        "secure_random_bytes",
        lua.create_function(|lua, count: i64| {
            if !(0..=MAX_RANDOM_BYTES).contains(&count) {
                return Err(arg_error(
                    1,
                    "secure_random_bytes",
                    &format!("expects a count between 0 and {MAX_RANDOM_BYTES}"),
                ));
            }
            lua.create_string(crypto::secure_random_bytes(count as usize))
        })?,
    )?;
    Ok(())
}

/// The most bytes one `secure_random_bytes` call returns.
const MAX_RANDOM_BYTES: i64 = 1 << 20;

/// The bytes of a string argument, refusing the empty string as Nakama does.
fn non_empty(
    value: &LuaString,
    position: usize,
    function: &str,
    message: &str,
) -> mlua::Result<Vec<u8>> {
    let bytes = value.as_bytes().to_vec();
    if bytes.is_empty() {
        return Err(arg_error(position, function, message));
    }
    Ok(bytes)
}
