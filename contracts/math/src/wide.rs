//! Fixed-point primitives on 128/256/512-bit integers (DAMM v2 `math/u128x128_math.rs`, `math/utils_math.rs`),
//! widened so that `u128` amounts and [`U256`] liquidity never overflow an intermediate.
//!
//! Every function is total: a zero divisor or a result that does not fit is an `Err`/`None`, never a panic.

use crate::{MathError, Result};

/// 256-bit unsigned integer.
pub type U256 = ruint::Uint<256, 4>;
/// 512-bit unsigned integer.
pub type U512 = ruint::Uint<512, 8>;

/// Direction of an integer division's rounding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rounding {
    /// Towards +infinity (`ceil`): amounts the user pays.
    Up,
    /// Towards zero (`floor`): amounts the pool pays.
    Down,
}

/// `x` as a 512-bit integer.
#[inline]
pub fn widen(x: U256) -> U512 {
    let l = x.as_limbs();
    U512::from_limbs([l[0], l[1], l[2], l[3], 0, 0, 0, 0])
}

/// `x` as a 256-bit integer, or `None` if it does not fit.
#[inline]
pub fn narrow(x: U512) -> Option<U256> {
    let l = x.as_limbs();
    if l[4] | l[5] | l[6] | l[7] != 0 {
        return None;
    }
    Some(U256::from_limbs([l[0], l[1], l[2], l[3]]))
}

/// `x` as a `u128`.
///
/// # Errors
/// [`MathError::TypeCastFailed`] if `x > u128::MAX`.
#[inline]
pub fn to_u128(x: U256) -> Result<u128> {
    let l = x.as_limbs();
    if l[2] | l[3] != 0 {
        return Err(MathError::TypeCastFailed);
    }
    Ok((l[0] as u128) | ((l[1] as u128) << 64))
}

/// `x` as a `u64`.
///
/// # Errors
/// [`MathError::TypeCastFailed`] if `x > u64::MAX`.
#[inline]
pub fn to_u64(x: U256) -> Result<u64> {
    let l = x.as_limbs();
    if l[1] | l[2] | l[3] != 0 {
        return Err(MathError::TypeCastFailed);
    }
    Ok(l[0])
}

/// `x` as a [`U256`].
#[inline]
pub const fn u256(x: u128) -> U256 {
    U256::from_limbs([x as u64, (x >> 64) as u64, 0, 0])
}

/// Knuth's long division (TAOCP 4.3.1, algorithm D) on little-endian 32-bit digits: `u = q·v + r`.
///
/// One non-generic routine serves every width, so a contract carries a single small copy; 32-bit digits keep
/// every step in native 64-bit arithmetic (WASM has no 128-bit instructions). `u` and `v` may have leading
/// zero digits; `v` must not be zero (callers check). `q` needs `u.len()` digits, `r` `v.len()` digits.
fn div_rem_digits(u: &[u32], v: &[u32], q: &mut [u32], r: &mut [u32]) {
    const B: u64 = 1 << 32;
    q.fill(0);
    r.fill(0);
    let n = v.iter().rposition(|&d| d != 0).map_or(0, |i| i + 1);
    let m = u.iter().rposition(|&d| d != 0).map_or(0, |i| i + 1);
    if n == 0 {
        return;
    }
    if m < n {
        r[..m].copy_from_slice(&u[..m]);
        return;
    }
    if n == 1 {
        let d = v[0] as u64;
        let mut k = 0u64;
        for j in (0..m).rev() {
            let t = (k << 32) | u[j] as u64;
            q[j] = (t / d) as u32;
            k = t % d;
        }
        r[0] = k as u32;
        return;
    }
    // Normalise so the divisor's top digit has its high bit set: quotient digit estimates are then off by at
    // most 2 and corrected below.
    let s = v[n - 1].leading_zeros();
    let shl = |hi: u32, lo: u32| (((hi as u64) << 32 | lo as u64) << s >> 32) as u32;
    let mut vn = [0u32; 16];
    let mut un = [0u32; 17];
    for i in (1..n).rev() {
        vn[i] = shl(v[i], v[i - 1]);
    }
    vn[0] = v[0] << s;
    un[m] = shl(0, u[m - 1]);
    for i in (1..m).rev() {
        un[i] = shl(u[i], u[i - 1]);
    }
    un[0] = u[0] << s;
    let (v1, v2) = (vn[n - 1] as u64, vn[n - 2] as u64);
    for j in (0..=m - n).rev() {
        let top = (un[j + n] as u64) << 32 | un[j + n - 1] as u64;
        let mut qhat = top / v1;
        let mut rhat = top % v1;
        while qhat >= B || qhat * v2 > (rhat << 32 | un[j + n - 2] as u64) {
            qhat -= 1;
            rhat += v1;
            if rhat >= B {
                break;
            }
        }
        // un[j..=j+n] -= qhat · vn. cannot overflow: qhat, vn[i] < 2^32, so qhat·vn[i] + carry < 2^64.
        let (mut carry, mut borrow) = (0u64, 0u64);
        for i in 0..n {
            let p = qhat * vn[i] as u64 + carry;
            carry = p >> 32;
            let t = (un[i + j] as u64)
                .wrapping_sub(p & 0xFFFF_FFFF)
                .wrapping_sub(borrow);
            un[i + j] = t as u32;
            borrow = (t >> 32 != 0) as u64;
        }
        let t = (un[j + n] as u64).wrapping_sub(carry).wrapping_sub(borrow);
        un[j + n] = t as u32;
        q[j] = qhat as u32;
        if t >> 32 != 0 {
            // The estimate was one too large (rare): add the divisor back.
            q[j] = q[j].wrapping_sub(1);
            let mut c = 0u64;
            for i in 0..n {
                let t = un[i + j] as u64 + vn[i] as u64 + c;
                un[i + j] = t as u32;
                c = t >> 32;
            }
            un[j + n] = un[j + n].wrapping_add(c as u32);
        }
    }
    for i in 0..n {
        r[i] = (((un[i + 1] as u64) << 32 | un[i] as u64) >> s) as u32;
    }
}

fn to_digits<const L: usize, const D: usize>(x: &[u64; L]) -> [u32; D] {
    let mut d = [0u32; D];
    for (i, limb) in x.iter().enumerate() {
        d[2 * i] = *limb as u32;
        d[2 * i + 1] = (*limb >> 32) as u32;
    }
    d
}

fn from_digits<const L: usize, const D: usize>(d: &[u32; D]) -> [u64; L] {
    let mut x = [0u64; L];
    for (i, limb) in x.iter_mut().enumerate() {
        *limb = d[2 * i] as u64 | (d[2 * i + 1] as u64) << 32;
    }
    x
}

/// `(n / d, n % d)` for 256-bit operands, or `None` if `d == 0`.
#[inline]
pub fn div_rem(n: U256, d: U256) -> Option<(U256, U256)> {
    if d.is_zero() {
        return None;
    }
    let (mut q, mut r) = ([0u32; 8], [0u32; 8]);
    div_rem_digits(
        &to_digits::<4, 8>(n.as_limbs()),
        &to_digits::<4, 8>(d.as_limbs()),
        &mut q,
        &mut r,
    );
    Some((
        U256::from_limbs(from_digits::<4, 8>(&q)),
        U256::from_limbs(from_digits::<4, 8>(&r)),
    ))
}

/// `(n / d, n % d)` for a 512-bit numerator and a 256-bit divisor, or `None` if `d == 0`.
#[inline]
pub fn div_rem_wide(n: U512, d: U256) -> Option<(U512, U256)> {
    if d.is_zero() {
        return None;
    }
    let (mut q, mut r) = ([0u32; 16], [0u32; 8]);
    div_rem_digits(
        &to_digits::<8, 16>(n.as_limbs()),
        &to_digits::<4, 8>(d.as_limbs()),
        &mut q,
        &mut r,
    );
    Some((
        U512::from_limbs(from_digits::<8, 16>(&q)),
        U256::from_limbs(from_digits::<4, 8>(&r)),
    ))
}

/// `round(n / d)` for 256-bit operands, or `None` if `d == 0`.
#[inline]
pub fn div_round(n: U256, d: U256, rounding: Rounding) -> Option<U256> {
    let (q, r) = div_rem(n, d)?;
    // cannot overflow: r != 0 implies d >= 2, so q <= (2^256 - 1) / 2.
    Some(if rounding == Rounding::Up && !r.is_zero() {
        q + U256::from(1u8)
    } else {
        q
    })
}

/// `round(x * y / d)` with a 512-bit product (`mul_div_u256`).
///
/// Units: any; `Up` = ceil, `Down` = floor.
/// Returns `None` if `d == 0` or the quotient does not fit 256 bits.
#[inline]
pub fn mul_div_u256(x: U256, y: U256, d: U256, rounding: Rounding) -> Option<U256> {
    if d.is_zero() {
        return None;
    }
    if let Some(p) = x.checked_mul(y) {
        // Fast path: the product fits 256 bits.
        return div_round(p, d, rounding);
    }
    let p: U512 = x.widening_mul(y);
    let (q, r) = div_rem_wide(p, d)?;
    let q = if rounding == Rounding::Up && !r.is_zero() {
        q + U512::from(1u8)
    } else {
        q
    };
    narrow(q)
}

/// `round(x * y / d)` on `u128` operands with a 256-bit product, cast back to `u128` (DAMM v2
/// `safe_mul_div_cast_u64`, widened from u64).
///
/// # Errors
/// [`MathError::MathOverflow`] if `d == 0`; [`MathError::TypeCastFailed`] if the result exceeds `u128::MAX`.
#[inline]
pub fn mul_div_u128(x: u128, y: u128, d: u128, rounding: Rounding) -> Result<u128> {
    if d == 0 {
        return Err(MathError::MathOverflow);
    }
    if let Some(p) = x.checked_mul(y) {
        let q = p / d;
        // cannot overflow: q < u128::MAX whenever p % d != 0 (then d >= 2).
        return Ok(if rounding == Rounding::Up && p % d != 0 {
            q + 1
        } else {
            q
        });
    }
    let q = mul_div_u256(u256(x), u256(y), u256(d), rounding).ok_or(MathError::MathOverflow)?;
    to_u128(q)
}

/// `round((x << k) / y)` computed in 256 bits, which must fit `u128` (`shl_div`).
///
/// Returns `None` if `y == 0`, `k > 128`, or the result exceeds `u128::MAX`.
#[inline]
pub fn shl_div(x: u128, y: u128, k: usize, rounding: Rounding) -> Option<u128> {
    if y == 0 || k > 128 {
        return None;
    }
    if k < 128 && x >> (128 - k) == 0 {
        // Fast path: x << k fits 128 bits.
        let n = x << k;
        let q = n / y;
        return Some(if rounding == Rounding::Up && !n.is_multiple_of(y) {
            q + 1
        } else {
            q
        });
    }
    to_u128(div_round(u256(x) << k, u256(y), rounding)?).ok()
}

/// `floor((x << k) / y)` in 256 bits (`shl_div_256`).
///
/// Returns `None` if `y == 0` or `x << k` does not fit 256 bits.
#[inline]
pub fn shl_div_256(x: U256, y: U256, k: usize) -> Option<U256> {
    if y.is_zero() || k >= 256 || (k > 0 && x.leading_zeros() < k) {
        return None;
    }
    Some(div_rem(x << k, y)?.0)
}

/// `floor(x * y / 2^k)` with a 512-bit product, which must fit 256 bits (`mul_shr_256`).
///
/// Returns `None` if the result does not fit 256 bits or `k >= 512`.
#[inline]
pub fn mul_shr_256(x: U256, y: U256, k: usize) -> Option<U256> {
    if k >= 512 {
        return None;
    }
    let p: U512 = x.widening_mul(y);
    narrow(p >> k)
}

/// `floor(sqrt(n))` of a `u64` by Newton's iteration from a power of two above the root: native 64-bit
/// divisions and a few bytes of code (`u64::isqrt`/`u128::isqrt` from core cost ~1 KiB in a contract).
fn sqrt_u64(n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    let mut x = 1u64 << (64 - n.leading_zeros()).div_ceil(2);
    loop {
        // cannot overflow: x <= 2^32 and n / x < 2^33.
        let y = (x + n / x) >> 1;
        if y >= x {
            return x;
        }
        x = y;
    }
}

/// `floor(sqrt(n))`, exact (`sqrt_u256`).
///
/// The root of the top (at most) 64 bits, plus one, shifted back, is a start `x0 >= sqrt(n)` within a relative
/// `2^-31` of the root; Newton's iteration from a start at or above the floor root decreases monotonically to
/// it, here in two or three 256-bit steps (about seven from a plain power of two).
pub fn sqrt_u256(n: U256) -> U256 {
    let bits = 256 - n.leading_zeros();
    if bits <= 64 {
        return U256::from(sqrt_u64(n.as_limbs()[0]));
    }
    // An even shift leaving at most 64 bits.
    let shift = (bits - 63) & !1;
    let top = (n >> shift).as_limbs()[0];
    // cannot overflow: sqrt_u64(top) < 2^32.
    let mut x = U256::from(sqrt_u64(top) + 1) << (shift / 2);
    loop {
        // cannot overflow: sqrt(n) <= x < 2^129 and n / x < 2^128; x > 0.
        let y = (x + div_rem(n, x).map_or(U256::ZERO, |(q, _)| q)) >> 1usize;
        if y >= x {
            return x;
        }
        x = y;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(x: u128) -> U256 {
        u256(x)
    }

    #[test]
    fn mul_div_rounds_both_ways() {
        assert_eq!(mul_div_u256(u(7), u(3), u(2), Rounding::Down), Some(u(10)));
        assert_eq!(mul_div_u256(u(7), u(3), u(2), Rounding::Up), Some(u(11)));
        assert_eq!(mul_div_u256(u(8), u(3), u(2), Rounding::Up), Some(u(12)));
        assert_eq!(mul_div_u256(u(1), u(1), U256::ZERO, Rounding::Down), None);
    }

    #[test]
    fn mul_div_uses_512_bit_product() {
        // (2^255 * 4) / 8 = 2^254: the product needs 258 bits.
        let x = U256::from(1u8) << 255;
        assert_eq!(
            mul_div_u256(x, u(4), u(8), Rounding::Down),
            Some(U256::from(1u8) << 254)
        );
        // Quotient beyond 256 bits.
        assert_eq!(mul_div_u256(x, u(4), u(1), Rounding::Down), None);
        // Rounding up on the 512-bit path: (2^255 * 3) / 2 = 3 * 2^254 exactly; (2^255*3+...)
        let y = U256::MAX;
        assert_eq!(mul_div_u256(y, y, y, Rounding::Up), Some(y));
        assert_eq!(mul_div_u256(y, y - u(1), y, Rounding::Down), Some(y - u(1)));
    }

    #[test]
    fn mul_div_u128_matches_ceil_formula() {
        assert_eq!(mul_div_u128(10, 3, 4, Rounding::Up), Ok(8));
        assert_eq!(mul_div_u128(10, 3, 4, Rounding::Down), Ok(7));
        assert_eq!(
            mul_div_u128(1, 1, 0, Rounding::Down),
            Err(MathError::MathOverflow)
        );
        assert_eq!(
            mul_div_u128(u128::MAX, 2, 1, Rounding::Down),
            Err(MathError::TypeCastFailed)
        );
        assert_eq!(
            mul_div_u128(u128::MAX, u128::MAX, u128::MAX, Rounding::Up),
            Ok(u128::MAX)
        );
    }

    #[test]
    fn shl_div_fits_u128_or_none() {
        assert_eq!(shl_div(1, 1, 64, Rounding::Down), Some(1 << 64));
        assert_eq!(shl_div(1, 3, 64, Rounding::Down), Some((1u128 << 64) / 3));
        assert_eq!(shl_div(1, 3, 64, Rounding::Up), Some((1u128 << 64) / 3 + 1));
        assert_eq!(shl_div(1 << 64, 1, 64, Rounding::Down), None);
        assert_eq!(shl_div(u128::MAX, u128::MAX, 128, Rounding::Down), None);
        assert_eq!(shl_div(5, 0, 64, Rounding::Down), None);
    }

    #[test]
    fn shl_div_256_and_mul_shr() {
        assert_eq!(shl_div_256(u(3), u(2), 128), Some((u(3) << 128) / u(2)));
        assert_eq!(shl_div_256(U256::MAX, u(1), 1), None);
        assert_eq!(shl_div_256(u(1), U256::ZERO, 1), None);
        assert_eq!(
            mul_shr_256(u(1 << 100), u(1 << 100), 72),
            Some(U256::from(1u8) << 128usize)
        );
        assert_eq!(mul_shr_256(U256::MAX, U256::MAX, 0), None);
    }

    #[test]
    fn sqrt_is_exact_floor() {
        for n in [0u128, 1, 2, 3, 4, 15, 16, 17, 1 << 64, (1 << 64) - 1, u128::MAX] {
            let r = sqrt_u256(u(n));
            assert!(r * r <= u(n));
            assert!((r + u(1)) * (r + u(1)) > u(n));
        }
        let r = sqrt_u256(U256::MAX);
        assert_eq!(r, u(u128::MAX));
    }

    #[test]
    fn casts() {
        assert_eq!(to_u128(u(u128::MAX)), Ok(u128::MAX));
        assert_eq!(to_u128(u(u128::MAX) + u(1)), Err(MathError::TypeCastFailed));
        assert_eq!(to_u64(u(u64::MAX as u128)), Ok(u64::MAX));
        assert_eq!(to_u64(u(1 << 64)), Err(MathError::TypeCastFailed));
        assert_eq!(narrow(widen(U256::MAX)), Some(U256::MAX));
    }
}
