#!/usr/bin/env python3
"""Differential check: random requests inside DAMM v2's own domain, answered by the Rust vectors program and by
the Python reference model (scripts/vectors_ref.py); reports every disagreement.

    cargo build --release -p damm-math --example vectors
    python3 scripts/vectors_diff.py [--count 20000] [--seed 1] [--bin target/release/examples/vectors]
                                    [--save requests.jsonl]

Domain: u64 amounts, u128 liquidity, sqrt prices within [MIN_SQRT_PRICE, MAX_SQRT_PRICE], valid dynamic-fee
parameters. Exit status 1 if any response differs.
"""

import argparse
import collections
import json
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import vectors_ref as ref  # noqa: E402

MIN_P, MAX_P = ref.MIN_SQRT_PRICE, ref.MAX_SQRT_PRICE
U64, U128 = ref.U64_MAX, ref.U128_MAX


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def log_int(self, lo_bits, hi_bits):
        """An integer with a log-uniform number of bits in [lo_bits, hi_bits]."""
        bits = self.r.randint(lo_bits, hi_bits)
        return self.r.getrandbits(bits) if bits > 0 else 0

    def amount(self):
        pick = self.r.random()
        if pick < 0.05:
            return self.r.choice([0, 1, 2, U64])
        return min(self.log_int(1, 64), U64)

    def liquidity(self):
        if self.r.random() < 0.03:
            return self.r.choice([1, U128])
        return self.log_int(40, 128)

    def sqrt_price(self):
        pick = self.r.random()
        if pick < 0.05:
            return self.r.choice([MIN_P, MAX_P, MIN_P + 1, MAX_P - 1, 1 << 64])
        if pick < 0.4:  # near 1.0
            return (1 << 64) + self.r.randint(-(1 << 62), 1 << 62)
        return self.r.randint(MIN_P, MAX_P) >> self.r.randint(0, 60) or MIN_P

    def price_in_range(self):
        p = max(MIN_P, min(MAX_P, self.sqrt_price()))
        lo = p if self.r.random() < 0.05 else self.r.randint(MIN_P, p)
        hi = p if self.r.random() < 0.05 else self.r.randint(p, MAX_P)
        if lo == hi:
            hi = min(MAX_P, hi + 1)
            lo = hi - 1 if lo == hi else lo
        if self.r.random() < 0.5:  # a narrower range around the price
            lo = max(lo, p - (p >> self.r.randint(1, 20)))
            hi = min(hi, p + (p >> self.r.randint(1, 20)))
            lo, hi = (lo, hi) if lo < hi else (p - 1, p + 1)
        return p, lo, hi

    def fee_numerator(self):
        return self.r.choice([0, 100_000, 2_500_000, 3_000_000, 10_000_000, 100_000_000, 500_000_000,
                              self.r.randint(100_000, 990_000_000)])

    def dynamic_fee(self):
        filter_period = self.r.choice([0, 10, 30])
        d = {
            "filter_period": filter_period,
            "decay_period": filter_period + self.r.choice([1, 110, 600]),
            "reduction_factor": self.r.choice([0, 5000, 10000]),
            "max_volatility_accumulator": self.r.choice([14_460_000, 350_000, 0xFFFFFF]),
            "variable_fee_control": self.r.choice([0, 40_000, 1_000_000, 0xFFFFFF]),
        }
        d["volatility_accumulator"] = str(self.r.randint(0, d["max_volatility_accumulator"]))
        d["volatility_reference"] = str(self.r.randint(0, d["max_volatility_accumulator"]))
        d["sqrt_price_reference"] = str(self.sqrt_price())
        d["last_update_timestamp"] = self.r.randint(0, 1_000_000)
        return d

    def pool(self):
        mode = self.r.choice([0, 1, 2])
        req = {"collect_fee_mode": mode, "fee_numerator": self.fee_numerator()}
        if mode == 2:
            a, b = max(1, self.amount()), max(1, self.amount())
            req.update(token_a_amount=str(a), token_b_amount=str(b),
                       sqrt_price=str(ref.sqrt_price_from_amounts(a, b)), liquidity=str(self.liquidity()),
                       compounding_fee_bps=self.r.choice([1, 100, 5000, 10000]))
        else:
            p, lo, hi = self.price_in_range()
            req.update(sqrt_price=str(p), sqrt_min=str(lo), sqrt_max=str(hi), liquidity=str(self.liquidity()))
        if self.r.random() < 0.4:
            req["dynamic_fee"] = self.dynamic_fee()
        if self.r.random() < 0.2:
            req["fee_version"] = self.r.choice([0, 1])
        return req

    def swap_amount(self, req, a_to_b, exact_out):
        """Mostly amounts of the order of what the pool can take, so that swaps often succeed."""
        if self.r.random() < 0.3:
            return self.amount()
        if req["collect_fee_mode"] == 2:
            reserve = int(req["token_b_amount"] if a_to_b == exact_out else req["token_a_amount"])
        else:
            p, lo, hi, L = (int(req[k]) for k in ("sqrt_price", "sqrt_min", "sqrt_max", "liquidity"))
            if a_to_b != exact_out:  # token A capacity
                reserve = L * (hi - p) // (p * hi) if exact_out else L * (p - lo) // (p * lo)
            else:  # token B capacity
                reserve = L * (p - lo) >> 128 if exact_out else L * (hi - p) >> 128
        reserve = min(reserve, U64)
        return min(U64, max(1, int(reserve * self.r.choice([0.001, 0.1, 0.5, 0.9, 0.999, 1.0, 1.01, 2]))))

    def request(self):
        op = self.r.choices(
            ["swap_exact_in", "swap_partial_fill", "swap_exact_out", "delta_a", "delta_b",
             "next_sqrt_price_from_input", "next_sqrt_price_from_output", "fee_split", "excluded_fee_amount",
             "included_fee_amount", "delta_bin_id", "compounding_sqrt_price", "dynamic_fee", "modify_liquidity",
             "initial_pool", "reward_update", "reward_fund"],
            weights=[20, 15, 15, 5, 5, 5, 5, 3, 3, 3, 3, 2, 4, 4, 3, 2, 2])[0]
        r = self.r
        if op.startswith("swap_"):
            req = self.pool()
            a_to_b = r.random() < 0.5
            exact_out = op == "swap_exact_out"
            req.update(op=op, a_to_b=a_to_b, has_referral=r.random() < 0.5,
                       current_timestamp=r.randint(0, 1_000_200))
            req["amount_out" if exact_out else "amount_in"] = str(self.swap_amount(req, a_to_b, exact_out))
            return req
        if op in ("delta_a", "delta_b"):
            p, lo, hi = self.price_in_range()
            lower, upper = (lo, p) if r.random() < 0.5 else (p, hi)
            return {"op": op, "lower": str(lower), "upper": str(upper), "liquidity": str(self.liquidity()),
                    "round": r.choice(["up", "down"])}
        if op.startswith("next_sqrt_price"):
            key = "amount_in" if op.endswith("input") else "amount_out"
            return {"op": op, "sqrt_price": str(max(MIN_P, min(MAX_P, self.sqrt_price()))),
                    "liquidity": str(max(1, self.liquidity())), key: str(self.amount()), "a_to_b": r.random() < 0.5}
        if op == "fee_split":
            return {"op": op, "fee_amount": str(self.amount()), "has_referral": r.random() < 0.5,
                    "protocol_fee_percent": r.choice([0, 20, 50, 100]), "referral_fee_percent": r.choice([0, 20, 100]),
                    "compounding_fee_bps": r.choice([0, 1, 5000, 10000])}
        if op == "excluded_fee_amount":
            return {"op": op, "fee_numerator": str(self.fee_numerator()), "included_fee_amount": str(self.amount())}
        if op == "included_fee_amount":
            return {"op": op, "fee_numerator": str(self.fee_numerator()), "excluded_fee_amount": str(self.amount())}
        if op == "delta_bin_id":
            return {"op": op, "sqrt_price_a": str(self.sqrt_price()), "sqrt_price_b": str(self.sqrt_price())}
        if op == "compounding_sqrt_price":
            return {"op": op, "token_a_amount": str(self.amount()), "token_b_amount": str(self.amount())}
        if op == "dynamic_fee":
            d = self.dynamic_fee()
            now = r.randint(0, 1_000_200)
            req = {"op": op, "dynamic_fee": d}
            if r.random() < 0.8:
                req["pre_swap"] = {"sqrt_price": str(self.sqrt_price()), "current_timestamp": now}
            if r.random() < 0.8:
                req["post_swap"] = {"old_sqrt_price": str(self.sqrt_price()), "sqrt_price": str(self.sqrt_price()),
                                    "current_timestamp": now}
            if r.random() < 0.7:
                req["base_fee_numerator"] = self.fee_numerator()
            return req
        if op == "modify_liquidity":
            req = self.pool()
            req.update(op=op, liquidity_delta=str(self.liquidity()), action=r.choice(["add", "remove"]))
            return req
        if op == "initial_pool":
            mode = r.choice([0, 1, 2])
            req = {"op": op, "collect_fee_mode": mode, "liquidity": str(self.liquidity())}
            if mode == 2:
                req["sqrt_price"] = str(max(MIN_P, min(MAX_P, self.sqrt_price())))
            else:
                p, lo, hi = self.price_in_range()
                req.update(sqrt_price=str(p), sqrt_min=str(lo), sqrt_max=str(hi))
            return req
        # rewards
        duration = r.choice([86_400, 604_800, 31_536_000])
        start = r.randint(0, 1_000_000)
        req = {"op": op, "reward_rate": str(self.log_int(0, 100)), "reward_duration_end": start + duration,
               "last_update_time": r.randint(start, start + duration),
               "reward_per_token_stored": str(self.log_int(0, 200)),
               "cumulative_seconds_with_empty_liquidity_reward": r.choice([0, 0, r.randint(0, duration)]),
               "liquidity_supply": str(r.choice([0, self.liquidity()])),
               "current_time": start + r.randint(0, 2 * duration)}
        req["current_time"] = max(req["current_time"], req["last_update_time"])
        if op == "reward_update":
            if r.random() < 0.7:
                req["position"] = {"liquidity": str(self.liquidity()), "reward_per_token_checkpoint": "0",
                                   "reward_pendings": str(self.amount())}
        else:
            req.update(reward_duration=duration, funding_amount=str(self.amount()), carry_forward=r.random() < 0.5)
        return req


BOUNDARY = [0, 1, 2, 3, U64 - 1, U64, U64 + 1, 1 << 64, U128 - 1, U128, U128 + 1, ref.U256_MAX, MIN_P - 1, MIN_P,
            MIN_P + 1, MAX_P - 1, MAX_P, MAX_P + 1, ref.DEAD_LIQUIDITY, 999_999_999, 1_000_000_000, 990_000_000]


class WideGen(Gen):
    """Beyond DAMM v2's domain: u128 amounts, U256 liquidity, any prices and parameters (the widened domain and
    garbage-in); values outside a field's type are clamped to it so that requests stay well-formed."""

    def pick(self, bits):
        r = self.r.random()
        v = self.r.choice(BOUNDARY) if r < 0.3 else self.log_int(0, bits)
        return min(v, (1 << bits) - 1)

    def amount(self):
        return self.pick(128)

    def liquidity(self):
        return self.pick(256)

    def sqrt_price(self):
        return self.pick(128) if self.r.random() < 0.3 else super().sqrt_price()

    def fee_numerator(self):
        return self.pick(64) if self.r.random() < 0.3 else super().fee_numerator()

    def price_in_range(self):
        if self.r.random() < 0.3:
            return self.pick(128), self.pick(128), self.pick(128)
        return super().price_in_range()

    def dynamic_fee(self):
        d = super().dynamic_fee()
        for key, bits in [("filter_period", 16), ("decay_period", 16), ("reduction_factor", 16),
                          ("max_volatility_accumulator", 32), ("variable_fee_control", 32), ("bin_step", 16),
                          ("bin_step_u128", 128), ("volatility_accumulator", 128), ("volatility_reference", 128),
                          ("last_update_timestamp", 64)]:
            if self.r.random() < 0.1:
                d[key] = str(self.pick(bits))
        return d

    def pool(self):
        req = super().pool()
        for key, bits in [("collect_fee_mode", 8), ("compounding_fee_bps", 16), ("protocol_fee_percent", 8),
                          ("referral_fee_percent", 8), ("fee_version", 8), ("protocol_a_fee", 128),
                          ("protocol_b_fee", 128), ("fee_a_per_liquidity", 256), ("fee_b_per_liquidity", 256)]:
            if self.r.random() < 0.05:
                req[key] = str(self.pick(bits) if self.r.random() < 0.5 else self.r.randint(0, 3))
        if req.get("collect_fee_mode") in (2, "2") and "token_a_amount" not in req:
            req.update(token_a_amount=str(self.amount()), token_b_amount=str(self.amount()))
        if self.r.random() < 0.1:
            req.pop("token_a_amount", None)
        return req

    def swap_amount(self, req, a_to_b, exact_out):
        try:
            return min(U128, super().swap_amount(req, a_to_b, exact_out) * self.r.choice([1, 1, 1 << 40]))
        except (ValueError, ZeroDivisionError, KeyError):
            return self.amount()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "target", "release", "examples", "vectors"))
    ap.add_argument("--save", help="write the generated requests to this file")
    ap.add_argument("--show", type=int, default=5, help="mismatches to print per op")
    ap.add_argument("--wide", action="store_true", help="beyond DAMM v2's domain (widened types, boundaries)")
    args = ap.parse_args()

    g = WideGen(args.seed) if args.wide else Gen(args.seed)
    requests = [g.request() for _ in range(args.count)]
    for i, req in enumerate(requests):
        req["id"] = i
    lines = [json.dumps(r) for r in requests]
    if args.save:
        with open(args.save, "w") as f:
            f.write("\n".join(lines) + "\n")

    proc = subprocess.run([args.bin], input="\n".join(lines) + "\n", capture_output=True, text=True, check=True)
    rust = [json.loads(x) for x in proc.stdout.splitlines()]
    if len(rust) != len(lines):
        sys.exit(f"the Rust program answered {len(rust)} lines for {len(lines)} requests")
    python = [ref.handle(x) for x in lines]

    outcomes = collections.Counter()
    mismatches = collections.defaultdict(list)
    for req, a, b in zip(requests, rust, python):
        outcomes[(req["op"], a.get("error", "ok"))] += 1
        if a != b:
            mismatches[req["op"]].append((req, a, b))

    print(f"{len(requests)} requests, seed {args.seed}{', wide domain' if args.wide else ''}")
    print("outcomes (Rust):")
    for (op, outcome), n in sorted(outcomes.items()):
        print(f"  {op:30} {outcome:28} {n}")
    total = sum(len(v) for v in mismatches.values())
    print(f"mismatches: {total}")
    for op, items in sorted(mismatches.items()):
        print(f"  {op}: {len(items)}")
        for req, a, b in items[: args.show]:
            print("    request:", json.dumps(req))
            print("    rust:   ", json.dumps(a, sort_keys=True))
            print("    python: ", json.dumps(b, sort_keys=True))
    sys.exit(1 if total else 0)


if __name__ == "__main__":
    main()
