//! `bit32`, the Lua 5.2 bit library Nakama gives its Lua modules, written over u32.

use mlua::{Lua, Table, Variadic};

/// A number as Lua 5.2's bit32 reads it: modulo 2^32.
fn word(n: f64) -> u32 {
    (n.trunc().rem_euclid(4_294_967_296.0)) as u32
}

fn shift_left(x: u32, by: i64) -> u32 {
    match by {
        b if b <= -32 || b >= 32 => 0,
        b if b >= 0 => x << b,
        b => x >> -b,
    }
}

/// Builds the `bit32` table.
pub fn table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let fold = |init: u32, op: fn(u32, u32) -> u32| {
        move |_: &Lua, args: Variadic<f64>| {
            Ok(f64::from(
                args.iter().fold(init, |acc, &n| op(acc, word(n))),
            ))
        }
    };
    t.set("band", lua.create_function(fold(u32::MAX, |a, b| a & b))?)?;
    t.set("bor", lua.create_function(fold(0, |a, b| a | b))?)?;
    t.set("bxor", lua.create_function(fold(0, |a, b| a ^ b))?)?;
    t.set(
        "btest",
        lua.create_function(|_, args: Variadic<f64>| {
            Ok(args.iter().fold(u32::MAX, |acc, &n| acc & word(n)) != 0)
        })?,
    )?;
    t.set(
        "bnot",
        lua.create_function(|_, x: f64| Ok(f64::from(!word(x))))?,
    )?;
    t.set(
        "lshift",
        lua.create_function(|_, (x, by): (f64, i64)| Ok(f64::from(shift_left(word(x), by))))?,
    )?;
    t.set(
        "rshift",
        lua.create_function(|_, (x, by): (f64, i64)| Ok(f64::from(shift_left(word(x), -by))))?,
    )?;
    t.set(
        "arshift",
        lua.create_function(|_, (x, by): (f64, i64)| {
            let x = word(x);
            if by < 0 || (x & 0x8000_0000) == 0 {
                return Ok(f64::from(shift_left(x, -by)));
            }
            let by = by.min(31) as u32;
            Ok(f64::from(((x as i32) >> by) as u32))
        })?,
    )?;
    t.set(
        "lrotate",
        lua.create_function(|_, (x, by): (f64, i64)| {
            Ok(f64::from(word(x).rotate_left(by.rem_euclid(32) as u32)))
        })?,
    )?;
    t.set(
        "rrotate",
        lua.create_function(|_, (x, by): (f64, i64)| {
            Ok(f64::from(word(x).rotate_right(by.rem_euclid(32) as u32)))
        })?,
    )?;
    t.set(
        "extract",
        lua.create_function(|_, (x, field, width): (f64, i64, Option<i64>)| {
            let width = width.unwrap_or(1);
            if field < 0 || width <= 0 || field + width > 32 {
                return Err(mlua::Error::runtime("trying to access non-existent bits"));
            }
            let mask = if width == 32 {
                u32::MAX
            } else {
                (1u32 << width) - 1
            };
            Ok(f64::from((word(x) >> field) & mask))
        })?,
    )?;
    t.set(
        "replace",
        lua.create_function(|_, (x, v, field, width): (f64, f64, i64, Option<i64>)| {
            let width = width.unwrap_or(1);
            if field < 0 || width <= 0 || field + width > 32 {
                return Err(mlua::Error::runtime("trying to access non-existent bits"));
            }
            let mask = if width == 32 {
                u32::MAX
            } else {
                (1u32 << width) - 1
            };
            let cleared = word(x) & !(mask << field);
            Ok(f64::from(cleared | ((word(v) & mask) << field)))
        })?,
    )?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    #[test]
    fn bit32_matches_lua_5_2() {
        let lua = mlua::Lua::new();
        lua.globals()
            .set("bit32", super::table(&lua).unwrap())
            .unwrap();
        let ok: bool = lua
            .load(
                "return bit32.band(0xff, 0x0f) == 15 and bit32.bor(1, 2, 4) == 7
                 and bit32.bxor(5, 1) == 4 and bit32.bnot(0) == 4294967295
                 and bit32.lshift(1, 31) == 2147483648 and bit32.rshift(-1, 28) == 15
                 and bit32.arshift(0x80000000, 4) == 0xf8000000 and bit32.lrotate(1, 33) == 2
                 and bit32.extract(0xf0, 4, 4) == 15 and bit32.replace(0, 3, 8, 2) == 768
                 and bit32.btest(2, 3) and not bit32.btest(1, 2)",
            )
            .eval()
            .unwrap();
        assert!(ok);
    }
}
