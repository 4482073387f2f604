//! The math-vectors program: evaluates the pricing math on JSON-lines requests (the interface of
//! `VECTORS.md`), so that its results can be compared input for input with any other DAMM v2 implementation.
//!
//! ```text
//! cargo run --release -p damm-math --example vectors < requests.jsonl > responses.jsonl
//! ```
//!
//! One response object per input line, in order (a blank or unparsable line gets a `bad request` response).
//! Integers are read as decimal strings, JSON numbers up to `u64::MAX` or `"0x…"` hex (accepted for every
//! integer field, not only the 256-bit ones), and written as decimal strings; `null` counts as an absent field
//! and unknown fields are ignored. Math failures are `{"error":"<MathError name>"}`; malformed requests are
//! `{"error":"bad request: <field>: <why>"}`. An `"id"` field is echoed unchanged.
//!
//! Choices where `VECTORS.md` is silent: `fee_numerator` is required by the swap ops (defaults to 0 for
//! `modify_liquidity`); `fee_split` defaults like the pool description (20 / 20 / 0 bps, no referral);
//! `delta_bin_id` defaults `bin_step_u128` to 1844674407370955; the reward-state fields of `reward_update` /
//! `reward_fund` and the position's checkpoint and pending amount default to 0; `a_to_b`, the amounts,
//! `round`, `action` and the op's other inputs are required.
//!
//! Parsing order (which error wins when a request has several problems): the op's own fields in the order
//! of `VECTORS.md`, the pool description first for the pool ops; math failures only after everything parsed.
// Also compiled as a module of `tests/vectors.rs`, where `main` is unused and `pub` is crate-private.
#![allow(missing_docs, unreachable_pub)]

use std::io::{self, BufRead, BufReader, Write};

use damm_math::{
    compounding::sqrt_price_from_amounts,
    constants::{BIN_STEP_BPS_U128_DEFAULT, MAX_SQRT_PRICE, MIN_SQRT_PRICE},
    curve::{delta_a, delta_b, next_sqrt_price_from_input, next_sqrt_price_from_output},
    dynamic_fee::delta_bin_id,
    fee::{excluded_fee_amount, included_fee_amount, split_fees},
    liquidity::{initial_pool, LiquidityAction},
    CollectFeeMode, DynamicFee, MathError, PoolFees, PoolState, PositionReward, RewardInfo, Rounding,
    SwapMode, SwapParams, TradeDirection, U256,
};
use serde_json::{Map, Value};

type Obj = Map<String, Value>;

/// Why a request produced no result.
enum Fail {
    /// The request could not be parsed: `bad request: <message>`.
    Bad(String),
    /// The math failed.
    Math(MathError),
}

impl From<MathError> for Fail {
    fn from(e: MathError) -> Self {
        Self::Math(e)
    }
}

type R<T> = Result<T, Fail>;

fn bad<T>(field: &str, why: &str) -> R<T> {
    Err(Fail::Bad(format!("{field}: {why}")))
}

// ---------------------------------------------------------------------------------------------------------
// Field parsing

/// An unsigned integer type a request field can have.
trait Int: Sized + Copy {
    const BITS: usize;
    const NAME: &'static str;
    /// `v` must fit (checked by the caller).
    fn from_u256(v: U256) -> Self;
}

fn low_u128(v: U256) -> u128 {
    let l = v.as_limbs();
    (l[0] as u128) | ((l[1] as u128) << 64)
}

macro_rules! int_type {
    ($t:ty, $bits:expr, $name:expr) => {
        impl Int for $t {
            const BITS: usize = $bits;
            const NAME: &'static str = $name;
            fn from_u256(v: U256) -> Self {
                low_u128(v) as $t
            }
        }
    };
}
int_type!(u8, 8, "u8");
int_type!(u16, 16, "u16");
int_type!(u32, 32, "u32");
int_type!(u64, 64, "u64");
int_type!(u128, 128, "u128");

impl Int for U256 {
    const BITS: usize = 256;
    const NAME: &'static str = "u256";
    fn from_u256(v: U256) -> Self {
        v
    }
}

/// A decimal or `0x` hex string as a 256-bit value; `Ok(None)` if it is an integer beyond 256 bits.
fn parse_uint_str(s: &str) -> Result<Option<U256>, &'static str> {
    if s.starts_with('-') {
        return Err("negative");
    }
    let (digits, radix) = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => (h, 16u32),
        None => (s, 10u32),
    };
    if digits.is_empty() {
        return Err("not an integer");
    }
    let mut acc = Some(U256::ZERO);
    for ch in digits.chars() {
        let d = ch.to_digit(radix).ok_or("not an integer")?;
        acc = acc
            .and_then(|a| a.checked_mul(U256::from(radix)))
            .and_then(|a| a.checked_add(U256::from(d)));
    }
    Ok(acc)
}

/// A JSON value as an integer of type `T`.
fn parse_int<T: Int>(v: &Value) -> Result<T, String> {
    let n = match v {
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Some(U256::from(u))
            } else if n.as_i64().is_some_and(|i| i < 0) || n.as_f64().is_some_and(|f| f < 0.0) {
                return Err("negative".into());
            } else {
                return Err("not a u64 JSON number (use a decimal string)".into());
            }
        }
        Value::String(s) => parse_uint_str(s)?,
        _ => return Err("not an integer".into()),
    };
    match n {
        Some(n) if n.bit_len() <= T::BITS => Ok(T::from_u256(n)),
        _ => Err(format!("out of range for {}", T::NAME)),
    }
}

/// A JSON object being read, with the path used in error messages (`dynamic_fee.` for nested objects).
struct Ctx<'a> {
    obj: &'a Obj,
    prefix: String,
}

impl<'a> Ctx<'a> {
    fn new(obj: &'a Obj, prefix: String) -> Self {
        Self { obj, prefix }
    }

    fn name(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// The field's value; `null` counts as absent.
    fn raw(&self, key: &str) -> Option<&'a Value> {
        self.obj.get(key).filter(|v| !v.is_null())
    }

    fn opt<T: Int>(&self, key: &str) -> R<Option<T>> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) => parse_int::<T>(v)
                .map(Some)
                .or_else(|why| bad(&self.name(key), &why)),
        }
    }

    fn or<T: Int>(&self, key: &str, default: T) -> R<T> {
        Ok(self.opt(key)?.unwrap_or(default))
    }

    fn req<T: Int>(&self, key: &str) -> R<T> {
        match self.opt(key)? {
            Some(v) => Ok(v),
            None => bad(&self.name(key), "missing"),
        }
    }

    fn opt_bool(&self, key: &str) -> R<Option<bool>> {
        match self.raw(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => bad(&self.name(key), "expected a boolean"),
        }
    }

    fn bool_or(&self, key: &str, default: bool) -> R<bool> {
        Ok(self.opt_bool(key)?.unwrap_or(default))
    }

    fn req_bool(&self, key: &str) -> R<bool> {
        match self.opt_bool(key)? {
            Some(b) => Ok(b),
            None => bad(&self.name(key), "missing"),
        }
    }

    /// A string field restricted to `choices`.
    fn req_choice(&self, key: &str, choices: [&'static str; 2]) -> R<&'static str> {
        match self.raw(key) {
            None => bad(&self.name(key), "missing"),
            Some(Value::String(s)) if choices.contains(&s.as_str()) => {
                Ok(if s == choices[0] { choices[0] } else { choices[1] })
            }
            Some(_) => bad(
                &self.name(key),
                &format!("expected \"{}\" or \"{}\"", choices[0], choices[1]),
            ),
        }
    }

    fn opt_obj(&self, key: &str) -> R<Option<Ctx<'a>>> {
        match self.raw(key) {
            None => Ok(None),
            Some(Value::Object(o)) => Ok(Some(Ctx::new(o, format!("{}.", self.name(key))))),
            Some(_) => bad(&self.name(key), "expected an object"),
        }
    }

    fn req_obj(&self, key: &str) -> R<Ctx<'a>> {
        match self.opt_obj(key)? {
            Some(c) => Ok(c),
            None => bad(&self.name(key), "missing"),
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Response building

fn s<T: ToString>(x: T) -> Value {
    Value::String(x.to_string())
}

fn obj<const N: usize>(fields: [(&str, Value); N]) -> Obj {
    fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

// ---------------------------------------------------------------------------------------------------------
// Pool description

fn collect_fee_mode(c: &Ctx<'_>) -> R<CollectFeeMode> {
    let mode: u8 = c.or("collect_fee_mode", 0)?;
    Ok(CollectFeeMode::try_from(mode)?)
}

/// Range defaults: MIN/MAX_SQRT_PRICE for concentrated pools, 0 / u128::MAX for compounding pools.
fn range_defaults(mode: CollectFeeMode) -> (u128, u128) {
    match mode {
        CollectFeeMode::Compounding => (0, u128::MAX),
        _ => (MIN_SQRT_PRICE, MAX_SQRT_PRICE),
    }
}

fn dynamic_fee(d: &Ctx<'_>) -> R<DynamicFee> {
    Ok(DynamicFee {
        initialized: true,
        filter_period: d.or("filter_period", 0)?,
        decay_period: d.or("decay_period", 0)?,
        reduction_factor: d.or("reduction_factor", 0)?,
        max_volatility_accumulator: d.or("max_volatility_accumulator", 0)?,
        variable_fee_control: d.or("variable_fee_control", 0)?,
        bin_step: d.or("bin_step", 1)?,
        bin_step_u128: d.or("bin_step_u128", BIN_STEP_BPS_U128_DEFAULT)?,
        volatility_accumulator: d.or("volatility_accumulator", 0)?,
        volatility_reference: d.or("volatility_reference", 0)?,
        sqrt_price_reference: d.or("sqrt_price_reference", 0)?,
        last_update_timestamp: d.or("last_update_timestamp", 0)?,
    })
}

fn dynamic_state(d: &DynamicFee) -> Value {
    Value::Object(obj([
        ("volatility_accumulator", s(d.volatility_accumulator)),
        ("volatility_reference", s(d.volatility_reference)),
        ("sqrt_price_reference", s(d.sqrt_price_reference)),
        ("last_update_timestamp", s(d.last_update_timestamp)),
    ]))
}

/// A parsed pool description whose tracked reserves may still need back-filling.
struct PoolDesc {
    state: PoolState,
    token_a_amount: Option<u128>,
    token_b_amount: Option<u128>,
}

/// Reads the pool description. `fee_required`: the static fee must be given (swap ops).
fn pool_desc(c: &Ctx<'_>, fee_required: bool) -> R<PoolDesc> {
    let mode = collect_fee_mode(c)?;
    let (min_default, max_default) = range_defaults(mode);
    let sqrt_price = c.req("sqrt_price")?;
    let liquidity = c.req("liquidity")?;
    let sqrt_min_price = c.or("sqrt_min", min_default)?;
    let sqrt_max_price = c.or("sqrt_max", max_default)?;
    let (token_a_amount, token_b_amount) = if mode == CollectFeeMode::Compounding {
        (Some(c.req("token_a_amount")?), Some(c.req("token_b_amount")?))
    } else {
        (c.opt("token_a_amount")?, c.opt("token_b_amount")?)
    };
    let base_fee_numerator = if fee_required {
        c.req("fee_numerator")?
    } else {
        c.or("fee_numerator", 0)?
    };
    let fees = PoolFees {
        base_fee_numerator,
        compounding_fee_bps: c.or("compounding_fee_bps", 0)?,
        protocol_fee_percent: c.or("protocol_fee_percent", 20)?,
        referral_fee_percent: c.or("referral_fee_percent", 20)?,
        dynamic_fee: match c.opt_obj("dynamic_fee")? {
            Some(d) => dynamic_fee(&d)?,
            None => DynamicFee::default(),
        },
        fee_version: c.or("fee_version", 1)?,
    };
    let state = PoolState {
        collect_fee_mode: mode,
        sqrt_price,
        sqrt_min_price,
        sqrt_max_price,
        liquidity,
        token_a_amount: token_a_amount.unwrap_or(0),
        token_b_amount: token_b_amount.unwrap_or(0),
        fees,
        fee_a_per_liquidity: c.or("fee_a_per_liquidity", U256::ZERO)?,
        fee_b_per_liquidity: c.or("fee_b_per_liquidity", U256::ZERO)?,
        protocol_a_fee: c.or("protocol_a_fee", 0)?,
        protocol_b_fee: c.or("protocol_b_fee", 0)?,
    };
    Ok(PoolDesc {
        state,
        token_a_amount,
        token_b_amount,
    })
}

impl PoolDesc {
    /// The pool state, with absent tracked reserves of a concentrated pool back-filled from the curve
    /// (`Δa(√P, √Pmax, L, Up)`, `Δb(√Pmin, √P, L, Up)`), as DAMM v2 does for old-layout pools.
    fn finish(self) -> R<PoolState> {
        let mut state = self.state;
        if self.token_a_amount.is_none() || self.token_b_amount.is_none() {
            let (a, b) = state.concentrated().reserves()?;
            state.token_a_amount = self.token_a_amount.unwrap_or(a);
            state.token_b_amount = self.token_b_amount.unwrap_or(b);
        }
        Ok(state)
    }
}

// ---------------------------------------------------------------------------------------------------------
// Ops

fn op_swap(c: &Ctx<'_>, mode: SwapMode) -> R<Obj> {
    let desc = pool_desc(c, true)?;
    let a_to_b = c.req_bool("a_to_b")?;
    let amount = c.req(if mode == SwapMode::ExactOut {
        "amount_out"
    } else {
        "amount_in"
    })?;
    let has_referral = c.bool_or("has_referral", false)?;
    let current_timestamp = c.or("current_timestamp", 0)?;
    let mut pool = desc.finish()?;
    let direction = TradeDirection::from_a_to_b(a_to_b);
    let fee_mode = pool.fee_mode(direction, has_referral);
    let r = pool.swap(&SwapParams {
        direction,
        mode,
        amount,
        has_referral,
        current_timestamp,
    })?;
    let pool_after = obj([
        ("sqrt_price", s(pool.sqrt_price)),
        ("liquidity", s(pool.liquidity)),
        ("token_a_amount", s(pool.token_a_amount)),
        ("token_b_amount", s(pool.token_b_amount)),
        ("protocol_a_fee", s(pool.protocol_a_fee)),
        ("protocol_b_fee", s(pool.protocol_b_fee)),
        ("fee_a_per_liquidity", s(pool.fee_a_per_liquidity)),
        ("fee_b_per_liquidity", s(pool.fee_b_per_liquidity)),
        ("dynamic_fee", dynamic_state(&pool.fees.dynamic_fee)),
    ]);
    Ok(obj([
        ("included_fee_input_amount", s(r.included_fee_input_amount)),
        ("excluded_fee_input_amount", s(r.excluded_fee_input_amount)),
        ("amount_left", s(r.amount_left)),
        ("output_amount", s(r.output_amount)),
        ("next_sqrt_price", s(r.next_sqrt_price)),
        ("claiming_fee", s(r.claiming_fee)),
        ("compounding_fee", s(r.compounding_fee)),
        ("protocol_fee", s(r.protocol_fee)),
        ("referral_fee", s(r.referral_fee)),
        ("fees_on_input", Value::Bool(fee_mode.fees_on_input)),
        ("fees_on_token_a", Value::Bool(fee_mode.fees_on_token_a)),
        ("pool_after", Value::Object(pool_after)),
    ]))
}

fn rounding(c: &Ctx<'_>) -> R<Rounding> {
    Ok(if c.req_choice("round", ["up", "down"])? == "up" {
        Rounding::Up
    } else {
        Rounding::Down
    })
}

fn op_delta(c: &Ctx<'_>, token_a: bool) -> R<Obj> {
    let lower = c.req("lower")?;
    let upper = c.req("upper")?;
    let liquidity = c.req("liquidity")?;
    let round = rounding(c)?;
    let amount = if token_a {
        delta_a(lower, upper, liquidity, round)?
    } else {
        delta_b(lower, upper, liquidity, round)?
    };
    Ok(obj([("amount", s(amount))]))
}

fn op_next_sqrt_price(c: &Ctx<'_>, from_input: bool) -> R<Obj> {
    let sqrt_price = c.req("sqrt_price")?;
    let liquidity = c.req("liquidity")?;
    let amount = c.req(if from_input { "amount_in" } else { "amount_out" })?;
    let a_to_b = c.req_bool("a_to_b")?;
    let next = if from_input {
        next_sqrt_price_from_input(sqrt_price, liquidity, amount, a_to_b)?
    } else {
        next_sqrt_price_from_output(sqrt_price, liquidity, amount, a_to_b)?
    };
    Ok(obj([("next_sqrt_price", s(next))]))
}

fn op_fee_split(c: &Ctx<'_>) -> R<Obj> {
    let fee = c.req("fee_amount")?;
    let has_referral = c.bool_or("has_referral", false)?;
    let protocol_fee_percent = c.or("protocol_fee_percent", 20)?;
    let referral_fee_percent = c.or("referral_fee_percent", 20)?;
    let compounding_fee_bps = c.or("compounding_fee_bps", 0)?;
    let f = split_fees(
        fee,
        has_referral,
        protocol_fee_percent,
        referral_fee_percent,
        compounding_fee_bps,
    )?;
    Ok(obj([
        ("claiming_fee", s(f.claiming_fee)),
        ("compounding_fee", s(f.compounding_fee)),
        ("protocol_fee", s(f.protocol_fee)),
        ("referral_fee", s(f.referral_fee)),
    ]))
}

fn op_excluded_fee_amount(c: &Ctx<'_>) -> R<Obj> {
    let n = c.req("fee_numerator")?;
    let included = c.req("included_fee_amount")?;
    let (excluded, fee) = excluded_fee_amount(n, included)?;
    Ok(obj([("excluded_fee_amount", s(excluded)), ("fee", s(fee))]))
}

fn op_included_fee_amount(c: &Ctx<'_>) -> R<Obj> {
    let n = c.req("fee_numerator")?;
    let excluded = c.req("excluded_fee_amount")?;
    let (included, fee) = included_fee_amount(n, excluded)?;
    Ok(obj([("included_fee_amount", s(included)), ("fee", s(fee))]))
}

fn op_dynamic_fee(c: &Ctx<'_>) -> R<Obj> {
    let mut d = dynamic_fee(&c.req_obj("dynamic_fee")?)?;
    let pre = match c.opt_obj("pre_swap")? {
        Some(p) => Some((p.req::<u128>("sqrt_price")?, p.req::<u64>("current_timestamp")?)),
        None => None,
    };
    let post = match c.opt_obj("post_swap")? {
        Some(p) => Some((
            p.req::<u128>("old_sqrt_price")?,
            p.req::<u128>("sqrt_price")?,
            p.req::<u64>("current_timestamp")?,
        )),
        None => None,
    };
    let base_fee_numerator: Option<u64> = c.opt("base_fee_numerator")?;
    let fee_version = c.or("fee_version", 1)?;
    let before = d.variable_fee()?;
    if let Some((sqrt_price, now)) = pre {
        d.update_pre_swap(sqrt_price, now)?;
    }
    if let Some((old, new, now)) = post {
        d.update_post_swap(old, new, now)?;
    }
    let after = d.variable_fee()?;
    let mut out = obj([
        ("variable_fee_before", s(before)),
        ("variable_fee", s(after)),
        ("state", dynamic_state(&d)),
    ]);
    if let Some(base_fee_numerator) = base_fee_numerator {
        let fees = PoolFees {
            base_fee_numerator,
            dynamic_fee: d,
            fee_version,
            ..PoolFees::default()
        };
        out.insert("total_fee_numerator".into(), s(fees.total_fee_numerator()?));
    }
    Ok(out)
}

fn op_delta_bin_id(c: &Ctx<'_>) -> R<Obj> {
    let a = c.req("sqrt_price_a")?;
    let b = c.req("sqrt_price_b")?;
    let step = c.or("bin_step_u128", BIN_STEP_BPS_U128_DEFAULT)?;
    Ok(obj([("delta_bin_id", s(delta_bin_id(step, a, b)?))]))
}

fn op_modify_liquidity(c: &Ctx<'_>) -> R<Obj> {
    let desc = pool_desc(c, false)?;
    let delta = c.req("liquidity_delta")?;
    let action = if c.req_choice("action", ["add", "remove"])? == "add" {
        LiquidityAction::Add
    } else {
        LiquidityAction::Remove
    };
    let pool = desc.finish()?;
    let (a, b) = pool.amounts_for_modify_liquidity(delta, action)?;
    Ok(obj([("token_a_amount", s(a)), ("token_b_amount", s(b))]))
}

fn op_initial_pool(c: &Ctx<'_>) -> R<Obj> {
    let mode = collect_fee_mode(c)?;
    let (min_default, max_default) = range_defaults(mode);
    let sqrt_price = c.req("sqrt_price")?;
    let liquidity = c.req("liquidity")?;
    let sqrt_min = c.or("sqrt_min", min_default)?;
    let sqrt_max = c.or("sqrt_max", max_default)?;
    let p = initial_pool(mode, sqrt_price, liquidity, sqrt_min, sqrt_max)?;
    Ok(obj([
        ("token_a_amount", s(p.token_a_amount)),
        ("token_b_amount", s(p.token_b_amount)),
        ("sqrt_price", s(p.sqrt_price)),
        ("position_liquidity", s(p.position_liquidity)),
        ("pool_liquidity", s(p.pool_liquidity)),
    ]))
}

fn op_compounding_sqrt_price(c: &Ctx<'_>) -> R<Obj> {
    let a = c.req("token_a_amount")?;
    let b = c.req("token_b_amount")?;
    Ok(obj([("sqrt_price", s(sqrt_price_from_amounts(a, b)?))]))
}

/// The reward slot of `reward_update` / `reward_fund` (state fields default to 0, i.e. a fresh slot).
fn reward_info(c: &Ctx<'_>, reward_duration: u64) -> R<RewardInfo> {
    Ok(RewardInfo {
        initialized: true,
        reward_duration,
        reward_rate: c.or("reward_rate", U256::ZERO)?,
        reward_duration_end: c.or("reward_duration_end", 0)?,
        last_update_time: c.or("last_update_time", 0)?,
        reward_per_token_stored: c.or("reward_per_token_stored", U256::ZERO)?,
        cumulative_seconds_with_empty_liquidity_reward: c
            .or("cumulative_seconds_with_empty_liquidity_reward", 0)?,
    })
}

fn reward_info_json(r: &RewardInfo) -> Value {
    Value::Object(obj([
        ("reward_rate", s(r.reward_rate)),
        ("reward_duration_end", s(r.reward_duration_end)),
        ("last_update_time", s(r.last_update_time)),
        ("reward_per_token_stored", s(r.reward_per_token_stored)),
        (
            "cumulative_seconds_with_empty_liquidity_reward",
            s(r.cumulative_seconds_with_empty_liquidity_reward),
        ),
    ]))
}

fn op_reward_update(c: &Ctx<'_>) -> R<Obj> {
    let mut info = reward_info(c, 0)?;
    let liquidity_supply = c.req("liquidity_supply")?;
    let now = c.req("current_time")?;
    let position = match c.opt_obj("position")? {
        Some(p) => Some((
            p.req::<U256>("liquidity")?,
            PositionReward {
                reward_per_token_checkpoint: p.or("reward_per_token_checkpoint", U256::ZERO)?,
                reward_pendings: p.or("reward_pendings", 0)?,
            },
        )),
        None => None,
    };
    info.update_rewards(liquidity_supply, now)?;
    let mut out = obj([("reward_info", reward_info_json(&info))]);
    if let Some((liquidity, mut p)) = position {
        p.update(liquidity, info.reward_per_token_stored)?;
        out.insert(
            "position".into(),
            Value::Object(obj([
                ("reward_pendings", s(p.reward_pendings)),
                ("reward_per_token_checkpoint", s(p.reward_per_token_checkpoint)),
            ])),
        );
    }
    Ok(out)
}

fn op_reward_fund(c: &Ctx<'_>) -> R<Obj> {
    let mut info = reward_info(c, 0)?;
    info.reward_duration = c.req("reward_duration")?;
    let liquidity_supply = c.req("liquidity_supply")?;
    let now = c.req("current_time")?;
    let amount = c.req("funding_amount")?;
    let carry_forward = c.bool_or("carry_forward", false)?;
    let total = info.fund(amount, now, liquidity_supply, carry_forward)?;
    Ok(obj([
        ("total_amount", s(total)),
        ("reward_info", reward_info_json(&info)),
    ]))
}

fn dispatch(op: &str, c: &Ctx<'_>) -> R<Obj> {
    match op {
        "swap_exact_in" => op_swap(c, SwapMode::ExactIn),
        "swap_partial_fill" => op_swap(c, SwapMode::PartialFill),
        "swap_exact_out" => op_swap(c, SwapMode::ExactOut),
        "delta_a" => op_delta(c, true),
        "delta_b" => op_delta(c, false),
        "next_sqrt_price_from_input" => op_next_sqrt_price(c, true),
        "next_sqrt_price_from_output" => op_next_sqrt_price(c, false),
        "fee_split" => op_fee_split(c),
        "excluded_fee_amount" => op_excluded_fee_amount(c),
        "included_fee_amount" => op_included_fee_amount(c),
        "dynamic_fee" => op_dynamic_fee(c),
        "delta_bin_id" => op_delta_bin_id(c),
        "modify_liquidity" => op_modify_liquidity(c),
        "initial_pool" => op_initial_pool(c),
        "compounding_sqrt_price" => op_compounding_sqrt_price(c),
        "reward_update" => op_reward_update(c),
        "reward_fund" => op_reward_fund(c),
        _ => bad("op", "unknown op"),
    }
}

fn error(message: String) -> Obj {
    obj([("error", Value::String(message))])
}

/// The response object for one request line (without the `id` echo).
fn respond(request: &Value) -> Obj {
    let Value::Object(o) = request else {
        return error("bad request: expected a JSON object".into());
    };
    let c = Ctx::new(o, String::new());
    let result = match c.raw("op") {
        None => bad("op", "missing"),
        Some(Value::String(op)) => dispatch(op, &c),
        Some(_) => bad("op", "expected a string"),
    };
    match result {
        Ok(out) => out,
        Err(Fail::Bad(why)) => error(format!("bad request: {why}")),
        Err(Fail::Math(e)) => error(e.name().to_string()),
    }
}

/// Evaluates one request line and returns one response object as a JSON string (no newline).
///
/// Never panics: a panic in the math (a bug) is caught and answered with `{"error":"Panic"}`.
pub fn handle_line(line: &str) -> String {
    let request: Option<Value> = serde_json::from_str(line).ok();
    let mut response = match &request {
        None => error("bad request: invalid JSON".into()),
        Some(v) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| respond(v)))
            .unwrap_or_else(|_| error("Panic".into())),
    };
    if let Some(id) = request.as_ref().and_then(|r| r.get("id")) {
        response.insert("id".into(), id.clone());
    }
    serde_json::to_string(&Value::Object(response)).unwrap_or_else(|_| r#"{"error":"Panic"}"#.into())
}

fn main() {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("vectors: internal error (answered \"Panic\"): {info}")
    }));
    let mut input = BufReader::with_capacity(1 << 16, io::stdin());
    let mut output = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match input.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                eprintln!("vectors: cannot read stdin: {e}");
                break;
            }
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        let response = handle_line(&String::from_utf8_lossy(&buf));
        // A closed stdout (e.g. `| head`) ends the program quietly.
        if writeln!(output, "{response}").is_err() {
            std::process::exit(0);
        }
        // Flush whenever no further input is buffered, so interactive use gets its answers promptly.
        if input.buffer().is_empty() && output.flush().is_err() {
            std::process::exit(0);
        }
    }
    if output.flush().is_err() {
        std::process::exit(0);
    }
}
