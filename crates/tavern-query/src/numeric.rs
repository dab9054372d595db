//! Numeric keys: how numbers and date-times are compared.
//!
//! Bluge indexes a number as the order-preserving 64-bit integer made from
//! its IEEE bits, and a date-time as its Unix time in nanoseconds; range
//! queries compare these integers. We keep the same keys, so that ranges over
//! numbers, date-times and odd values (`-0`, infinities) behave as in Nakama.

/// The order-preserving integer key of a float.
pub(crate) fn float_key(f: f64) -> i64 {
    let bits = f.to_bits() as i64;
    if bits < 0 { bits ^ i64::MAX } else { bits }
}

/// The float whose key is `key` (the inverse of [`float_key`]).
pub(crate) fn key_float(key: i64) -> f64 {
    let bits = if key < 0 { key ^ i64::MAX } else { key };
    f64::from_bits(bits as u64)
}

/// The inclusive key interval a numeric range `[min, max]` covers, given as
/// floats with Bluge's conventions: `-inf` / `+inf` leave that end open, and
/// an exclusive end moves the key by one.
pub(crate) fn key_interval(
    min: f64,
    min_inclusive: bool,
    max: f64,
    max_inclusive: bool,
) -> (i64, i64) {
    let mut lo = if min == f64::NEG_INFINITY {
        i64::MIN
    } else {
        float_key(min)
    };
    let mut hi = if max == f64::INFINITY {
        i64::MAX
    } else {
        float_key(max)
    };
    if !min_inclusive && lo != i64::MAX {
        lo += 1;
    }
    if !max_inclusive && hi != i64::MIN {
        hi -= 1;
    }
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_preserve_order() {
        let values = [
            f64::NEG_INFINITY,
            -1e300,
            -5.5,
            -1.0,
            -0.0,
            0.0,
            1e-300,
            1.0,
            5.5,
            1e300,
            f64::INFINITY,
        ];
        for pair in values.windows(2) {
            assert!(float_key(pair[0]) < float_key(pair[1]), "{pair:?}");
        }
        for v in values {
            assert_eq!(key_float(float_key(v)).to_bits(), v.to_bits());
        }
    }

    #[test]
    fn exclusive_ends() {
        assert_eq!(
            key_interval(5.0, false, f64::INFINITY, true),
            (float_key(5.0) + 1, i64::MAX)
        );
        assert_eq!(
            key_interval(f64::NEG_INFINITY, true, 5.0, false),
            (i64::MIN, float_key(5.0) - 1)
        );
    }
}
