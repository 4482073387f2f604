//! Liquidity-mining rewards (DAMM v2 `RewardInfo`, `UserRewardInfo`, `ix_fund_reward`).
//!
//! A reward streams `reward_rate` tokens per second (2^64-scaled) to the pool's liquidity until
//! `reward_duration_end`. `reward_per_token_stored` accumulates `rate · t / L` with a further 2^128 scale
//! (combined 2^192 per unit of raw liquidity). Every division truncates; dust stays with the funder's tokens.
//!
//! Widening: ERC-20 totals are `u128`, so `reward_rate = total · 2^64 / duration` needs up to 192 bits; it is a
//! [`U256`] here (DAMM v2: `u128`). Results inside DAMM v2's domain are unchanged.

use crate::{
    constants::{
        LIQUIDITY_SCALE, MAX_REWARD_DURATION, MIN_REWARD_DURATION, REWARD_RATE_SCALE, TOTAL_REWARD_SCALE,
    },
    position::accrued,
    wide::{div_rem, mul_div_u256, mul_shr_256, to_u128, U256},
    MathError, Result,
};

/// One reward slot of a pool (`RewardInfo`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RewardInfo {
    /// The slot has a reward token.
    pub initialized: bool,
    /// Length of a funding period, seconds.
    pub reward_duration: u64,
    /// End of the current period, unix seconds.
    pub reward_duration_end: u64,
    /// Tokens per second, 2^64-scaled.
    pub reward_rate: U256,
    /// Last time `reward_per_token_stored` was brought up to date, unix seconds.
    pub last_update_time: u64,
    /// Rewards per unit of raw liquidity, 2^192-scaled.
    pub reward_per_token_stored: U256,
    /// Seconds the reward streamed while the pool had no liquidity (nobody earned them).
    pub cumulative_seconds_with_empty_liquidity_reward: u64,
}

/// A position's reward state for one slot (`UserRewardInfo`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PositionReward {
    /// `reward_per_token_stored` at the last update.
    pub reward_per_token_checkpoint: U256,
    /// Rewards owed, atoms.
    pub reward_pendings: u128,
}

/// Checks a reward duration: within `[MIN_REWARD_DURATION, MAX_REWARD_DURATION]`.
///
/// # Errors
/// [`MathError::InvalidRewardDuration`].
pub fn validate_reward_duration(duration: u64) -> Result<()> {
    if (MIN_REWARD_DURATION..=MAX_REWARD_DURATION).contains(&duration) {
        Ok(())
    } else {
        Err(MathError::InvalidRewardDuration)
    }
}

impl RewardInfo {
    /// A fresh, initialized slot with the given duration (`init_reward`).
    ///
    /// # Errors
    /// [`MathError::InvalidRewardDuration`].
    pub fn new(reward_duration: u64) -> Result<Self> {
        validate_reward_duration(reward_duration)?;
        Ok(Self {
            initialized: true,
            reward_duration,
            ..Self::default()
        })
    }

    /// Reward-per-liquidity earned since the last update (`calculate_reward_per_token_stored_since_last_update`):
    /// `floor(t · rate · 2^128 / L)`.
    ///
    /// # Errors
    /// [`MathError::MathOverflow`] on overflow or `L == 0`.
    pub fn reward_per_token_since(&self, liquidity_supply: U256, seconds: u64) -> Result<U256> {
        let streamed = self
            .reward_rate
            .checked_mul(U256::from(seconds))
            .ok_or(MathError::MathOverflow)?;
        mul_div_u256(
            streamed,
            U256::from(1u8) << LIQUIDITY_SCALE,
            liquidity_supply,
            crate::Rounding::Down,
        )
        .ok_or(MathError::MathOverflow)
    }

    /// Brings the slot up to `now` (`update_rewards`): with `t = min(now, end) − last_update_time`, adds
    /// `floor(t · rate · 2^128 / L)` to `reward_per_token_stored` if `L > 0`, else counts `t` as seconds with
    /// empty liquidity; then `last_update_time = min(now, end)`. No-op for an uninitialized slot.
    ///
    /// # Errors
    /// [`MathError::MathOverflow`] if `last_update_time > min(now, end)` or on overflow. On error the slot is
    /// unchanged.
    pub fn update_rewards(&mut self, liquidity_supply: U256, now: u64) -> Result<()> {
        if !self.initialized {
            return Ok(());
        }
        let until = now.min(self.reward_duration_end);
        let t = until
            .checked_sub(self.last_update_time)
            .ok_or(MathError::MathOverflow)?;
        if liquidity_supply.is_zero() {
            self.cumulative_seconds_with_empty_liquidity_reward = self
                .cumulative_seconds_with_empty_liquidity_reward
                .checked_add(t)
                .ok_or(MathError::MathOverflow)?;
        } else {
            let delta = self.reward_per_token_since(liquidity_supply, t)?;
            self.reward_per_token_stored = self
                .reward_per_token_stored
                .checked_add(delta)
                .ok_or(MathError::MathOverflow)?;
        }
        self.last_update_time = until;
        Ok(())
    }

    /// `floor(rate · seconds / 2^64)`: tokens streamed over `seconds`, atoms.
    ///
    /// # Errors
    /// [`MathError::TypeCastFailed`] if the amount exceeds `u128`.
    pub fn streamed(&self, seconds: u64) -> Result<u128> {
        let v = mul_shr_256(self.reward_rate, U256::from(seconds), REWARD_RATE_SCALE)
            .ok_or(MathError::TypeCastFailed)?;
        to_u128(v)
    }

    /// Restarts the stream with `total` more tokens (`update_rate_after_funding`): what is left of the running
    /// period is added to `total`, then `rate = floor(total · 2^64 / duration)`, `last_update_time = now`,
    /// `end = now + duration`. Returns the total streamed over the new period.
    ///
    /// # Errors
    /// [`MathError::MathOverflow`] if `duration == 0` or on overflow; [`MathError::TypeCastFailed`].
    pub fn update_rate_after_funding(&mut self, now: u64, total: u128) -> Result<u128> {
        let mut total = total;
        if now < self.reward_duration_end {
            let left = self.streamed(self.reward_duration_end - now)?;
            total = total.checked_add(left).ok_or(MathError::MathOverflow)?;
        }
        if self.reward_duration == 0 {
            return Err(MathError::MathOverflow);
        }
        let (rate, _) = div_rem(
            U256::from(total) << REWARD_RATE_SCALE,
            U256::from(self.reward_duration),
        )
        .ok_or(MathError::MathOverflow)?;
        let end = now
            .checked_add(self.reward_duration)
            .ok_or(MathError::MathOverflow)?;
        self.reward_rate = rate;
        self.last_update_time = now;
        self.reward_duration_end = end;
        Ok(total)
    }

    /// Funds the slot (`ix_fund_reward`): brings it up to date, optionally carries forward what streamed to empty
    /// liquidity, then restarts the stream. Returns the total of the new period. All or nothing.
    ///
    /// # Errors
    /// [`MathError::AmountIsZero`]; [`MathError::RewardUninitialized`];
    /// [`MathError::MustWithdrawnIneligibleReward`] without carry-forward while empty-liquidity seconds are
    /// unclaimed; those of the updates.
    pub fn fund(
        &mut self,
        amount: u128,
        now: u64,
        liquidity_supply: U256,
        carry_forward: bool,
    ) -> Result<u128> {
        if amount == 0 {
            return Err(MathError::AmountIsZero);
        }
        if !self.initialized {
            return Err(MathError::RewardUninitialized);
        }
        let mut next = *self;
        next.update_rewards(liquidity_supply, now)?;
        let mut total = amount;
        if carry_forward {
            let ineligible = next.streamed(next.cumulative_seconds_with_empty_liquidity_reward)?;
            total = total.checked_add(ineligible).ok_or(MathError::MathOverflow)?;
            next.cumulative_seconds_with_empty_liquidity_reward = 0;
        } else if next.cumulative_seconds_with_empty_liquidity_reward != 0 {
            return Err(MathError::MustWithdrawnIneligibleReward);
        }
        let total = next.update_rate_after_funding(now, total)?;
        *self = next;
        Ok(total)
    }

    /// Withdraws what streamed while the pool was empty, once the period has ended (`claim_ineligible_reward`):
    /// `floor(empty_seconds · rate / 2^64)`, and resets the counter.
    ///
    /// # Errors
    /// [`MathError::RewardCampaignInProgress`] before the end; those of the updates.
    pub fn claim_ineligible_reward(&mut self, liquidity_supply: U256, now: u64) -> Result<u128> {
        if now < self.reward_duration_end {
            return Err(MathError::RewardCampaignInProgress);
        }
        let mut next = *self;
        next.update_rewards(liquidity_supply, now)?;
        let amount = next.streamed(next.cumulative_seconds_with_empty_liquidity_reward)?;
        next.cumulative_seconds_with_empty_liquidity_reward = 0;
        *self = next;
        Ok(amount)
    }
}

impl PositionReward {
    /// Accrues a position's rewards up to `reward_per_token_stored` (`UserRewardInfo::update_rewards`):
    /// `pending += floor(L_pos · (stored − checkpoint) / 2^192)`, `checkpoint = stored`.
    ///
    /// # Errors
    /// [`MathError::MathOverflow`] if `stored < checkpoint` or pending overflows; [`MathError::TypeCastFailed`].
    pub fn update(&mut self, position_liquidity: U256, reward_per_token_stored: U256) -> Result<()> {
        let earned = accrued(
            position_liquidity,
            reward_per_token_stored,
            self.reward_per_token_checkpoint,
            TOTAL_REWARD_SCALE,
        )?;
        self.reward_pendings = self
            .reward_pendings
            .checked_add(earned)
            .ok_or(MathError::MathOverflow)?;
        self.reward_per_token_checkpoint = reward_per_token_stored;
        Ok(())
    }

    /// Pays out the pending rewards and zeroes them.
    pub fn claim(&mut self) -> u128 {
        core::mem::take(&mut self.reward_pendings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wide::u256;

    const DAY: u64 = 86_400;

    #[test]
    fn funding_sets_rate_and_period() {
        let mut r = RewardInfo::new(DAY).unwrap();
        let l = u256(1000) << 64;
        let total = r.fund(86_400_000, 1_000, l, false).unwrap();
        assert_eq!(total, 86_400_000);
        assert_eq!(r.reward_rate, U256::from(1000u32) << 64); // 1000 tokens per second
        assert_eq!((r.last_update_time, r.reward_duration_end), (1_000, 1_000 + DAY));
        // Half-way, refunding carries over the unstreamed half.
        let total = r.fund(1, 1_000 + DAY / 2, l, false).unwrap();
        assert_eq!(total, 43_200_000 + 1);
    }

    #[test]
    fn stream_accrues_to_positions_pro_rata() {
        let mut r = RewardInfo::new(DAY).unwrap();
        let l = u256(1000) << 64; // two positions: 250 and 750
        r.fund(86_400_000, 0, l, false).unwrap();
        r.update_rewards(l, 100).unwrap();
        let mut a = PositionReward::default();
        let mut b = PositionReward::default();
        a.update(u256(250) << 64, r.reward_per_token_stored).unwrap();
        b.update(u256(750) << 64, r.reward_per_token_stored).unwrap();
        // 100 s at 1000/s = 100_000 tokens; split 1:3.
        assert_eq!((a.reward_pendings, b.reward_pendings), (25_000, 75_000));
        // Past the end, nothing more streams.
        r.update_rewards(l, 10 * DAY).unwrap();
        a.update(u256(250) << 64, r.reward_per_token_stored).unwrap();
        b.update(u256(750) << 64, r.reward_per_token_stored).unwrap();
        assert!(a.reward_pendings + b.reward_pendings <= 86_400_000);
        assert_eq!(a.claim(), 21_600_000);
        assert_eq!(a.reward_pendings, 0);
    }

    #[test]
    fn empty_liquidity_seconds_are_ineligible() {
        let mut r = RewardInfo::new(DAY).unwrap();
        r.fund(86_400, 0, U256::ZERO, false).unwrap();
        r.update_rewards(U256::ZERO, 10).unwrap();
        assert_eq!(r.cumulative_seconds_with_empty_liquidity_reward, 10);
        assert_eq!(
            r.fund(5, 20, U256::from(1u8), false),
            Err(MathError::MustWithdrawnIneligibleReward)
        );
        assert_eq!(
            r.claim_ineligible_reward(U256::ZERO, 20),
            Err(MathError::RewardCampaignInProgress)
        );
        let amount = r.claim_ineligible_reward(U256::ZERO, DAY).unwrap();
        assert_eq!(amount, 86_400);
        assert_eq!(r.cumulative_seconds_with_empty_liquidity_reward, 0);
    }

    #[test]
    fn carry_forward_folds_ineligible_into_the_next_period() {
        let mut r = RewardInfo::new(DAY).unwrap();
        r.fund(86_400, 0, U256::ZERO, false).unwrap();
        r.update_rewards(U256::ZERO, 10).unwrap();
        // 10 empty seconds, then funding at t = 10 with carry-forward: 10 ineligible + 86_390 left + 100 new.
        let total = r.fund(100, 10, U256::from(1u8), true).unwrap();
        assert_eq!(total, 100 + 10 + 86_390);
        assert_eq!(r.cumulative_seconds_with_empty_liquidity_reward, 0);
    }

    #[test]
    fn durations_and_bad_input() {
        assert_eq!(RewardInfo::new(DAY - 1), Err(MathError::InvalidRewardDuration));
        assert_eq!(
            RewardInfo::new(MAX_REWARD_DURATION + 1),
            Err(MathError::InvalidRewardDuration)
        );
        let mut r = RewardInfo::new(DAY).unwrap();
        assert_eq!(r.fund(0, 0, U256::ZERO, false), Err(MathError::AmountIsZero));
        r.last_update_time = 50;
        r.reward_duration_end = 100;
        let snapshot = r;
        assert_eq!(
            r.update_rewards(U256::from(1u8), 10),
            Err(MathError::MathOverflow)
        );
        assert_eq!(r, snapshot);
        assert_eq!(
            RewardInfo::default().fund(1, 0, U256::ZERO, false),
            Err(MathError::RewardUninitialized)
        );
    }
}
