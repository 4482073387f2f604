#!/usr/bin/env python3
"""Independent reference model of the dAMM pricing math, for differential testing.

Written from /work/shared/DAMM_V2_MATH.md (Meteoras DAMM v2 math, section by section) and the JSON-lines
interface of /work/shared/VECTORS.md -- not from the Rust crate. Python integers are unbounded, so every
width limit below is an explicit check taken from the description.

Widening (DAMM_V2_MATH.md, "How it applies here"): token amounts are u128 (every u64 guard of DAMM v2 sits at
u128::MAX), liquidity is U256, intermediates are U256/U512. Reward rates are 256-bit in the project (they carry a
u128 total times 2^64), so the rate checks of section 9 are done at 256 bits.

Failures: DAMM v2 returns a named program error, or panics. A panic is a failure too; the project names it
MathOverflow for an arithmetic fault (raw overflow, division by zero) and InvalidInput for a failed assert!
(contracts/math/src/lib.rs, "Failures").

Usage:
    python3 scripts/vectors_ref.py < requests.jsonl > responses.jsonl
    python3 scripts/vectors_ref.py --fill tests/vectors/*.jsonl   # (re)compute the "expect" of test vectors

A test-vector line is {"name": ..., "request": {...}, "expect": {...}}, or {"name", "request_line", "expect"}
with the raw request line as a string (for lines that are not a JSON object).
"""

import json
import math
import re
import sys

# ---------------------------------------------------------------------------------------------------------------
# 1. Constants and fixed-point conventions

MIN_SQRT_PRICE = 4295048016
MAX_SQRT_PRICE = 79226673521066979257578248091
ONE_Q64 = 1 << 64
LIQUIDITY_SCALE = 128
REWARD_RATE_SCALE = 64
TOTAL_REWARD_SCALE = 192
FEE_DENOMINATOR = 1_000_000_000
MAX_BASIS_POINT = 10_000
MAX_FEE_NUMERATOR_V0 = 500_000_000
MAX_FEE_NUMERATOR_V1 = 990_000_000
PROTOCOL_FEE_PERCENT = 20
HOST_FEE_PERCENT = 20
BIN_STEP_BPS_U128_DEFAULT = 1844674407370955
DEAD_LIQUIDITY = 100 << 64

U8_MAX = (1 << 8) - 1
U16_MAX = (1 << 16) - 1
U32_MAX = (1 << 32) - 1
U64_MAX = (1 << 64) - 1
U128_MAX = (1 << 128) - 1
U256_MAX = (1 << 256) - 1

AMOUNT_MAX = U128_MAX  # widened: DAMM v2's u64 amount guards
TIME_MAX = U64_MAX  # timestamps stay u64


class MathError(Exception):
    """A failure, by DAMM v2 error name."""

    def __init__(self, name):
        super().__init__(name)
        self.name = name


def fail(name):
    raise MathError(name)


OVERFLOW = "MathOverflow"
CAST = "TypeCastFailed"
PANIC_ARITH = OVERFLOW  # a raw overflow / division by zero panics in DAMM v2
PANIC_ASSERT = "InvalidInput"  # a failed assert! in DAMM v2


def floor_div(x, y):
    return x // y


def ceil_div(x, y):
    return -((-x) // y)


def checked(value, maximum, error=OVERFLOW):
    """value must lie in [0, maximum] (a checked add/sub/mul of that width)."""
    if value < 0 or value > maximum:
        fail(error)
    return value


def cast(value, maximum):
    """safe_cast: TypeCastFailed if the value does not fit."""
    return checked(value, maximum, CAST)


def mul_div_u256(x, y, d, up):
    """mul_div_u256: U512 product, floor or ceil division; None if d = 0 or the result exceeds U256."""
    if d == 0:
        return None
    q = ceil_div(x * y, d) if up else floor_div(x * y, d)
    return q if q <= U256_MAX else None


def safe_mul_div_cast(x, y, d, up, maximum=AMOUNT_MAX):
    """safe_mul_div_cast_u64 (widened to u128): d = 0 -> MathOverflow, result cast (TypeCastFailed)."""
    if d == 0:
        fail(OVERFLOW)
    q = ceil_div(x * y, d) if up else floor_div(x * y, d)
    return cast(q, maximum)


def isqrt(n):
    return math.isqrt(n)


# ---------------------------------------------------------------------------------------------------------------
# 2. Collect-fee modes and which token pays the fee

BOTH_TOKEN, ONLY_B, COMPOUNDING = 0, 1, 2


def fee_mode(collect_fee_mode, a_to_b):
    """(fees_on_input, fees_on_token_a) from the table of section 2."""
    if collect_fee_mode == BOTH_TOKEN:
        return (False, False) if a_to_b else (False, True)
    return (False, False) if a_to_b else (True, False)


# ---------------------------------------------------------------------------------------------------------------
# 3. Concentrated-liquidity curve math

# 3.1 token A over an interval
def delta_a_unchecked(lower, upper, liquidity, up):
    if lower > upper:
        fail(PANIC_ARITH)  # plain u128 subtraction
    if lower * upper == 0:
        fail(PANIC_ASSERT)  # assert!(lower * upper > 0)
    q = mul_div_u256(liquidity, upper - lower, lower * upper, up)
    if q is None:
        fail(OVERFLOW)
    return q


def delta_a(lower, upper, liquidity, up):
    return checked(delta_a_unchecked(lower, upper, liquidity, up), AMOUNT_MAX)


# 3.2 token B over an interval
def delta_b_unchecked(lower, upper, liquidity, up):
    if lower > upper:
        fail(OVERFLOW)  # checked subtraction
    product = checked(liquidity * (upper - lower), U256_MAX)
    return ceil_div(product, 1 << 128) if up else product >> 128


def delta_b(lower, upper, liquidity, up):
    return checked(delta_b_unchecked(lower, upper, liquidity, up), AMOUNT_MAX)


# 3.3 next sqrt price from an input
def next_sqrt_price_from_amount_in_a_rounding_up(sqrt_price, liquidity, amount):
    denominator = checked(liquidity + amount * sqrt_price, U256_MAX)
    q = mul_div_u256(liquidity, sqrt_price, denominator, True)
    if q is None:
        fail(OVERFLOW)
    return cast(q, U128_MAX)


def next_sqrt_price_from_amount_in_b_rounding_down(sqrt_price, liquidity, amount):
    q = (amount << 128) // liquidity
    return cast(checked(sqrt_price + q, U256_MAX), U128_MAX)


def next_sqrt_price_from_input(sqrt_price, liquidity, amount_in, a_for_b):
    if sqrt_price == 0 or liquidity == 0:
        fail(PANIC_ASSERT)
    if amount_in == 0:
        return sqrt_price
    if a_for_b:
        return next_sqrt_price_from_amount_in_a_rounding_up(sqrt_price, liquidity, amount_in)
    return next_sqrt_price_from_amount_in_b_rounding_down(sqrt_price, liquidity, amount_in)


# 3.4 next sqrt price from an output
def next_sqrt_price_from_amount_out_b_rounding_down(sqrt_price, liquidity, amount):
    return checked(sqrt_price - ceil_div(amount << 128, liquidity), U128_MAX)


def next_sqrt_price_from_amount_out_a_rounding_up(sqrt_price, liquidity, amount):
    denominator = liquidity - amount * sqrt_price
    if denominator <= 0:
        fail(OVERFLOW)  # checked subtraction / zero denominator
    q = mul_div_u256(liquidity, sqrt_price, denominator, True)
    if q is None:
        fail(OVERFLOW)
    return cast(q, U128_MAX)


def next_sqrt_price_from_output(sqrt_price, liquidity, amount_out, a_for_b):
    if sqrt_price == 0 or liquidity == 0:
        fail(PANIC_ASSERT)
    if amount_out == 0:
        return sqrt_price
    if a_for_b:
        return next_sqrt_price_from_amount_out_b_rounding_down(sqrt_price, liquidity, amount_out)
    return next_sqrt_price_from_amount_out_a_rounding_up(sqrt_price, liquidity, amount_out)


# 3.5 swap legs of a concentrated pool: each returns (curve output or input, next sqrt price, amount_left)
def concentrated_a_to_b_from_amount_in(p, x):
    nxt = next_sqrt_price_from_input(p.sqrt_price, p.liquidity, x, True)
    if nxt < p.sqrt_min:
        fail("PriceRangeViolation")
    return delta_b(nxt, p.sqrt_price, p.liquidity, False), nxt, 0


def concentrated_b_to_a_from_amount_in(p, x):
    nxt = next_sqrt_price_from_input(p.sqrt_price, p.liquidity, x, False)
    if nxt > p.sqrt_max:
        fail("PriceRangeViolation")
    return delta_a(p.sqrt_price, nxt, p.liquidity, False), nxt, 0


def concentrated_a_to_b_from_partial_amount_in(p, x):
    # Delta-a "unchecked" is a U256 value; beyond 256 bits it certainly exceeds any u128 input, so it is
    # computed exactly here (only the subtraction and the assert can fail).
    if p.sqrt_min > p.sqrt_price:
        fail(PANIC_ARITH)
    if p.sqrt_min == 0:
        fail(PANIC_ASSERT)
    max_in = ceil_div(p.liquidity * (p.sqrt_price - p.sqrt_min), p.sqrt_min * p.sqrt_price)
    if x >= max_in:
        consumed, nxt = cast(max_in, AMOUNT_MAX), p.sqrt_min
    else:
        consumed, nxt = x, next_sqrt_price_from_input(p.sqrt_price, p.liquidity, x, True)
    return delta_b(nxt, p.sqrt_price, p.liquidity, False), nxt, x - consumed


def concentrated_b_to_a_from_partial_amount_in(p, x):
    # Delta-b "unchecked" is a U256 value; beyond 256 bits it certainly exceeds any u128 input.
    if p.sqrt_price > p.sqrt_max:
        fail(OVERFLOW)
    max_in = ceil_div(p.liquidity * (p.sqrt_max - p.sqrt_price), 1 << 128)
    if x >= max_in:
        consumed, nxt = cast(max_in, AMOUNT_MAX), p.sqrt_max
    else:
        consumed, nxt = x, next_sqrt_price_from_input(p.sqrt_price, p.liquidity, x, False)
    return delta_a(p.sqrt_price, nxt, p.liquidity, False), nxt, x - consumed


def concentrated_a_to_b_from_amount_out(p, y):
    nxt = next_sqrt_price_from_output(p.sqrt_price, p.liquidity, y, True)
    if nxt < p.sqrt_min:
        fail("PriceRangeViolation")
    return delta_a(nxt, p.sqrt_price, p.liquidity, True), nxt


def concentrated_b_to_a_from_amount_out(p, y):
    nxt = next_sqrt_price_from_output(p.sqrt_price, p.liquidity, y, False)
    if nxt > p.sqrt_max:
        fail("PriceRangeViolation")
    return delta_b(p.sqrt_price, nxt, p.liquidity, True), nxt


def concentrated_reserves(p):
    """get_reserves_amount: (Delta-a(P, Pmax, L, Up), Delta-b(Pmin, P, L, Up))."""
    return delta_a(p.sqrt_price, p.sqrt_max, p.liquidity, True), delta_b(p.sqrt_min, p.sqrt_price, p.liquidity, True)


# ---------------------------------------------------------------------------------------------------------------
# 4. Compounding (constant-product) mode

def sqrt_price_from_amounts(a, b):
    if a == 0:
        fail(OVERFLOW)
    return cast(isqrt((b << 128) // a), U128_MAX)


def compounding_a_to_b_from_amount_in(p, x):
    return safe_mul_div_cast(p.token_b, x, checked(p.token_a + x, AMOUNT_MAX), False), 0, 0


def compounding_b_to_a_from_amount_in(p, x):
    return safe_mul_div_cast(p.token_a, x, checked(p.token_b + x, AMOUNT_MAX), False), 0, 0


def compounding_a_to_b_from_amount_out(p, y):
    return safe_mul_div_cast(p.token_a, y, checked(p.token_b - y, AMOUNT_MAX), True), 0


def compounding_b_to_a_from_amount_out(p, y):
    return safe_mul_div_cast(p.token_b, y, checked(p.token_a - y, AMOUNT_MAX), True), 0


def compounding_amounts_for_modify_liquidity(p, delta, up):
    def share(reserve):
        if p.liquidity == 0:
            fail(OVERFLOW)  # Down: MathOverflow; Up: division-by-zero panic
        q = ceil_div(delta * reserve, p.liquidity) if up else delta * reserve // p.liquidity
        return cast(q, AMOUNT_MAX)

    return share(p.token_a), share(p.token_b)


def compounding_initial_pool(sqrt_price, liquidity):
    """(a, b, stored sqrt price, position liquidity)."""
    if liquidity <= DEAD_LIQUIDITY:
        fail("InvalidMinimumLiquidity")
    a = cast(ceil_div(liquidity, sqrt_price), AMOUNT_MAX)
    b = cast(ceil_div(liquidity * sqrt_price, 1 << 128), AMOUNT_MAX)
    return a, b, sqrt_price_from_amounts(a, b), liquidity - DEAD_LIQUIDITY


# ---------------------------------------------------------------------------------------------------------------
# 5.1 Fee primitives

def get_excluded_fee_amount(n, included):
    fee = safe_mul_div_cast(included, n, FEE_DENOMINATOR, True)
    return checked(included - fee, AMOUNT_MAX), fee


def get_included_fee_amount(n, excluded):
    if n >= FEE_DENOMINATOR:
        fail(OVERFLOW)
    included = safe_mul_div_cast(excluded, FEE_DENOMINATOR, FEE_DENOMINATOR - n, True)
    return included, checked(included - excluded, AMOUNT_MAX)


def split_fees(fee, has_referral, protocol_fee_percent, referral_fee_percent, compounding_fee_bps):
    """{claiming, compounding, protocol, referral}: the four add up to fee."""
    protocol = safe_mul_div_cast(fee, protocol_fee_percent, 100, False)
    lp = checked(fee - protocol, AMOUNT_MAX)
    if compounding_fee_bps > 0:
        compounding = safe_mul_div_cast(lp, compounding_fee_bps, MAX_BASIS_POINT, False)
        claiming = checked(lp - compounding, AMOUNT_MAX)
    else:
        compounding, claiming = 0, lp
    referral = safe_mul_div_cast(protocol, referral_fee_percent, 100, False) if has_referral else 0
    protocol = checked(protocol - referral, AMOUNT_MAX)
    return {"claiming_fee": claiming, "compounding_fee": compounding, "protocol_fee": protocol, "referral_fee": referral}


def max_fee_numerator(fee_version):
    if fee_version == 0:
        return MAX_FEE_NUMERATOR_V0
    if fee_version == 1:
        return MAX_FEE_NUMERATOR_V1
    fail("InvalidPoolVersion")


def total_fee_numerator(p):
    """min(base + variable, max_fee_numerator(fee_version)); the sum in u128, then cast to u64."""
    cap = max_fee_numerator(p.fee_version)
    total = checked(variable_fee(p.dyn) + p.base_fee, U128_MAX)
    return min(cast(total, U64_MAX), cap)


# ---------------------------------------------------------------------------------------------------------------
# 6. Dynamic (variable) fee

DYN_FIELDS = [
    ("filter_period", U16_MAX, 0),
    ("decay_period", U16_MAX, 0),
    ("reduction_factor", U16_MAX, 0),
    ("max_volatility_accumulator", U32_MAX, 0),
    ("variable_fee_control", U32_MAX, 0),
    ("bin_step", U16_MAX, 1),
    ("bin_step_u128", U128_MAX, BIN_STEP_BPS_U128_DEFAULT),
    ("volatility_accumulator", U128_MAX, 0),
    ("volatility_reference", U128_MAX, 0),
    ("sqrt_price_reference", U128_MAX, 0),
    ("last_update_timestamp", U64_MAX, 0),
]


class DynamicFee:
    def __init__(self, **fields):
        for name, _, default in DYN_FIELDS:
            setattr(self, name, fields.get(name, default))

    def state(self):
        keys = ["volatility_accumulator", "volatility_reference", "sqrt_price_reference", "last_update_timestamp"]
        return {k: getattr(self, k) for k in keys}


def get_delta_bin_id(bin_step_u128, p1, p2):
    hi, lo = max(p1, p2), min(p1, p2)
    if lo == 0:
        fail(OVERFLOW)
    ratio = checked((hi << 64) // lo, U128_MAX)
    if bin_step_u128 == 0:
        fail(OVERFLOW)
    delta = (ratio - ONE_Q64) // bin_step_u128
    return checked(2 * delta, U128_MAX)


def update_references(d, sqrt_price_current, now):
    elapsed = max(0, now - d.last_update_timestamp)
    if elapsed >= d.filter_period:
        d.sqrt_price_reference = sqrt_price_current
        if elapsed < d.decay_period:
            d.volatility_reference = checked(d.volatility_accumulator * d.reduction_factor, U128_MAX) // 10_000
        else:
            d.volatility_reference = 0


def variable_fee(d):
    """ceil(v * variable_fee_control / 1e11), v = (volatility_accumulator * bin_step)^2; 0 when disabled."""
    if d is None:
        return 0
    v = cast((d.volatility_accumulator * d.bin_step) ** 2, U128_MAX)
    return ceil_div(checked(v * d.variable_fee_control, U128_MAX), 100_000_000_000)


def update_volatility_accumulator(d, sqrt_price_new):
    va = checked(d.volatility_reference + get_delta_bin_id(d.bin_step_u128, sqrt_price_new, d.sqrt_price_reference)
                 * 10_000, U128_MAX)
    d.volatility_accumulator = min(va, d.max_volatility_accumulator)


def update_post_swap(d, old_sqrt_price, new_sqrt_price, now):
    if d is None:
        return
    update_volatility_accumulator(d, new_sqrt_price)
    if get_delta_bin_id(d.bin_step_u128, old_sqrt_price, new_sqrt_price) > 0:
        d.last_update_timestamp = now


# ---------------------------------------------------------------------------------------------------------------
# 5.2-5.5 Swaps on a pool

class Pool:
    """The pricing state of a pool (the fields of the VECTORS.md pool description)."""

    def copy(self):
        c = Pool()
        c.__dict__.update(self.__dict__)
        if self.dyn is not None:
            c.dyn = DynamicFee(**self.dyn.__dict__)
        return c


def leg_from_amount_in(p, a_to_b, x, partial):
    if p.mode == COMPOUNDING:  # no range: a partial fill is an exact input
        return compounding_a_to_b_from_amount_in(p, x) if a_to_b else compounding_b_to_a_from_amount_in(p, x)
    if partial:
        return (concentrated_a_to_b_from_partial_amount_in(p, x) if a_to_b
                else concentrated_b_to_a_from_partial_amount_in(p, x))
    return concentrated_a_to_b_from_amount_in(p, x) if a_to_b else concentrated_b_to_a_from_amount_in(p, x)


def leg_from_amount_out(p, a_to_b, y):
    if p.mode == COMPOUNDING:
        return compounding_a_to_b_from_amount_out(p, y) if a_to_b else compounding_b_to_a_from_amount_out(p, y)
    return concentrated_a_to_b_from_amount_out(p, y) if a_to_b else concentrated_b_to_a_from_amount_out(p, y)


ZERO_FEES = {"claiming_fee": 0, "compounding_fee": 0, "protocol_fee": 0, "referral_fee": 0}


def pool_split(p, fee, has_referral):
    return split_fees(fee, has_referral, p.protocol_pct, p.referral_pct, p.compounding_fee_bps)


def get_swap_result_from_input(p, amount_in, fees_on_input, has_referral, a_to_b, partial):
    """5.2 exact input and 5.3 partial fill."""
    n = total_fee_numerator(p)
    fees = dict(ZERO_FEES)
    x = amount_in
    if fees_on_input:
        x, fee = get_excluded_fee_amount(n, amount_in)
        fees = pool_split(p, fee, has_referral)
    curve_out, nxt, amount_left = leg_from_amount_in(p, a_to_b, x, partial)
    included = amount_in
    if partial and amount_left > 0:
        x = x - amount_left  # consumed
        if fees_on_input:
            n2 = total_fee_numerator(p)
            included, fee = get_included_fee_amount(n2, x)
            fees = pool_split(p, fee, has_referral)
        else:
            included = x
    out = curve_out
    if not fees_on_input:
        out, fee = get_excluded_fee_amount(n, curve_out)
        fees = pool_split(p, fee, has_referral)
    return dict(included_fee_input_amount=included, excluded_fee_input_amount=x, amount_left=amount_left,
                output_amount=out, next_sqrt_price=nxt, **fees)


def get_swap_result_from_exact_output(p, amount_out, fees_on_input, has_referral, a_to_b):
    """5.4 exact output."""
    max_fee_numerator(p.fee_version)
    fees = dict(ZERO_FEES)
    gross_out = amount_out
    if not fees_on_input:
        n = total_fee_numerator(p)
        gross_out, fee = get_included_fee_amount(n, amount_out)
        fees = pool_split(p, fee, has_referral)
    curve_in, nxt = leg_from_amount_out(p, a_to_b, gross_out)
    included = curve_in
    if fees_on_input:
        n = total_fee_numerator(p)
        included, fee = get_included_fee_amount(n, curve_in)
        fees = pool_split(p, fee, has_referral)
    return dict(included_fee_input_amount=included, excluded_fee_input_amount=curve_in, amount_left=0,
                output_amount=amount_out, next_sqrt_price=nxt, **fees)


def apply_swap_result(p, r, fees_on_input, fees_on_token_a, a_to_b, now):
    """5.5, then update_post_swap (section 6)."""
    old_sqrt_price = p.sqrt_price
    if p.liquidity == 0:
        fail(OVERFLOW)
    acc_delta = (r["claiming_fee"] << LIQUIDITY_SCALE) // p.liquidity
    if fees_on_token_a:
        p.protocol_a_fee = checked(p.protocol_a_fee + r["protocol_fee"], AMOUNT_MAX)
        p.fee_a_per_liquidity = checked(p.fee_a_per_liquidity + acc_delta, U256_MAX)
    else:
        p.protocol_b_fee = checked(p.protocol_b_fee + r["protocol_fee"], AMOUNT_MAX)
        p.fee_b_per_liquidity = checked(p.fee_b_per_liquidity + acc_delta, U256_MAX)
    if fees_on_input:
        included_fee_output = r["output_amount"]
    else:
        included_fee_output = checked(r["output_amount"] + r["claiming_fee"] + r["compounding_fee"]
                                      + r["protocol_fee"] + r["referral_fee"], AMOUNT_MAX)
    if a_to_b:
        p.token_a = checked(p.token_a + r["excluded_fee_input_amount"], AMOUNT_MAX)
        p.token_b = checked(p.token_b - included_fee_output, AMOUNT_MAX)
    else:
        p.token_b = checked(p.token_b + r["excluded_fee_input_amount"], AMOUNT_MAX)
        p.token_a = checked(p.token_a - included_fee_output, AMOUNT_MAX)
    p.token_b = checked(p.token_b + r["compounding_fee"], AMOUNT_MAX)
    if p.mode == COMPOUNDING:
        p.sqrt_price = sqrt_price_from_amounts(p.token_a, p.token_b)
    else:
        p.sqrt_price = r["next_sqrt_price"]
    update_post_swap(p.dyn, old_sqrt_price, p.sqrt_price, now)


def swap(pool, kind, a_to_b, amount, has_referral, now):
    """5.6: amount > 0, update_pre_swap, fee mode, result, (partial: something consumed), apply."""
    if amount == 0:
        fail("AmountIsZero")
    p = pool.copy()
    if p.dyn is not None:
        update_references(p.dyn, p.sqrt_price, now)
    fees_on_input, fees_on_token_a = fee_mode(p.mode, a_to_b)
    if kind == "exact_out":
        r = get_swap_result_from_exact_output(p, amount, fees_on_input, has_referral, a_to_b)
    else:
        r = get_swap_result_from_input(p, amount, fees_on_input, has_referral, a_to_b, kind == "partial")
        if kind == "partial" and r["included_fee_input_amount"] == 0:
            fail("AmountIsZero")
    apply_swap_result(p, r, fees_on_input, fees_on_token_a, a_to_b, now)
    r["next_sqrt_price"] = p.sqrt_price
    return r, p, fees_on_input, fees_on_token_a


# ---------------------------------------------------------------------------------------------------------------
# 8. Liquidity add/remove; 4 / 10 initial pool

def amounts_for_modify_liquidity(p, delta, up):
    if p.mode == COMPOUNDING:
        return compounding_amounts_for_modify_liquidity(p, delta, up)
    return delta_a(p.sqrt_price, p.sqrt_max, delta, up), delta_b(p.sqrt_min, p.sqrt_price, delta, up)


def initial_pool(mode, sqrt_price, liquidity, sqrt_min, sqrt_max):
    """(a, b, stored sqrt price, position liquidity, pool liquidity)."""
    if mode == COMPOUNDING:
        ok = sqrt_min == 0 and sqrt_max == U128_MAX and MIN_SQRT_PRICE <= sqrt_price <= MAX_SQRT_PRICE
    else:
        ok = MIN_SQRT_PRICE <= sqrt_min < sqrt_max <= MAX_SQRT_PRICE and sqrt_min <= sqrt_price <= sqrt_max
    if not ok:
        fail("InvalidPriceRange")
    if liquidity == 0:
        fail("InvalidMinimumLiquidity")
    if mode == COMPOUNDING:
        a, b, stored, position = compounding_initial_pool(sqrt_price, liquidity)
    else:
        a = delta_a(sqrt_price, sqrt_max, liquidity, True)
        b = delta_b(sqrt_min, sqrt_price, liquidity, True)
        stored, position = sqrt_price, liquidity
    if a == 0 and b == 0:
        fail("AmountIsZero")
    return a, b, stored, position, liquidity


# ---------------------------------------------------------------------------------------------------------------
# 9. Rewards

REWARD_KEYS = ["reward_rate", "reward_duration_end", "last_update_time", "reward_per_token_stored",
               "cumulative_seconds_with_empty_liquidity_reward"]


def reward_update_rewards(r, liquidity_supply, now):
    until = min(now, r["reward_duration_end"])
    t = checked(until - r["last_update_time"], TIME_MAX)
    if liquidity_supply > 0:
        streamed = checked(t * r["reward_rate"], U256_MAX)
        delta = mul_div_u256(streamed, 1 << LIQUIDITY_SCALE, liquidity_supply, False)
        if delta is None:
            fail(OVERFLOW)
        r["reward_per_token_stored"] = checked(r["reward_per_token_stored"] + delta, U256_MAX)
    else:
        key = "cumulative_seconds_with_empty_liquidity_reward"
        r[key] = checked(r[key] + t, TIME_MAX)
    r["last_update_time"] = until


def position_update_rewards(liquidity, stored, checkpoint, pendings):
    delta = checked(stored - checkpoint, U256_MAX)
    earned = cast((liquidity * delta) >> TOTAL_REWARD_SCALE, AMOUNT_MAX)
    return checked(pendings + earned, AMOUNT_MAX), stored


def streamed_amount(rate, seconds):
    return cast((rate * seconds) >> REWARD_RATE_SCALE, AMOUNT_MAX)


def reward_fund(r, duration, amount, now, liquidity_supply, carry_forward):
    if amount == 0:
        fail("AmountIsZero")
    reward_update_rewards(r, liquidity_supply, now)
    total = amount
    key = "cumulative_seconds_with_empty_liquidity_reward"
    if carry_forward:
        total = checked(total + streamed_amount(r["reward_rate"], r[key]), AMOUNT_MAX)
        r[key] = 0
    elif r[key] != 0:
        fail("MustWithdrawnIneligibleReward")
    # update_rate_after_funding
    if now < r["reward_duration_end"]:
        total = checked(total + streamed_amount(r["reward_rate"], r["reward_duration_end"] - now), AMOUNT_MAX)
    if duration == 0:
        fail(PANIC_ARITH)
    r["reward_rate"] = (total << REWARD_RATE_SCALE) // duration
    r["last_update_time"] = now
    r["reward_duration_end"] = checked(now + duration, TIME_MAX)
    return total


# ---------------------------------------------------------------------------------------------------------------
# The JSON-lines interface (VECTORS.md): request parsing

class BadRequest(Exception):
    pass


TYPES = {"u8": U8_MAX, "u16": U16_MAX, "u32": U32_MAX, "u64": U64_MAX, "u128": U128_MAX, "u256": U256_MAX}
DEC_RE = re.compile(r"[0-9]+\Z")
HEX_RE = re.compile(r"0[xX]([0-9a-fA-F]+)\Z")


def parse_int(v, ty):
    """An integer field: decimal string, 0x hex string or JSON number up to u64. Raises str (the reason)."""
    if isinstance(v, bool):
        raise ValueError("not an integer")
    if isinstance(v, int):
        if v < 0:
            raise ValueError("negative")
        if v > U64_MAX:
            raise ValueError("not a u64 JSON number (use a decimal string)")
        n = v
    elif isinstance(v, float):
        raise ValueError("negative" if v < 0 else "not a u64 JSON number (use a decimal string)")
    elif isinstance(v, str):
        if v.startswith("-"):
            raise ValueError("negative")
        m = HEX_RE.match(v)
        if m:
            digits = m.group(1).lstrip("0")
            n = int(digits, 16) if 0 < len(digits) <= 64 else (0 if not digits else None)
        elif DEC_RE.match(v):
            digits = v.lstrip("0")
            n = int(digits) if 0 < len(digits) <= 78 else (0 if not digits else None)
        else:
            raise ValueError("not an integer")
        if n is None or n > U256_MAX:
            raise ValueError("out of range for " + ty)
    else:
        raise ValueError("not an integer")
    if n > TYPES[ty]:
        raise ValueError("out of range for " + ty)
    return n


class Ctx:
    def __init__(self, obj, prefix=""):
        self.obj, self.prefix = obj, prefix

    def bad(self, key, why):
        raise BadRequest(f"{self.prefix}{key}: {why}")

    def raw(self, key):
        return self.obj.get(key)

    def opt(self, key, ty):
        v = self.raw(key)
        if v is None:
            return None
        try:
            return parse_int(v, ty)
        except ValueError as e:
            self.bad(key, str(e))

    def get(self, key, ty, default):
        v = self.opt(key, ty)
        return default if v is None else v

    def req(self, key, ty):
        v = self.opt(key, ty)
        if v is None:
            self.bad(key, "missing")
        return v

    def opt_bool(self, key):
        v = self.raw(key)
        if v is not None and not isinstance(v, bool):
            self.bad(key, "expected a boolean")
        return v

    def req_bool(self, key):
        v = self.opt_bool(key)
        if v is None:
            self.bad(key, "missing")
        return v

    def req_choice(self, key, choices):
        v = self.raw(key)
        if v is None:
            self.bad(key, "missing")
        if v not in choices or not isinstance(v, str):
            self.bad(key, f'expected "{choices[0]}" or "{choices[1]}"')
        return v

    def opt_obj(self, key):
        v = self.raw(key)
        if v is None:
            return None
        if not isinstance(v, dict):
            self.bad(key, "expected an object")
        return Ctx(v, f"{self.prefix}{key}.")

    def req_obj(self, key):
        c = self.opt_obj(key)
        if c is None:
            self.bad(key, "missing")
        return c


def collect_fee_mode(c):
    mode = c.get("collect_fee_mode", "u8", 0)
    if mode not in (BOTH_TOKEN, ONLY_B, COMPOUNDING):
        fail("InvalidCollectFeeMode")
    return mode


def range_defaults(mode):
    return (0, U128_MAX) if mode == COMPOUNDING else (MIN_SQRT_PRICE, MAX_SQRT_PRICE)


def parse_dynamic_fee(d):
    return DynamicFee(**{name: d.get(name, "u%d" % (m.bit_length()), default) for name, m, default in DYN_FIELDS})


def parse_pool(c, fee_required):
    """The pool description, with the tracked reserves of a concentrated pool back-filled when absent."""
    p = Pool()
    p.mode = collect_fee_mode(c)
    lo, hi = range_defaults(p.mode)
    p.sqrt_price = c.req("sqrt_price", "u128")
    p.liquidity = c.req("liquidity", "u256")
    p.sqrt_min = c.get("sqrt_min", "u128", lo)
    p.sqrt_max = c.get("sqrt_max", "u128", hi)
    if p.mode == COMPOUNDING:
        p.token_a, p.token_b = c.req("token_a_amount", "u128"), c.req("token_b_amount", "u128")
    else:
        p.token_a, p.token_b = c.opt("token_a_amount", "u128"), c.opt("token_b_amount", "u128")
    p.base_fee = c.req("fee_numerator", "u64") if fee_required else c.get("fee_numerator", "u64", 0)
    p.compounding_fee_bps = c.get("compounding_fee_bps", "u16", 0)
    p.protocol_pct = c.get("protocol_fee_percent", "u8", PROTOCOL_FEE_PERCENT)
    p.referral_pct = c.get("referral_fee_percent", "u8", HOST_FEE_PERCENT)
    d = c.opt_obj("dynamic_fee")
    p.dyn = parse_dynamic_fee(d) if d is not None else None
    p.fee_version = c.get("fee_version", "u8", 1)
    p.fee_a_per_liquidity = c.get("fee_a_per_liquidity", "u256", 0)
    p.fee_b_per_liquidity = c.get("fee_b_per_liquidity", "u256", 0)
    p.protocol_a_fee = c.get("protocol_a_fee", "u128", 0)
    p.protocol_b_fee = c.get("protocol_b_fee", "u128", 0)
    return p


def backfill(p):
    if p.token_a is None or p.token_b is None:
        a, b = concentrated_reserves(p)
        p.token_a = a if p.token_a is None else p.token_a
        p.token_b = b if p.token_b is None else p.token_b
    return p


# ---------------------------------------------------------------------------------------------------------------
# Ops

def op_swap(c, kind):
    p = parse_pool(c, True)
    a_to_b = c.req_bool("a_to_b")
    amount = c.req("amount_out" if kind == "exact_out" else "amount_in", "u128")
    has_referral = bool(c.opt_bool("has_referral"))
    now = c.get("current_timestamp", "u64", 0)
    backfill(p)
    r, after, fees_on_input, fees_on_token_a = swap(p, kind, a_to_b, amount, has_referral, now)
    dyn = after.dyn if after.dyn is not None else DynamicFee(bin_step=0, bin_step_u128=0)
    r.update(fees_on_input=fees_on_input, fees_on_token_a=fees_on_token_a, pool_after={
        "sqrt_price": after.sqrt_price, "liquidity": after.liquidity,
        "token_a_amount": after.token_a, "token_b_amount": after.token_b,
        "protocol_a_fee": after.protocol_a_fee, "protocol_b_fee": after.protocol_b_fee,
        "fee_a_per_liquidity": after.fee_a_per_liquidity, "fee_b_per_liquidity": after.fee_b_per_liquidity,
        "dynamic_fee": dyn.state()})
    return r


def op_delta(c, token):
    lower, upper = c.req("lower", "u128"), c.req("upper", "u128")
    liquidity = c.req("liquidity", "u256")
    up = c.req_choice("round", ["up", "down"]) == "up"
    f = delta_a if token == "a" else delta_b
    return {"amount": f(lower, upper, liquidity, up)}


def op_next_sqrt_price(c, from_input):
    sqrt_price, liquidity = c.req("sqrt_price", "u128"), c.req("liquidity", "u256")
    amount = c.req("amount_in" if from_input else "amount_out", "u128")
    a_to_b = c.req_bool("a_to_b")
    f = next_sqrt_price_from_input if from_input else next_sqrt_price_from_output
    return {"next_sqrt_price": f(sqrt_price, liquidity, amount, a_to_b)}


def op_fee_split(c):
    fee = c.req("fee_amount", "u128")
    has_referral = bool(c.opt_bool("has_referral"))
    protocol = c.get("protocol_fee_percent", "u8", PROTOCOL_FEE_PERCENT)
    referral = c.get("referral_fee_percent", "u8", HOST_FEE_PERCENT)
    bps = c.get("compounding_fee_bps", "u16", 0)
    return split_fees(fee, has_referral, protocol, referral, bps)


def op_excluded_fee_amount(c):
    n, included = c.req("fee_numerator", "u64"), c.req("included_fee_amount", "u128")
    excluded, fee = get_excluded_fee_amount(n, included)
    return {"excluded_fee_amount": excluded, "fee": fee}


def op_included_fee_amount(c):
    n, excluded = c.req("fee_numerator", "u64"), c.req("excluded_fee_amount", "u128")
    included, fee = get_included_fee_amount(n, excluded)
    return {"included_fee_amount": included, "fee": fee}


def op_dynamic_fee(c):
    d = parse_dynamic_fee(c.req_obj("dynamic_fee"))
    pre = c.opt_obj("pre_swap")
    if pre is not None:
        pre = (pre.req("sqrt_price", "u128"), pre.req("current_timestamp", "u64"))
    post = c.opt_obj("post_swap")
    if post is not None:
        post = (post.req("old_sqrt_price", "u128"), post.req("sqrt_price", "u128"), post.req("current_timestamp", "u64"))
    base = c.opt("base_fee_numerator", "u64")
    fee_version = c.get("fee_version", "u8", 1)
    before = variable_fee(d)
    if pre is not None:
        update_references(d, *pre)
    if post is not None:
        update_post_swap(d, *post)
    out = {"variable_fee_before": before, "variable_fee": variable_fee(d), "state": d.state()}
    if base is not None:
        p = Pool()
        p.dyn, p.base_fee, p.fee_version = d, base, fee_version
        out["total_fee_numerator"] = total_fee_numerator(p)
    return out


def op_delta_bin_id(c):
    a, b = c.req("sqrt_price_a", "u128"), c.req("sqrt_price_b", "u128")
    step = c.get("bin_step_u128", "u128", BIN_STEP_BPS_U128_DEFAULT)
    return {"delta_bin_id": get_delta_bin_id(step, a, b)}


def op_modify_liquidity(c):
    p = parse_pool(c, False)
    delta = c.req("liquidity_delta", "u256")
    up = c.req_choice("action", ["add", "remove"]) == "add"
    backfill(p)
    a, b = amounts_for_modify_liquidity(p, delta, up)
    return {"token_a_amount": a, "token_b_amount": b}


def op_initial_pool(c):
    mode = collect_fee_mode(c)
    lo, hi = range_defaults(mode)
    sqrt_price, liquidity = c.req("sqrt_price", "u128"), c.req("liquidity", "u256")
    sqrt_min, sqrt_max = c.get("sqrt_min", "u128", lo), c.get("sqrt_max", "u128", hi)
    a, b, stored, position, pool_liquidity = initial_pool(mode, sqrt_price, liquidity, sqrt_min, sqrt_max)
    return {"token_a_amount": a, "token_b_amount": b, "sqrt_price": stored, "position_liquidity": position,
            "pool_liquidity": pool_liquidity}


def op_compounding_sqrt_price(c):
    a, b = c.req("token_a_amount", "u128"), c.req("token_b_amount", "u128")
    return {"sqrt_price": sqrt_price_from_amounts(a, b)}


def parse_reward(c):
    return {
        "reward_rate": c.get("reward_rate", "u256", 0),
        "reward_duration_end": c.get("reward_duration_end", "u64", 0),
        "last_update_time": c.get("last_update_time", "u64", 0),
        "reward_per_token_stored": c.get("reward_per_token_stored", "u256", 0),
        "cumulative_seconds_with_empty_liquidity_reward":
            c.get("cumulative_seconds_with_empty_liquidity_reward", "u64", 0),
    }


def op_reward_update(c):
    r = parse_reward(c)
    liquidity_supply, now = c.req("liquidity_supply", "u256"), c.req("current_time", "u64")
    pos = c.opt_obj("position")
    if pos is not None:
        pos = (pos.req("liquidity", "u256"), pos.get("reward_per_token_checkpoint", "u256", 0),
               pos.get("reward_pendings", "u128", 0))
    reward_update_rewards(r, liquidity_supply, now)
    out = {"reward_info": r}
    if pos is not None:
        liquidity, checkpoint, pendings = pos
        pendings, checkpoint = position_update_rewards(liquidity, r["reward_per_token_stored"], checkpoint, pendings)
        out["position"] = {"reward_pendings": pendings, "reward_per_token_checkpoint": checkpoint}
    return out


def op_reward_fund(c):
    r = parse_reward(c)
    duration = c.req("reward_duration", "u64")
    liquidity_supply, now = c.req("liquidity_supply", "u256"), c.req("current_time", "u64")
    amount = c.req("funding_amount", "u128")
    carry_forward = bool(c.opt_bool("carry_forward"))
    total = reward_fund(r, duration, amount, now, liquidity_supply, carry_forward)
    return {"total_amount": total, "reward_info": r}


OPS = {
    "swap_exact_in": lambda c: op_swap(c, "exact_in"),
    "swap_partial_fill": lambda c: op_swap(c, "partial"),
    "swap_exact_out": lambda c: op_swap(c, "exact_out"),
    "delta_a": lambda c: op_delta(c, "a"),
    "delta_b": lambda c: op_delta(c, "b"),
    "next_sqrt_price_from_input": lambda c: op_next_sqrt_price(c, True),
    "next_sqrt_price_from_output": lambda c: op_next_sqrt_price(c, False),
    "fee_split": op_fee_split,
    "excluded_fee_amount": op_excluded_fee_amount,
    "included_fee_amount": op_included_fee_amount,
    "dynamic_fee": op_dynamic_fee,
    "delta_bin_id": op_delta_bin_id,
    "modify_liquidity": op_modify_liquidity,
    "initial_pool": op_initial_pool,
    "compounding_sqrt_price": op_compounding_sqrt_price,
    "reward_update": op_reward_update,
    "reward_fund": op_reward_fund,
}


def to_json(v):
    """Integers as decimal strings, booleans as booleans."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, dict):
        return {k: to_json(x) for k, x in v.items()}
    return v


def respond(request):
    if not isinstance(request, dict):
        return {"error": "bad request: expected a JSON object"}
    c = Ctx(request)
    op = request.get("op")
    try:
        if op is None:
            c.bad("op", "missing")
        if not isinstance(op, str):
            c.bad("op", "expected a string")
        if op not in OPS:
            c.bad("op", "unknown op")
        return to_json(OPS[op](c))
    except BadRequest as e:
        return {"error": f"bad request: {e}"}
    except MathError as e:
        return {"error": e.name}


def reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def handle(line):
    """One request line -> one response object."""
    try:
        request = json.loads(line, parse_constant=reject_constant)
    except (ValueError, RecursionError):
        return {"error": "bad request: invalid JSON"}
    response = respond(request)
    if isinstance(request, dict) and "id" in request:
        response["id"] = request["id"]
    return response


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def fill(paths):
    """Recompute the "expect" of every test-vector case from its "request"."""
    for path in paths:
        out = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                case = json.loads(line)
                # "request_line": the raw line, for cases that are not a JSON object (invalid JSON, blank line).
                key = "request_line" if "request_line" in case else "request"
                raw = case[key] if key == "request_line" else json.dumps(case[key])
                out.append(json.dumps({"name": case["name"], key: case[key], "expect": handle(raw)},
                                      ensure_ascii=False))
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(out) + "\n")
        print(f"{path}: {len(out)} cases", file=sys.stderr)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--fill":
        fill(sys.argv[2:])
        return
    out = sys.stdout
    for line in sys.stdin.buffer:
        text = line.decode("utf-8", errors="replace")
        text = text[:-1] if text.endswith("\n") else text
        text = text[:-1] if text.endswith("\r") else text
        out.write(dumps(handle(text)) + "\n")
    out.flush()


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        sys.exit(0)
