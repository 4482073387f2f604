//! Fuzz target `liquidity_rewards`: `initial_pool` on raw parameters, then a pool (raw or created) with one
//! tracked position and two reward slots, driven by up to 16 operations: add/remove liquidity, exact-in swaps,
//! `RewardInfo::fund`, `update_rewards`, `claim_ineligible_reward` and `PositionReward::update`.
//!
//! Checks that nothing panics and that:
//! - `initial_pool` either fails or returns what it promises (non-empty reserves, position/pool liquidity);
//! - every all-or-nothing operation leaves its state unchanged when it fails;
//! - removing the liquidity just added never pays out more than was paid in;
//! - a position never earns more rewards from a slot than was funded into it (the position's liquidity is at most
//!   the pool's, and the rewards are brought up to date before every liquidity change, as the contracts do).
#![no_main]

mod common;

use arbitrary::Arbitrary;
use common::{check_initial_pool, collect_fee_mode, Amount, FeeSpec, Liquidity, PoolSpec, Time};
use damm_math::{
    constants::{MAX_REWARD_DURATION, MIN_REWARD_DURATION},
    liquidity::initial_pool,
    PoolState, PositionReward, RewardInfo, SwapMode, SwapParams, TradeDirection, U256,
};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct RawInitial {
    collect_fee_mode: u8,
    sqrt_price: u128,
    liquidity: Liquidity,
    sqrt_min: u128,
    sqrt_max: u128,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Duration {
    Raw(u64),
    Valid(u32),
}

impl Duration {
    fn value(self) -> u64 {
        match self {
            Self::Raw(d) => d,
            Self::Valid(d) => {
                MIN_REWARD_DURATION + u64::from(d) % (MAX_REWARD_DURATION - MIN_REWARD_DURATION + 1)
            }
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Op {
    Add {
        liquidity: Liquidity,
        time: Time,
    },
    /// Removes `position · n / 255`.
    RemoveShare {
        n: u8,
        time: Time,
    },
    /// Removes any amount from a copy of the pool (may exceed the position).
    RemoveRaw {
        liquidity: Liquidity,
    },
    Swap {
        a_to_b: bool,
        amount: Amount,
        time: Time,
    },
    Fund {
        slot: bool,
        amount: Amount,
        time: Time,
        carry_forward: bool,
    },
    UpdateRewards {
        slot: bool,
        time: Time,
    },
    ClaimIneligible {
        slot: bool,
        time: Time,
    },
    ClaimPosition {
        slot: bool,
        time: Time,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    raw_initial: RawInitial,
    pool: PoolSpec,
    fees: FeeSpec,
    durations: [Duration; 2],
    start_time: u64,
    ops: Vec<Op>,
}

const MAX_OPS: usize = 16;

struct World {
    pool: PoolState,
    position_liquidity: U256,
    rewards: [RewardInfo; 2],
    position_rewards: [PositionReward; 2],
    /// Sum of the amounts funded into each slot (saturating), and whether it saturated.
    funded: [(u128, bool); 2],
    /// Rewards the position claimed from each slot.
    claimed: [u128; 2],
    now: u64,
}

impl World {
    /// Brings both slots and the position's rewards up to `now`, all or nothing (as the contracts do before a
    /// liquidity change). Returns false if an update fails.
    fn sync(&mut self) -> bool {
        let (rewards, position_rewards) = (self.rewards, self.position_rewards);
        for i in 0..2 {
            let before = self.rewards[i];
            if self.rewards[i]
                .update_rewards(self.pool.liquidity, self.now)
                .is_err()
            {
                assert_eq!(self.rewards[i], before, "failed update_rewards changed the slot");
                (self.rewards, self.position_rewards) = (rewards, position_rewards);
                return false;
            }
            let before = self.position_rewards[i];
            let stored = self.rewards[i].reward_per_token_stored;
            if self.position_rewards[i]
                .update(self.position_liquidity, stored)
                .is_err()
            {
                assert_eq!(
                    self.position_rewards[i], before,
                    "failed position update changed the position"
                );
                (self.rewards, self.position_rewards) = (rewards, position_rewards);
                return false;
            }
        }
        self.check_rewards();
        true
    }

    /// The position never earned more than was funded.
    fn check_rewards(&self) {
        for i in 0..2 {
            let (funded, saturated) = self.funded[i];
            if saturated {
                continue;
            }
            let earned = self.claimed[i].checked_add(self.position_rewards[i].reward_pendings);
            assert!(
                earned.is_some_and(|e| e <= funded),
                "slot {i}: position earned {earned:?} > funded {funded}"
            );
        }
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Add { liquidity, time } => {
                self.now = time.after(self.now);
                if !self.sync() {
                    return;
                }
                let delta = liquidity.value();
                let before = self.pool;
                match self.pool.add_liquidity(delta) {
                    Err(_) => assert_eq!(self.pool, before, "failed add_liquidity changed the pool"),
                    Ok((a_in, b_in)) => {
                        assert_eq!(self.pool.liquidity, before.liquidity + delta);
                        // Removing what was just added never pays out more than was paid in.
                        let mut copy = self.pool;
                        if let Ok((a_out, b_out)) = copy.remove_liquidity(delta) {
                            assert!(
                                a_out <= a_in && b_out <= b_in,
                                "add {a_in}/{b_in}, remove {a_out}/{b_out}"
                            );
                        }
                        self.position_liquidity += delta; // at most the pool's liquidity, which did not overflow
                    }
                }
            }
            Op::RemoveShare { n, time } => {
                self.now = time.after(self.now);
                if !self.sync() {
                    return;
                }
                let delta = self.position_liquidity * U256::from(n) / U256::from(255u8);
                let before = self.pool;
                match self.pool.remove_liquidity(delta) {
                    Err(_) => assert_eq!(self.pool, before, "failed remove_liquidity changed the pool"),
                    Ok((a, b)) => {
                        assert!(a <= before.token_a_amount && b <= before.token_b_amount);
                        assert_eq!(self.pool.liquidity, before.liquidity - delta);
                        self.position_liquidity -= delta;
                    }
                }
            }
            Op::RemoveRaw { liquidity } => {
                let mut copy = self.pool;
                if copy.remove_liquidity(liquidity.value()).is_err() {
                    assert_eq!(copy, self.pool, "failed remove_liquidity changed the pool");
                }
            }
            Op::Swap { a_to_b, amount, time } => {
                self.now = time.after(self.now);
                let params = SwapParams {
                    direction: TradeDirection::from_a_to_b(a_to_b),
                    mode: SwapMode::ExactIn,
                    amount: amount.value(),
                    has_referral: false,
                    current_timestamp: self.now,
                };
                let before = self.pool;
                if self.pool.swap(&params).is_err() {
                    assert_eq!(self.pool, before, "failed swap changed the pool");
                }
                assert_eq!(
                    self.pool.liquidity, before.liquidity,
                    "a swap changed the liquidity"
                );
            }
            Op::Fund {
                slot,
                amount,
                time,
                carry_forward,
            } => {
                self.now = time.after(self.now);
                let i = usize::from(slot);
                let amount = amount.value();
                let before = self.rewards[i];
                match self.rewards[i].fund(amount, self.now, self.pool.liquidity, carry_forward) {
                    Err(_) => assert_eq!(self.rewards[i], before, "failed fund changed the slot"),
                    Ok(total) => {
                        assert!(total >= amount, "funded total {total} below the amount {amount}");
                        let (funded, saturated) = self.funded[i];
                        self.funded[i] = match funded.checked_add(amount) {
                            Some(f) => (f, saturated),
                            None => (u128::MAX, true),
                        };
                    }
                }
            }
            Op::UpdateRewards { slot, time } => {
                self.now = time.after(self.now);
                let i = usize::from(slot);
                let before = self.rewards[i];
                if self.rewards[i]
                    .update_rewards(self.pool.liquidity, self.now)
                    .is_err()
                {
                    assert_eq!(self.rewards[i], before, "failed update_rewards changed the slot");
                }
            }
            Op::ClaimIneligible { slot, time } => {
                self.now = time.after(self.now);
                let i = usize::from(slot);
                let before = self.rewards[i];
                if self.rewards[i]
                    .claim_ineligible_reward(self.pool.liquidity, self.now)
                    .is_err()
                {
                    assert_eq!(
                        self.rewards[i], before,
                        "failed claim_ineligible_reward changed the slot"
                    );
                }
            }
            Op::ClaimPosition { slot, time } => {
                self.now = time.after(self.now);
                if !self.sync() {
                    return;
                }
                let i = usize::from(slot);
                let paid = self.position_rewards[i].claim();
                assert_eq!(self.position_rewards[i].reward_pendings, 0);
                self.claimed[i] = self.claimed[i].saturating_add(paid);
            }
        }
        self.check_rewards();
    }
}

fuzz_target!(|input: Input| {
    // initial_pool on raw parameters: an error, or a pool as promised.
    let raw = &input.raw_initial;
    let mode = collect_fee_mode(raw.collect_fee_mode);
    let liquidity = raw.liquidity.value();
    if let Ok(init) = initial_pool(mode, raw.sqrt_price, liquidity, raw.sqrt_min, raw.sqrt_max) {
        check_initial_pool(mode, raw.sqrt_price, liquidity, &init);
    }

    let Some((pool, position_liquidity)) = input.pool.build(&input.fees) else {
        return;
    };
    let slot = |d: Duration| RewardInfo::new(d.value()).unwrap_or_default();
    let mut world = World {
        pool,
        // A raw pool's liquidity may be anything; the tracked position holds at most all of it.
        position_liquidity: position_liquidity.min(pool.liquidity),
        rewards: [slot(input.durations[0]), slot(input.durations[1])],
        position_rewards: [PositionReward::default(); 2],
        funded: [(0, false); 2],
        claimed: [0; 2],
        now: input.start_time,
    };
    for op in input.ops.iter().take(MAX_OPS) {
        world.apply(op);
    }
});
