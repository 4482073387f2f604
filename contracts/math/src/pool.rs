//! A pool's pricing state and its swaps (DAMM v2 `state/pool.rs`): exact input, partial fill and exact output,
//! the fee on the right side, and the application of a swap result to the state.

use crate::{
    compounding::{self, Compounding},
    curve::{Concentrated, SwapAmountFromInput, SwapAmountFromOutput},
    fee::{included_fee_amount, FeeMode, PoolFees, SplitFees},
    wide::{shl_div_256, u256, U256},
    MathError, Result,
};

/// How a pool collects fees, and which curve it prices on (`CollectFeeMode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum CollectFeeMode {
    /// Concentrated; the fee is taken from the output token.
    #[default]
    BothToken = 0,
    /// Concentrated; the fee is always in token B (on output for A→B, on input for B→A).
    OnlyB = 1,
    /// Constant product on tracked reserves; fee always in token B; part of the LP fee compounds.
    Compounding = 2,
}

impl TryFrom<u8> for CollectFeeMode {
    type Error = MathError;

    fn try_from(value: u8) -> Result<Self> {
        match value {
            0 => Ok(Self::BothToken),
            1 => Ok(Self::OnlyB),
            2 => Ok(Self::Compounding),
            _ => Err(MathError::InvalidCollectFeeMode),
        }
    }
}

/// Direction of a trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TradeDirection {
    /// Token A in, token B out (price falls).
    AtoB,
    /// Token B in, token A out (price rises).
    BtoA,
}

impl TradeDirection {
    /// `AtoB` when `a_to_b`.
    pub const fn from_a_to_b(a_to_b: bool) -> Self {
        if a_to_b {
            Self::AtoB
        } else {
            Self::BtoA
        }
    }
}

/// Which amount a swap fixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SwapMode {
    /// The whole input is swapped (a concentrated pool fails beyond its range).
    ExactIn,
    /// As much of the input as the range allows; the rest is returned in `amount_left`.
    PartialFill,
    /// The output is fixed; the input is computed (rounded up).
    ExactOut,
}

/// One swap request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SwapParams {
    /// Direction.
    pub direction: TradeDirection,
    /// Exact in, partial fill or exact out.
    pub mode: SwapMode,
    /// Input amount (exact in, partial fill) or output amount (exact out), atoms.
    pub amount: u128,
    /// A referral share is carved out of the protocol fee.
    pub has_referral: bool,
    /// Time of the trade, unix seconds (drives the dynamic fee).
    pub current_timestamp: u64,
}

/// Everything a swap computes (`SwapResult2`). All amounts are in atoms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SwapResult {
    /// What the user pays, fee included.
    pub included_fee_input_amount: u128,
    /// What enters the curve (input net of a fee on input).
    pub excluded_fee_input_amount: u128,
    /// Input left unconsumed (partial fill).
    pub amount_left: u128,
    /// What the user receives, fee excluded.
    pub output_amount: u128,
    /// Sqrt price after the swap. From [`PoolState::swap`] it is the pool's price after the result is applied
    /// (compounding pools re-derive it from reserves); from the `swap_result_*` functions it is the curve's
    /// price (0 for compounding pools).
    pub next_sqrt_price: u128,
    /// LP fee claimable through the accumulator.
    pub claiming_fee: u128,
    /// LP fee compounded into reserve B.
    pub compounding_fee: u128,
    /// Protocol fee (after the referral share).
    pub protocol_fee: u128,
    /// Referral fee.
    pub referral_fee: u128,
}

impl SwapResult {
    fn set_fees(&mut self, fees: SplitFees) {
        self.claiming_fee = fees.claiming_fee;
        self.compounding_fee = fees.compounding_fee;
        self.protocol_fee = fees.protocol_fee;
        self.referral_fee = fees.referral_fee;
    }

    /// The fee parts as a [`SplitFees`].
    pub const fn fees(&self) -> SplitFees {
        SplitFees {
            claiming_fee: self.claiming_fee,
            compounding_fee: self.compounding_fee,
            protocol_fee: self.protocol_fee,
            referral_fee: self.referral_fee,
        }
    }
}

/// A DAMM v2 pricing state, widened for ERC-20 (`Pool`, the parts that price trades).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolState {
    /// Fee collection mode and curve.
    pub collect_fee_mode: CollectFeeMode,
    /// Current sqrt price, Q64.64.
    pub sqrt_price: u128,
    /// Lower end of the range, Q64.64 (compounding: 0).
    pub sqrt_min_price: u128,
    /// Upper end of the range, Q64.64 (compounding: `u128::MAX`).
    pub sqrt_max_price: u128,
    /// Liquidity, 2^64-scaled (compounding: includes the dead liquidity).
    pub liquidity: U256,
    /// Tracked reserve of token A, atoms.
    pub token_a_amount: u128,
    /// Tracked reserve of token B, atoms.
    pub token_b_amount: u128,
    /// Fee configuration and dynamic-fee state.
    pub fees: PoolFees,
    /// Claiming fees of token A per unit of liquidity, 2^128-scaled.
    pub fee_a_per_liquidity: U256,
    /// Claiming fees of token B per unit of liquidity, 2^128-scaled.
    pub fee_b_per_liquidity: U256,
    /// Protocol fees of token A accrued, atoms.
    pub protocol_a_fee: u128,
    /// Protocol fees of token B accrued, atoms.
    pub protocol_b_fee: u128,
}

enum Handler {
    Concentrated(Concentrated),
    Compounding(Compounding),
}

impl Handler {
    fn leg_from_input(
        &self,
        direction: TradeDirection,
        amount: u128,
        partial: bool,
    ) -> Result<SwapAmountFromInput> {
        match (self, direction, partial) {
            (Self::Concentrated(c), TradeDirection::AtoB, false) => c.a_to_b_from_amount_in(amount),
            (Self::Concentrated(c), TradeDirection::BtoA, false) => c.b_to_a_from_amount_in(amount),
            (Self::Concentrated(c), TradeDirection::AtoB, true) => c.a_to_b_from_partial_amount_in(amount),
            (Self::Concentrated(c), TradeDirection::BtoA, true) => c.b_to_a_from_partial_amount_in(amount),
            // Constant product has no range: a partial fill is an exact input.
            (Self::Compounding(c), TradeDirection::AtoB, _) => c.a_to_b_from_amount_in(amount),
            (Self::Compounding(c), TradeDirection::BtoA, _) => c.b_to_a_from_amount_in(amount),
        }
    }

    fn leg_from_output(&self, direction: TradeDirection, amount: u128) -> Result<SwapAmountFromOutput> {
        match (self, direction) {
            (Self::Concentrated(c), TradeDirection::AtoB) => c.a_to_b_from_amount_out(amount),
            (Self::Concentrated(c), TradeDirection::BtoA) => c.b_to_a_from_amount_out(amount),
            (Self::Compounding(c), TradeDirection::AtoB) => c.a_to_b_from_amount_out(amount),
            (Self::Compounding(c), TradeDirection::BtoA) => c.b_to_a_from_amount_out(amount),
        }
    }
}

impl PoolState {
    fn handler(&self) -> Handler {
        match self.collect_fee_mode {
            CollectFeeMode::Compounding => Handler::Compounding(self.compounding()),
            _ => Handler::Concentrated(self.concentrated()),
        }
    }

    /// The concentrated-liquidity view of this state.
    pub const fn concentrated(&self) -> Concentrated {
        Concentrated {
            sqrt_price: self.sqrt_price,
            liquidity: self.liquidity,
            sqrt_min_price: self.sqrt_min_price,
            sqrt_max_price: self.sqrt_max_price,
        }
    }

    /// The constant-product view of this state.
    pub const fn compounding(&self) -> Compounding {
        Compounding {
            token_a_amount: self.token_a_amount,
            token_b_amount: self.token_b_amount,
            liquidity: self.liquidity,
        }
    }

    /// Which side pays the fee (`FeeMode::get_fee_mode`): on output except B→A in OnlyB/Compounding pools
    /// (on input); in token B except BothToken B→A (token A).
    pub const fn fee_mode(&self, direction: TradeDirection, has_referral: bool) -> FeeMode {
        let (fees_on_input, fees_on_token_a) = match (self.collect_fee_mode, direction) {
            (CollectFeeMode::BothToken, TradeDirection::AtoB) => (false, false),
            (CollectFeeMode::BothToken, TradeDirection::BtoA) => (false, true),
            (_, TradeDirection::AtoB) => (false, false),
            (_, TradeDirection::BtoA) => (true, false),
        };
        FeeMode {
            fees_on_input,
            fees_on_token_a,
            has_referral,
        }
    }

    /// Exact-input result (`get_swap_result_from_exact_input`): the total fee numerator is computed once; a fee
    /// on input is deducted (rounded up) before the curve, a fee on output after it.
    ///
    /// # Errors
    /// Those of the fee and curve functions ([`MathError::PriceRangeViolation`] beyond a concentrated range).
    pub fn swap_result_exact_input(
        &self,
        amount_in: u128,
        fee_mode: FeeMode,
        direction: TradeDirection,
    ) -> Result<SwapResult> {
        self.swap_result_from_input(amount_in, fee_mode, direction, false)
    }

    /// Partial-fill result (`get_swap_result_from_partial_input`): as exact input, but a concentrated pool stops
    /// at its range edge; when input is left over and the fee is on input, the fee is recomputed on the consumed
    /// amount by grossing it up.
    ///
    /// # Errors
    /// Those of the fee and curve functions.
    pub fn swap_result_partial_input(
        &self,
        amount_in: u128,
        fee_mode: FeeMode,
        direction: TradeDirection,
    ) -> Result<SwapResult> {
        self.swap_result_from_input(amount_in, fee_mode, direction, true)
    }

    #[inline(always)]
    fn swap_result_from_input(
        &self,
        amount_in: u128,
        fee_mode: FeeMode,
        direction: TradeDirection,
        partial: bool,
    ) -> Result<SwapResult> {
        let handler = self.handler();
        let fee_numerator = self.fees.total_fee_numerator()?;
        let mut result = SwapResult::default();
        let mut actual_in = amount_in;
        if fee_mode.fees_on_input {
            let (excluded, fees) =
                self.fees
                    .fee_on_amount(amount_in, fee_numerator, fee_mode.has_referral)?;
            result.set_fees(fees);
            actual_in = excluded;
        }
        let leg = handler.leg_from_input(direction, actual_in, partial)?;
        result.included_fee_input_amount = amount_in;
        if partial && leg.amount_left > 0 {
            actual_in = actual_in
                .checked_sub(leg.amount_left)
                .ok_or(MathError::MathOverflow)?;
            result.included_fee_input_amount = if fee_mode.fees_on_input {
                // The static base fee does not depend on the amount, so the numerator is unchanged.
                let numerator = self.fees.total_fee_numerator()?;
                let (included, fee) = included_fee_amount(numerator, actual_in)?;
                result.set_fees(self.fees.split(fee, fee_mode.has_referral)?);
                included
            } else {
                actual_in
            };
        }
        result.excluded_fee_input_amount = actual_in;
        result.amount_left = leg.amount_left;
        result.next_sqrt_price = leg.next_sqrt_price;
        result.output_amount = if fee_mode.fees_on_input {
            leg.output_amount
        } else {
            let (out, fees) =
                self.fees
                    .fee_on_amount(leg.output_amount, fee_numerator, fee_mode.has_referral)?;
            result.set_fees(fees);
            out
        };
        Ok(result)
    }

    /// Exact-output result (`get_swap_result_from_exact_output`): with the fee on output, the output is grossed
    /// up (`ceil(out·1e9/(1e9−n))`) and the curve must deliver the gross amount; with the fee on input, the curve's
    /// input is grossed up.
    ///
    /// # Errors
    /// Those of the fee and curve functions.
    pub fn swap_result_exact_output(
        &self,
        amount_out: u128,
        fee_mode: FeeMode,
        direction: TradeDirection,
    ) -> Result<SwapResult> {
        let handler = self.handler();
        // DAMM v2 validates the pool version before anything else.
        crate::constants::max_fee_numerator(self.fees.fee_version)?;
        let mut result = SwapResult {
            output_amount: amount_out,
            ..SwapResult::default()
        };
        let curve_out = if fee_mode.fees_on_input {
            amount_out
        } else {
            let numerator = self.fees.total_fee_numerator()?;
            let (included, fee) = included_fee_amount(numerator, amount_out)?;
            result.set_fees(self.fees.split(fee, fee_mode.has_referral)?);
            included
        };
        let leg = handler.leg_from_output(direction, curve_out)?;
        result.next_sqrt_price = leg.next_sqrt_price;
        result.excluded_fee_input_amount = leg.input_amount;
        result.included_fee_input_amount = if fee_mode.fees_on_input {
            let numerator = self.fees.total_fee_numerator()?;
            let (included, fee) = included_fee_amount(numerator, leg.input_amount)?;
            result.set_fees(self.fees.split(fee, fee_mode.has_referral)?);
            included
        } else {
            leg.input_amount
        };
        Ok(result)
    }

    /// Applies a swap result (`apply_swap_result`), then the post-swap dynamic-fee update:
    /// 1. the claiming fee enters the fee accumulator (`floor(claiming·2^128 / L)`), the protocol fee accrues;
    /// 2. reserves: the input net of a fee on input comes in; the output plus every fee part on output goes out;
    ///    compounding fees join reserve B;
    /// 3. the price becomes the curve's (concentrated) or is re-derived from the reserves (compounding);
    /// 4. the volatility accumulator is updated from the new price.
    ///
    /// On error the state may be partly updated: callers apply to a copy ([`Self::swap`] does).
    ///
    /// # Errors
    /// [`MathError::MathOverflow`] if `L == 0` or a sum/difference overflows; those of the price derivation and
    /// the dynamic fee.
    pub fn apply_swap_result(
        &mut self,
        result: &SwapResult,
        fee_mode: FeeMode,
        direction: TradeDirection,
        current_timestamp: u64,
    ) -> Result<()> {
        let old_sqrt_price = self.sqrt_price;
        let acc_delta = shl_div_256(
            u256(result.claiming_fee),
            self.liquidity,
            crate::constants::LIQUIDITY_SCALE,
        )
        .ok_or(MathError::MathOverflow)?;
        let (protocol, per_liquidity) = if fee_mode.fees_on_token_a {
            (&mut self.protocol_a_fee, &mut self.fee_a_per_liquidity)
        } else {
            (&mut self.protocol_b_fee, &mut self.fee_b_per_liquidity)
        };
        *protocol = protocol
            .checked_add(result.protocol_fee)
            .ok_or(MathError::MathOverflow)?;
        *per_liquidity = per_liquidity
            .checked_add(acc_delta)
            .ok_or(MathError::MathOverflow)?;

        let included_fee_output = if fee_mode.fees_on_input {
            result.output_amount
        } else {
            result
                .fees()
                .total()?
                .checked_add(result.output_amount)
                .ok_or(MathError::MathOverflow)?
        };
        let (reserve_in, reserve_out) = match direction {
            TradeDirection::AtoB => (&mut self.token_a_amount, &mut self.token_b_amount),
            TradeDirection::BtoA => (&mut self.token_b_amount, &mut self.token_a_amount),
        };
        *reserve_in = reserve_in
            .checked_add(result.excluded_fee_input_amount)
            .ok_or(MathError::MathOverflow)?;
        *reserve_out = reserve_out
            .checked_sub(included_fee_output)
            .ok_or(MathError::MathOverflow)?;
        self.token_b_amount = self
            .token_b_amount
            .checked_add(result.compounding_fee)
            .ok_or(MathError::MathOverflow)?;

        self.sqrt_price = match self.collect_fee_mode {
            CollectFeeMode::Compounding => {
                compounding::sqrt_price_from_amounts(self.token_a_amount, self.token_b_amount)?
            }
            _ => result.next_sqrt_price,
        };
        self.fees
            .dynamic_fee
            .update_post_swap(old_sqrt_price, self.sqrt_price, current_timestamp)
    }

    /// Computes the result of `params` without changing the state: [`Self::swap`] on a copy.
    ///
    /// # Errors
    /// Those of [`Self::swap`].
    pub fn quote(&self, params: &SwapParams) -> Result<SwapResult> {
        let mut copy = *self;
        copy.swap(params)
    }

    /// Executes one swap as DAMM v2's swap instruction does, all or nothing:
    /// amount > 0 → dynamic-fee references updated for the trade's time → fee mode → result (exact in / partial
    /// fill / exact out) → result applied → volatility accumulator updated. A partial fill must consume something.
    ///
    /// The returned `next_sqrt_price` is the pool's price after the swap. On error the state is unchanged.
    ///
    /// # Errors
    /// [`MathError::AmountIsZero`] for a zero amount (or a partial fill that consumes nothing); those of the
    /// result and its application.
    #[inline(always)]
    pub fn swap(&mut self, params: &SwapParams) -> Result<SwapResult> {
        if params.amount == 0 {
            return Err(MathError::AmountIsZero);
        }
        let mut next = *self;
        next.fees
            .dynamic_fee
            .update_pre_swap(next.sqrt_price, params.current_timestamp)?;
        let fee_mode = next.fee_mode(params.direction, params.has_referral);
        let mut result = match params.mode {
            SwapMode::ExactIn => next.swap_result_exact_input(params.amount, fee_mode, params.direction)?,
            SwapMode::PartialFill => {
                let r = next.swap_result_partial_input(params.amount, fee_mode, params.direction)?;
                if r.included_fee_input_amount == 0 {
                    return Err(MathError::AmountIsZero);
                }
                r
            }
            SwapMode::ExactOut => next.swap_result_exact_output(params.amount, fee_mode, params.direction)?,
        };
        next.apply_swap_result(&result, fee_mode, params.direction, params.current_timestamp)?;
        result.next_sqrt_price = next.sqrt_price;
        *self = next;
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        constants::{BIN_STEP_BPS_U128_DEFAULT, ONE_Q64},
        dynamic_fee::DynamicFee,
    };

    const Q64: u128 = ONE_Q64;

    /// √P = 1, real L = 1000, range [0.5, 2] (so reserves 500 A / 500 B), 1 % fee.
    fn concentrated(mode: CollectFeeMode) -> PoolState {
        PoolState {
            collect_fee_mode: mode,
            sqrt_price: Q64,
            sqrt_min_price: Q64 / 2,
            sqrt_max_price: 2 * Q64,
            liquidity: u256(1000) << 64,
            token_a_amount: 500,
            token_b_amount: 500,
            fees: PoolFees {
                base_fee_numerator: 10_000_000,
                ..PoolFees::default()
            },
            fee_a_per_liquidity: U256::ZERO,
            fee_b_per_liquidity: U256::ZERO,
            protocol_a_fee: 0,
            protocol_b_fee: 0,
        }
    }

    fn params(direction: TradeDirection, mode: SwapMode, amount: u128) -> SwapParams {
        SwapParams {
            direction,
            mode,
            amount,
            has_referral: false,
            current_timestamp: 0,
        }
    }

    #[test]
    fn fee_mode_table() {
        let both = concentrated(CollectFeeMode::BothToken);
        let only_b = concentrated(CollectFeeMode::OnlyB);
        let comp = PoolState {
            collect_fee_mode: CollectFeeMode::Compounding,
            ..both
        };
        let m = |p: &PoolState, d| {
            let f = p.fee_mode(d, true);
            (f.fees_on_input, f.fees_on_token_a, f.has_referral)
        };
        assert_eq!(m(&both, TradeDirection::AtoB), (false, false, true));
        assert_eq!(m(&both, TradeDirection::BtoA), (false, true, true));
        assert_eq!(m(&only_b, TradeDirection::AtoB), (false, false, true));
        assert_eq!(m(&only_b, TradeDirection::BtoA), (true, false, true));
        assert_eq!(m(&comp, TradeDirection::AtoB), (false, false, true));
        assert_eq!(m(&comp, TradeDirection::BtoA), (true, false, true));
    }

    #[test]
    fn exact_in_a_to_b_fee_on_output_by_hand() {
        let mut pool = concentrated(CollectFeeMode::BothToken);
        let r = pool
            .swap(&params(TradeDirection::AtoB, SwapMode::ExactIn, 100))
            .unwrap();
        // √P' = ceil(2^64 · 1000 / 1100) = 16769767339735956015 (2^64·10/11 = …956014.54).
        assert_eq!(r.next_sqrt_price, 16_769_767_339_735_956_015);
        // Curve out = floor(1000 · (2^64 − √P') / 2^64) = floor(90.909…) = 90; fee = ceil(0.9) = 1; user gets 89.
        assert_eq!(
            (
                r.included_fee_input_amount,
                r.excluded_fee_input_amount,
                r.output_amount
            ),
            (100, 100, 89)
        );
        assert_eq!(
            r.fees(),
            SplitFees {
                claiming_fee: 1,
                compounding_fee: 0,
                protocol_fee: 0,
                referral_fee: 0
            }
        );
        // Reserves: A 500 + 100; B 500 − (89 + 1).
        assert_eq!((pool.token_a_amount, pool.token_b_amount), (600, 410));
        // Accumulator: floor(1 · 2^128 / (1000 · 2^64)) = floor(2^64 / 1000).
        assert_eq!(pool.fee_b_per_liquidity, u256(Q64 / 1000));
        assert_eq!(pool.fee_a_per_liquidity, U256::ZERO);
        assert_eq!(pool.sqrt_price, r.next_sqrt_price);
    }

    #[test]
    fn exact_in_b_to_a_fee_on_input_with_referral_by_hand() {
        let mut pool = concentrated(CollectFeeMode::OnlyB);
        pool.fees.base_fee_numerator = 100_000_000; // 10 %
        let p = SwapParams {
            has_referral: true,
            ..params(TradeDirection::BtoA, SwapMode::ExactIn, 1000)
        };
        let r = pool.swap(&p).unwrap();
        // Fee on input: ceil(1000 · 0.1) = 100 → 900 enters the curve; protocol 20, of which referral 4.
        assert_eq!(
            (r.included_fee_input_amount, r.excluded_fee_input_amount),
            (1000, 900)
        );
        assert_eq!(
            r.fees(),
            SplitFees {
                claiming_fee: 80,
                compounding_fee: 0,
                protocol_fee: 16,
                referral_fee: 4
            }
        );
        // √P' = 1 + floor(900 · 2^64 / 1000) = 1.9 (floor); out = floor(1000 · 0.9 / 1.9) = 473.
        assert_eq!(r.next_sqrt_price, Q64 + 900 * Q64 / 1000);
        assert_eq!(r.output_amount, 473);
        // Fee on input: reserves take only the net input; the output leaves A.
        assert_eq!((pool.token_a_amount, pool.token_b_amount), (500 - 473, 500 + 900));
        assert_eq!(pool.protocol_b_fee, 16);
    }

    #[test]
    fn exact_out_a_to_b_grosses_up_output_by_hand() {
        let mut pool = concentrated(CollectFeeMode::BothToken);
        let r = pool
            .swap(&params(TradeDirection::AtoB, SwapMode::ExactOut, 89))
            .unwrap();
        // Gross output = ceil(89 / 0.99) = 90, fee 1. √P' = 2^64 − ceil(90 · 2^64 / 1000).
        let step = (90 * Q64).div_ceil(1000);
        assert_eq!(r.next_sqrt_price, Q64 - step);
        // Input = ceil(1000 · step / (2^64 − step)) = ceil(98.90…) = 99.
        assert_eq!(
            (
                r.included_fee_input_amount,
                r.excluded_fee_input_amount,
                r.output_amount
            ),
            (99, 99, 89)
        );
        assert_eq!(r.claiming_fee, 1);
        assert_eq!((pool.token_a_amount, pool.token_b_amount), (599, 410));
    }

    #[test]
    fn exact_out_b_to_a_fee_on_input_by_hand() {
        let mut pool = concentrated(CollectFeeMode::OnlyB);
        let r = pool
            .swap(&params(TradeDirection::BtoA, SwapMode::ExactOut, 100))
            .unwrap();
        // √P' = ceil(1000 / (1000 − 100)) → 10/9; curve input = ceil(1000 · (10/9 − 1)) = 112 (111.1…).
        assert_eq!(r.next_sqrt_price, (1000 * Q64).div_ceil(900));
        assert_eq!(r.excluded_fee_input_amount, 112);
        // Fee on input, grossed up: ceil(112 / 0.99) = 114 (113.13…), fee 2.
        assert_eq!(r.included_fee_input_amount, 114);
        assert_eq!(r.fees().total(), Ok(2));
        assert_eq!(r.output_amount, 100);
    }

    #[test]
    fn partial_fill_stops_at_the_edge_and_regrosses_the_fee() {
        let mut pool = concentrated(CollectFeeMode::OnlyB);
        // B→A capacity to √Pmax = Δb(1, 2, L, Up) = 1000. Offer 2000 with 1 % fee on input: 1980 net, 980 left.
        let r = pool
            .swap(&params(TradeDirection::BtoA, SwapMode::PartialFill, 2000))
            .unwrap();
        assert_eq!((r.excluded_fee_input_amount, r.amount_left), (1000, 980));
        // The fee is re-grossed on the consumed 1000: ceil(1000 / 0.99) = 1011 (1010.1…).
        assert_eq!(r.included_fee_input_amount, 1011);
        assert_eq!(r.fees().total(), Ok(11));
        assert_eq!(r.next_sqrt_price, 2 * Q64);
        assert_eq!(r.output_amount, 500);
        assert_eq!(pool.sqrt_price, pool.sqrt_max_price);
        // At the edge nothing more can be consumed: a partial fill that takes nothing is refused.
        let before = pool;
        assert_eq!(
            pool.swap(&params(TradeDirection::BtoA, SwapMode::PartialFill, 10)),
            Err(MathError::AmountIsZero)
        );
        assert_eq!(pool, before);
        // An exact-in beyond the range fails and leaves the state alone.
        assert_eq!(
            pool.swap(&params(TradeDirection::BtoA, SwapMode::ExactIn, 10)),
            Err(MathError::PriceRangeViolation)
        );
        assert_eq!(pool, before);
    }

    #[test]
    fn compounding_swap_compounds_part_of_the_lp_fee_by_hand() {
        let mut pool = PoolState {
            collect_fee_mode: CollectFeeMode::Compounding,
            sqrt_price: 2 * Q64,
            sqrt_min_price: 0,
            sqrt_max_price: u128::MAX,
            liquidity: u256(2000) << 64,
            token_a_amount: 1000,
            token_b_amount: 4000,
            fees: PoolFees {
                base_fee_numerator: 10_000_000,
                compounding_fee_bps: 5_000,
                ..PoolFees::default()
            },
            ..concentrated(CollectFeeMode::BothToken)
        };
        let r = pool
            .swap(&params(TradeDirection::AtoB, SwapMode::ExactIn, 1000))
            .unwrap();
        // Curve out = floor(4000 · 1000 / 2000) = 2000; fee ceil(20) = 20 → protocol 4, LP 16 = 8 compounding + 8 claiming.
        assert_eq!(r.output_amount, 1980);
        assert_eq!(
            r.fees(),
            SplitFees {
                claiming_fee: 8,
                compounding_fee: 8,
                protocol_fee: 4,
                referral_fee: 0
            }
        );
        // Reserves: A 2000; B 4000 − 2000 + 8 compounded.
        assert_eq!((pool.token_a_amount, pool.token_b_amount), (2000, 2008));
        // Price re-derived from reserves: floor(sqrt(floor(2008 · 2^128 / 2000))).
        let expected = crate::wide::sqrt_u256((u256(2008) << 128usize) / u256(2000));
        assert_eq!(u256(pool.sqrt_price), expected);
        assert_eq!(r.next_sqrt_price, pool.sqrt_price);
        assert_eq!(pool.protocol_b_fee, 4);
    }

    #[test]
    fn dynamic_fee_updates_references_before_and_accumulator_after() {
        let mut pool = concentrated(CollectFeeMode::BothToken);
        pool.liquidity = u256(1_000_000_000) << 64;
        pool.token_a_amount = 500_000_000;
        pool.token_b_amount = 500_000_000;
        pool.fees.dynamic_fee = DynamicFee {
            initialized: true,
            max_volatility_accumulator: 2_000_000,
            variable_fee_control: 40_000,
            bin_step: 1,
            filter_period: 10,
            decay_period: 120,
            reduction_factor: 5_000,
            bin_step_u128: BIN_STEP_BPS_U128_DEFAULT,
            ..DynamicFee::default()
        };
        // First swap: no volatility yet, so only the base fee; it moves the price ~ -0.1 %.
        let r1 = pool
            .swap(&SwapParams {
                current_timestamp: 1_000,
                ..params(TradeDirection::AtoB, SwapMode::ExactIn, 1_000_000)
            })
            .unwrap();
        let d = pool.fees.dynamic_fee;
        assert_eq!(d.sqrt_price_reference, Q64, "reference taken before the swap");
        assert_eq!(d.last_update_timestamp, 1_000);
        let bins = crate::dynamic_fee::delta_bin_id(BIN_STEP_BPS_U128_DEFAULT, pool.sqrt_price, Q64).unwrap();
        assert!(bins > 0);
        assert_eq!(d.volatility_accumulator, bins * 10_000);
        let curve_out1 = r1.output_amount + r1.fees().total().unwrap();
        assert_eq!(
            r1.fees().total().unwrap(),
            (curve_out1 * 10_000_000).div_ceil(1_000_000_000)
        );
        // Second swap 5 s later (within the filter period): references unchanged, fee = base + variable.
        let variable = pool.fees.dynamic_fee.variable_fee().unwrap();
        assert!(variable > 0);
        let r2 = pool
            .swap(&SwapParams {
                current_timestamp: 1_005,
                ..params(TradeDirection::AtoB, SwapMode::ExactIn, 1_000_000)
            })
            .unwrap();
        let n = 10_000_000 + variable as u64;
        let curve_out2 = r2.output_amount + r2.fees().total().unwrap();
        assert_eq!(
            r2.fees().total().unwrap(),
            (curve_out2 * n as u128).div_ceil(1_000_000_000)
        );
        assert_eq!(pool.fees.dynamic_fee.sqrt_price_reference, Q64);
    }

    #[test]
    fn zero_amount_and_invalid_version_fail_without_change() {
        let mut pool = concentrated(CollectFeeMode::BothToken);
        let before = pool;
        assert_eq!(
            pool.swap(&params(TradeDirection::AtoB, SwapMode::ExactIn, 0)),
            Err(MathError::AmountIsZero)
        );
        pool.fees.fee_version = 9;
        assert_eq!(
            pool.swap(&params(TradeDirection::AtoB, SwapMode::ExactOut, 1)),
            Err(MathError::InvalidPoolVersion)
        );
        pool.fees.fee_version = before.fees.fee_version;
        assert_eq!(pool, before);
        // quote never changes the state.
        let q = pool
            .quote(&params(TradeDirection::AtoB, SwapMode::ExactIn, 100))
            .unwrap();
        assert_eq!(q.output_amount, 89);
        assert_eq!(pool, before);
    }
}
