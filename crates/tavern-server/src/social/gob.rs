//! Go's `encoding/gob`, as far as Nakama's cursors use it: one struct of booleans, integers,
//! strings and byte strings, encoded by a fresh encoder (its type definition, then the value).
//! Tavern hands out cursors byte for byte as Nakama does, and reads them back.

/// A field's value, with the gob type it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Bool(bool),
    /// Go's signed integers (`int`, `int64`, ...).
    Int(i64),
    /// Go's unsigned integers (`uint8`, `uint64`, ...).
    Uint(u64),
    String(String),
    /// Go's `[]byte`.
    Bytes(Vec<u8>),
}

impl Value {
    /// The id gob predefines for the type.
    fn type_id(&self) -> i64 {
        match self {
            Value::Bool(_) => 1,
            Value::Int(_) => 2,
            Value::Uint(_) => 3,
            Value::Bytes(_) => 5,
            Value::String(_) => 6,
        }
    }

    /// A zero value is left out of an encoded struct.
    fn is_zero(&self) -> bool {
        match self {
            Value::Bool(b) => !b,
            Value::Int(n) => *n == 0,
            Value::Uint(n) => *n == 0,
            Value::String(s) => s.is_empty(),
            Value::Bytes(b) => b.is_empty(),
        }
    }

    /// The zero value of a type id.
    fn zero(type_id: i64) -> Option<Value> {
        Some(match type_id {
            1 => Value::Bool(false),
            2 => Value::Int(0),
            3 => Value::Uint(0),
            5 => Value::Bytes(Vec::new()),
            6 => Value::String(String::new()),
            _ => return None,
        })
    }
}

/// The id of the first type a fresh encoder defines.
const FIRST_TYPE_ID: i64 = 65;

/// Encodes a struct named `name` with these fields, in order, as a fresh Go encoder does.
pub fn encode(name: &str, fields: &[(&str, Value)]) -> Vec<u8> {
    // The type definition: a wireType whose StructT (field 2) is a structType of
    // CommonType {Name, Id} and Field []fieldType {Name, Id}.
    let mut def = Vec::new();
    put_int(&mut def, -FIRST_TYPE_ID);
    put_uint(&mut def, 3); // wireType.StructT
    put_uint(&mut def, 1); // structType.CommonType
    put_uint(&mut def, 1); // CommonType.Name
    put_bytes(&mut def, name.as_bytes());
    put_uint(&mut def, 1); // CommonType.Id
    put_int(&mut def, FIRST_TYPE_ID);
    def.push(0);
    put_uint(&mut def, 1); // structType.Field
    put_uint(&mut def, fields.len() as u64);
    for (field, value) in fields {
        put_uint(&mut def, 1); // fieldType.Name
        put_bytes(&mut def, field.as_bytes());
        put_uint(&mut def, 1); // fieldType.Id
        put_int(&mut def, value.type_id());
        def.push(0);
    }
    def.push(0); // end of structType
    def.push(0); // end of wireType

    let mut value = Vec::new();
    put_int(&mut value, FIRST_TYPE_ID);
    let mut last: i64 = -1;
    for (number, (_, field)) in fields.iter().enumerate() {
        if field.is_zero() {
            continue;
        }
        put_uint(&mut value, (number as i64 - last) as u64);
        last = number as i64;
        match field {
            Value::Bool(b) => put_uint(&mut value, u64::from(*b)),
            Value::Int(n) => put_int(&mut value, *n),
            Value::Uint(n) => put_uint(&mut value, *n),
            Value::String(s) => put_bytes(&mut value, s.as_bytes()),
            Value::Bytes(b) => put_bytes(&mut value, b),
        }
    }
    value.push(0);

    let mut out = Vec::with_capacity(def.len() + value.len() + 4);
    put_uint(&mut out, def.len() as u64);
    out.extend_from_slice(&def);
    put_uint(&mut out, value.len() as u64);
    out.extend_from_slice(&value);
    out
}

/// Decodes what [`encode`] makes for a struct named `name`: the values of `fields` (by name,
/// each with the type of the value given), zero for those the encoder left out. `None` for
/// anything else, including a struct with other fields or types.
pub fn decode(bytes: &[u8], name: &str, fields: &[(&str, Value)]) -> Option<Vec<Value>> {
    let mut input = Reader { bytes, at: 0 };
    // The type definition message.
    let def_len = input.uint()? as usize;
    let mut def = Reader {
        bytes: input.take(def_len)?,
        at: 0,
    };
    let type_id = -def.int()?;
    if type_id < FIRST_TYPE_ID
        || def.uint()? != 3
        || def.uint()? != 1
        || def.uint()? != 1
        || def.bytes()? != name.as_bytes()
        || def.uint()? != 1
        || def.int()? != type_id
        || def.uint()? != 0
        || def.uint()? != 1
    {
        return None;
    }
    let count = def.uint()? as usize;
    if count != fields.len() {
        return None;
    }
    for (field, value) in fields {
        if def.uint()? != 1
            || def.bytes()? != field.as_bytes()
            || def.uint()? != 1
            || def.int()? != value.type_id()
            || def.uint()? != 0
        {
            return None;
        }
    }
    if def.uint()? != 0 || def.uint()? != 0 || !def.done() {
        return None;
    }
    // The value message.
    let value_len = input.uint()? as usize;
    let mut value = Reader {
        bytes: input.take(value_len)?,
        at: 0,
    };
    if !input.done() || value.int()? != type_id {
        return None;
    }
    let mut out: Vec<Value> = fields
        .iter()
        .map(|(_, v)| Value::zero(v.type_id()))
        .collect::<Option<_>>()?;
    let mut number: i64 = -1;
    loop {
        let delta = value.uint()?;
        if delta == 0 {
            break;
        }
        number = number.checked_add(i64::try_from(delta).ok()?)?;
        let slot = out.get_mut(usize::try_from(number).ok()?)?;
        *slot = match slot {
            Value::Bool(_) => Value::Bool(match value.uint()? {
                0 => false,
                1 => true,
                _ => return None,
            }),
            Value::Int(_) => Value::Int(value.int()?),
            Value::Uint(_) => Value::Uint(value.uint()?),
            Value::String(_) => Value::String(String::from_utf8(value.bytes()?.to_vec()).ok()?),
            Value::Bytes(_) => Value::Bytes(value.bytes()?.to_vec()),
        };
    }
    value.done().then_some(out)
}

/// Gob's unsigned integer: one byte below 128, else the negated byte count and big-endian
/// bytes.
fn put_uint(out: &mut Vec<u8>, n: u64) {
    if n < 128 {
        out.push(n as u8);
        return;
    }
    let bytes = n.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    out.push((-((8 - skip) as i8)) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

/// Gob's signed integer: shifted left one bit, complemented when negative, bit 0 the sign.
fn put_int(out: &mut Vec<u8>, n: i64) {
    let u = if n < 0 {
        ((!n as u64) << 1) | 1
    } else {
        (n as u64) << 1
    };
    put_uint(out, u);
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_uint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let slice = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(slice)
    }

    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }

    fn uint(&mut self) -> Option<u64> {
        let first = *self.take(1)?.first()?;
        if first < 128 {
            return Some(u64::from(first));
        }
        let count = (-(first as i8)) as usize;
        if count > 8 {
            return None;
        }
        let mut n: u64 = 0;
        for b in self.take(count)? {
            n = (n << 8) | u64::from(*b);
        }
        Some(n)
    }

    fn int(&mut self) -> Option<i64> {
        let u = self.uint()?;
        Some(if u & 1 == 1 {
            !((u >> 1) as i64)
        } else {
            (u >> 1) as i64
        })
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.uint()?).ok()?;
        self.take(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of Go's gob documentation: `Point{22, 33}` of `type Point struct{X, Y int}`.
    #[test]
    fn matches_the_go_documentations_example() {
        let fields = [("X", Value::Int(22)), ("Y", Value::Int(33))];
        let bytes = encode("Point", &fields);
        let expected: Vec<u8> = [
            "1f ff 81 03 01 01 05 50 6f 69 6e 74 01 ff 82 00 01 02 01 01 58 01 04 00 01 01 59 01 04 00 00 00",
            "07 ff 82 01 2c 01 42 00",
        ]
        .join(" ")
        .split(' ')
        .map(|h| u8::from_str_radix(h, 16).unwrap())
        .collect();
        assert_eq!(bytes, expected);
        assert_eq!(
            decode(&bytes, "Point", &fields).unwrap(),
            fields.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn round_trips_every_kind_and_leaves_zeros_out() {
        let fields = [
            ("A", Value::Uint(2)),
            ("B", Value::String("room".into())),
            ("C", Value::String(String::new())),
            ("D", Value::Int(-1_700_000_000_000_000_000)),
            ("E", Value::Bytes(vec![0, 1, 255])),
            ("F", Value::Bool(true)),
            ("G", Value::Bool(false)),
            ("H", Value::Uint(u64::MAX)),
        ];
        let bytes = encode("cursor", &fields);
        let decoded = decode(&bytes, "cursor", &fields).unwrap();
        assert_eq!(
            decoded,
            fields.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>()
        );
        // Another struct name, other fields, trailing or missing bytes: refused.
        assert!(decode(&bytes, "other", &fields).is_none());
        assert!(decode(&bytes, "cursor", &fields[..7]).is_none());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer, "cursor", &fields).is_none());
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut], "cursor", &fields).is_none());
        }
    }

    #[test]
    fn never_panics_on_garbage() {
        let fields = [("A", Value::Int(0)), ("B", Value::Bytes(Vec::new()))];
        let mut seed: u32 = 7;
        for len in 0..200 {
            let garbage: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    (seed >> 16) as u8
                })
                .collect();
            let _ = decode(&garbage, "x", &fields);
        }
    }
}
