//! The math-vectors program (`examples/vectors.rs`, the interface of `VECTORS.md`) against its test vectors
//! (`tests/vectors/*.jsonl` at the workspace root), against garbage and boundary input, and against the
//! independent Python reference model (`scripts/vectors_ref.py`).

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use serde_json::{json, Map, Value};

#[allow(dead_code)]
#[path = "../examples/vectors.rs"]
mod vectors;

use vectors::handle_line;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One test vector: where it comes from, the request line, the expected response.
struct Case {
    file: String,
    line: usize,
    name: String,
    request_line: String,
    expect: Value,
}

fn load_cases() -> Vec<Case> {
    let dir = workspace_root().join("tests/vectors");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for path in files {
        let file = path
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .into_owned();
        let text =
            fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let at = format!("{file}:{}", i + 1);
            let case: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{at}: not JSON: {e}"));
            let name = case["name"]
                .as_str()
                .unwrap_or_else(|| panic!("{at}: no \"name\""))
                .to_string();
            // "request_line" carries a raw line (for requests that are not a JSON object).
            let request_line = match (&case["request_line"], &case["request"]) {
                (Value::String(raw), _) => raw.clone(),
                (Value::Null, Value::Null) => panic!("{at}: no \"request\""),
                (Value::Null, request) => serde_json::to_string(request).expect("serialize"),
                _ => panic!("{at}: \"request_line\" must be a string"),
            };
            let expect = case
                .get("expect")
                .cloned()
                .unwrap_or_else(|| panic!("{at}: no \"expect\""));
            cases.push(Case {
                file: file.clone(),
                line: i + 1,
                name,
                request_line,
                expect,
            });
        }
    }
    cases
}

fn parse_response(request: &str, response: &str) -> Map<String, Value> {
    assert!(
        !response.contains('\n'),
        "multi-line response to {request}: {response}"
    );
    match serde_json::from_str::<Value>(response) {
        Ok(Value::Object(o)) => o,
        other => panic!("response to {request} is not a JSON object: {response} ({other:?})"),
    }
}

#[test]
fn replays_every_test_vector() {
    let cases = load_cases();
    assert!(
        cases.len() >= 40,
        "only {} test vectors found under tests/vectors (want at least 40)",
        cases.len()
    );
    let mut failures = Vec::new();
    for c in &cases {
        let response = handle_line(&c.request_line);
        let got: Value = serde_json::from_str(&response).expect("the handler answers JSON");
        if got != c.expect {
            failures.push(format!(
                "{}:{} \"{}\"\n  request:  {}\n  expected: {}\n  got:      {}",
                c.file, c.line, c.name, c.request_line, c.expect, got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------------------
// Robustness

const U64_MAX: &str = "18446744073709551615";
const TWO_64: &str = "18446744073709551616";
const U128_MAX: &str = "340282366920938463463374607431768211455";
const TWO_128: &str = "340282366920938463463374607431768211456";
const U256_MAX: &str = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
const U256_MAX_HEX: &str = "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
const BEYOND_U256_HEX: &str = "0x10000000000000000000000000000000000000000000000000000000000000000";
const MIN_SQRT: &str = "4295048016";
const MAX_SQRT: &str = "79226673521066979257578248091";

/// Boundary values a numeric field is drawn from (plus some that are not numbers at all).
fn boundary_values() -> Vec<Value> {
    let mut v: Vec<Value> = [
        "0",
        "1",
        "2",
        "3",
        "100",
        "10000",
        "1000000000",
        "990000000",
        "4294967295",
        U64_MAX,
        TWO_64,
        "36893488147419103232",
        "1844674407370955161600",
        U128_MAX,
        TWO_128,
        U256_MAX,
        U256_MAX_HEX,
        BEYOND_U256_HEX,
        "4295048015",
        MIN_SQRT,
        "4295048017",
        "79226673521066979257578248090",
        MAX_SQRT,
        "79226673521066979257578248092",
        "0x0",
        "0xFFFF",
        "-1",
        "1.5",
        "abc",
        "",
        "0x",
        " 1",
        "１",
    ]
    .iter()
    .map(|s| Value::String(s.to_string()))
    .collect();
    v.extend([
        json!(0),
        json!(1),
        json!(u64::MAX),
        json!(-1),
        json!(1.5),
        json!(1e30),
        json!(true),
        json!(null),
        json!([1]),
        json!({"x": 1}),
    ]);
    v
}

const POOL_FIELDS: &[&str] = &[
    "collect_fee_mode",
    "sqrt_price",
    "liquidity",
    "sqrt_min",
    "sqrt_max",
    "token_a_amount",
    "token_b_amount",
    "fee_numerator",
    "compounding_fee_bps",
    "protocol_fee_percent",
    "referral_fee_percent",
    "fee_version",
    "fee_a_per_liquidity",
    "fee_b_per_liquidity",
    "protocol_a_fee",
    "protocol_b_fee",
];
const DYNAMIC_FIELDS: &[&str] = &[
    "filter_period",
    "decay_period",
    "reduction_factor",
    "max_volatility_accumulator",
    "variable_fee_control",
    "bin_step",
    "bin_step_u128",
    "volatility_accumulator",
    "volatility_reference",
    "sqrt_price_reference",
    "last_update_timestamp",
];
const REWARD_FIELDS: &[&str] = &[
    "reward_rate",
    "reward_duration_end",
    "last_update_time",
    "reward_per_token_stored",
    "cumulative_seconds_with_empty_liquidity_reward",
    "liquidity_supply",
    "current_time",
];

/// Every op with its numeric fields (nested ones as `object.field`) and its boolean/choice fields.
fn ops() -> Vec<(&'static str, Vec<String>, Vec<&'static str>)> {
    let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let with_pool = |extra: &[&str]| {
        let mut v = own(POOL_FIELDS);
        v.extend(own(extra));
        v.extend(DYNAMIC_FIELDS.iter().map(|f| format!("dynamic_fee.{f}")));
        v
    };
    let mut dynamic: Vec<String> = DYNAMIC_FIELDS
        .iter()
        .map(|f| format!("dynamic_fee.{f}"))
        .collect();
    dynamic.extend(own(&[
        "pre_swap.sqrt_price",
        "pre_swap.current_timestamp",
        "post_swap.old_sqrt_price",
        "post_swap.sqrt_price",
        "post_swap.current_timestamp",
        "base_fee_numerator",
        "fee_version",
    ]));
    let mut reward_update = own(REWARD_FIELDS);
    reward_update.extend(own(&[
        "position.liquidity",
        "position.reward_per_token_checkpoint",
        "position.reward_pendings",
    ]));
    let mut reward_fund = own(REWARD_FIELDS);
    reward_fund.extend(own(&["reward_duration", "funding_amount"]));
    vec![
        (
            "swap_exact_in",
            with_pool(&["amount_in", "current_timestamp"]),
            vec!["a_to_b", "has_referral"],
        ),
        (
            "swap_partial_fill",
            with_pool(&["amount_in", "current_timestamp"]),
            vec!["a_to_b", "has_referral"],
        ),
        (
            "swap_exact_out",
            with_pool(&["amount_out", "current_timestamp"]),
            vec!["a_to_b", "has_referral"],
        ),
        ("delta_a", own(&["lower", "upper", "liquidity"]), vec!["round"]),
        ("delta_b", own(&["lower", "upper", "liquidity"]), vec!["round"]),
        (
            "next_sqrt_price_from_input",
            own(&["sqrt_price", "liquidity", "amount_in"]),
            vec!["a_to_b"],
        ),
        (
            "next_sqrt_price_from_output",
            own(&["sqrt_price", "liquidity", "amount_out"]),
            vec!["a_to_b"],
        ),
        (
            "fee_split",
            own(&[
                "fee_amount",
                "protocol_fee_percent",
                "referral_fee_percent",
                "compounding_fee_bps",
            ]),
            vec!["has_referral"],
        ),
        (
            "excluded_fee_amount",
            own(&["fee_numerator", "included_fee_amount"]),
            vec![],
        ),
        (
            "included_fee_amount",
            own(&["fee_numerator", "excluded_fee_amount"]),
            vec![],
        ),
        ("dynamic_fee", dynamic, vec![]),
        (
            "delta_bin_id",
            own(&["sqrt_price_a", "sqrt_price_b", "bin_step_u128"]),
            vec![],
        ),
        (
            "modify_liquidity",
            with_pool(&["liquidity_delta"]),
            vec!["action"],
        ),
        (
            "initial_pool",
            own(&[
                "collect_fee_mode",
                "sqrt_price",
                "liquidity",
                "sqrt_min",
                "sqrt_max",
            ]),
            vec![],
        ),
        (
            "compounding_sqrt_price",
            own(&["token_a_amount", "token_b_amount"]),
            vec![],
        ),
        ("reward_update", reward_update, vec![]),
        ("reward_fund", reward_fund, vec!["carry_forward"]),
    ]
}

/// Sets `path` (`field` or `object.field`) in `request`.
fn set(request: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            request.insert(path.to_string(), value);
        }
        Some((outer, inner)) => {
            let entry = request.entry(outer.to_string()).or_insert_with(|| json!({}));
            if !entry.is_object() {
                *entry = json!({});
            }
            entry
                .as_object_mut()
                .expect("object")
                .insert(inner.to_string(), value);
        }
    }
}

fn choice_value(field: &str, pick: u64) -> Value {
    match (field, pick % 4) {
        ("round", 0) => json!("up"),
        ("round", 1) => json!("down"),
        ("action", 0) => json!("add"),
        ("action", 1) => json!("remove"),
        (_, 0) => json!(true),
        (_, 1) => json!(false),
        (_, 2) => json!("yes"),
        _ => json!(null),
    }
}

/// A well-formed request of `op` with every numeric field set to `value`.
fn all_fields(op: &str, numeric: &[String], choices: &[&str], value: &Value) -> Map<String, Value> {
    let mut r = Map::new();
    r.insert("op".into(), json!(op));
    for f in numeric {
        set(&mut r, f, value.clone());
    }
    for f in choices {
        set(&mut r, f, choice_value(f, 0));
    }
    r
}

fn check_robust(request: &str) {
    let response = handle_line(request);
    let o = parse_response(request, &response);
    if let Some(e) = o.get("error") {
        let e = e
            .as_str()
            .unwrap_or_else(|| panic!("non-string error for {request}: {response}"));
        assert_ne!(e, "Panic", "the math panicked on {request}");
        assert!(!e.is_empty());
    } else {
        assert!(!o.is_empty(), "empty response to {request}");
    }
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn garbage_lines_get_one_error_object_each() {
    let lines = [
        "",
        " ",
        "\t",
        "{",
        "}",
        "{\"op\":",
        "null",
        "true",
        "42",
        "-1",
        "1.5",
        "\"swap_exact_in\"",
        "[]",
        "[{\"op\":\"delta_a\"}]",
        "{}",
        "{\"op\":null}",
        "{\"op\":1}",
        "{\"op\":[\"delta_a\"]}",
        "{\"op\":\"\"}",
        "{\"op\":\"DELTA_A\"}",
        "{\"op\":\"delta_a\"}",
        "{\"op\":\"delta_a\",\"lower\":{},\"upper\":[],\"liquidity\":true,\"round\":1}",
        "{\"op\":\"swap_exact_in\",\"dynamic_fee\":\"on\"}",
        "{\"op\":\"dynamic_fee\",\"dynamic_fee\":{},\"pre_swap\":7}",
        "{\"op\":\"reward_update\",\"position\":[]}",
        "{\"op\":\"delta_a\",\"id\":1} trailing",
        "\u{feff}{\"op\":\"delta_a\"}",
        "{\"op\":\"compounding_sqrt_price\",\"token_a_amount\":\"1\",\"token_b_amount\":\"1\",\"op\":\"nope\"}",
        "{\"op\":\"compounding_sqrt_price\",\"token_a_amount\":1e400,\"token_b_amount\":\"1\"}",
        "{\"op\":\"compounding_sqrt_price\",\"token_a_amount\":-0,\"token_b_amount\":\"1\"}",
        "{\"op\":\"compounding_sqrt_price\",\"token_a_amount\":\"0x\",\"token_b_amount\":\"1\"}",
    ];
    for line in lines {
        check_robust(line);
    }
    // Deeply nested JSON, a very long number, a very long line.
    check_robust(&format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)));
    check_robust(&format!(
        "{{\"op\":\"compounding_sqrt_price\",\"token_a_amount\":\"{}\",\"token_b_amount\":\"1\"}}",
        "9".repeat(100_000)
    ));
    check_robust(&format!(
        "{{\"op\":\"compounding_sqrt_price\",\"token_a_amount\":\"{}1\",\"token_b_amount\":\"1\"}}",
        "0".repeat(100_000)
    ));
    // Shapes that must be bad requests, not math errors.
    for line in ["", "{", "[]", "{}", "{\"op\":\"nope\"}", "{\"op\":\"delta_a\"}"] {
        let o = parse_response(line, &handle_line(line));
        let e = o["error"].as_str().expect("error");
        assert!(e.starts_with("bad request: "), "{line:?} -> {e}");
    }
}

#[test]
fn extreme_values_in_every_numeric_field_of_every_op() {
    let extremes = [
        json!(U128_MAX),
        json!(TWO_128),
        json!(U256_MAX),
        json!(U256_MAX_HEX),
        json!("0"),
        json!(u64::MAX),
    ];
    let mut count = 0;
    for (op, numeric, choices) in ops() {
        // All fields at once.
        for v in &extremes {
            check_robust(&Value::Object(all_fields(op, &numeric, &choices, v)).to_string());
            count += 1;
        }
        // One field at a time on top of a small valid-looking request.
        for field in &numeric {
            for v in &extremes {
                let mut r = all_fields(op, &numeric, &choices, &json!("1"));
                set(&mut r, field, v.clone());
                check_robust(&Value::Object(r).to_string());
                count += 1;
            }
        }
    }
    assert!(count > 1000);
}

#[test]
fn boundary_scenarios() {
    let q = "18446744073709551616";
    let scenarios = [
        // Zero liquidity / prices, inverted ranges, collect_fee_mode 255.
        json!({"op":"swap_exact_in","sqrt_price":"0","liquidity":"0","fee_numerator":"0","a_to_b":true,"amount_in":"1"}),
        json!({"op":"swap_exact_in","sqrt_price":q,"liquidity":"0","fee_numerator":"0","a_to_b":false,"amount_in":"1",
               "token_a_amount":"1","token_b_amount":"1"}),
        json!({"op":"swap_partial_fill","sqrt_price":q,"liquidity":"1","sqrt_min":MAX_SQRT,"sqrt_max":MIN_SQRT,
               "fee_numerator":"0","a_to_b":true,"amount_in":U128_MAX}),
        json!({"op":"swap_partial_fill","sqrt_price":q,"liquidity":"1","sqrt_min":MAX_SQRT,"sqrt_max":MIN_SQRT,
               "fee_numerator":"0","a_to_b":false,"amount_in":U128_MAX,"token_a_amount":"0","token_b_amount":"0"}),
        json!({"op":"swap_partial_fill","sqrt_price":q,"liquidity":"1","sqrt_min":"0","sqrt_max":U128_MAX,
               "fee_numerator":"0","a_to_b":true,"amount_in":"5","token_a_amount":"0","token_b_amount":"0"}),
        json!({"op":"swap_exact_out","collect_fee_mode":255,"sqrt_price":q,"liquidity":"1","fee_numerator":"0",
               "a_to_b":true,"amount_out":"1"}),
        json!({"op":"swap_exact_out","collect_fee_mode":2,"sqrt_price":"0","liquidity":"0","fee_numerator":"0",
               "token_a_amount":"0","token_b_amount":"0","a_to_b":false,"amount_out":"1"}),
        json!({"op":"swap_exact_in","collect_fee_mode":2,"sqrt_price":"0","liquidity":U256_MAX,"fee_numerator":U64_MAX,
               "token_a_amount":U128_MAX,"token_b_amount":U128_MAX,"a_to_b":true,"amount_in":U128_MAX,
               "compounding_fee_bps":65535,"protocol_fee_percent":255,"referral_fee_percent":255,"has_referral":true}),
        json!({"op":"swap_exact_in","sqrt_price":MAX_SQRT,"liquidity":U256_MAX_HEX,"fee_numerator":"0",
               "token_a_amount":"0","token_b_amount":"0","a_to_b":false,"amount_in":U128_MAX,
               "fee_a_per_liquidity":U256_MAX,"fee_b_per_liquidity":U256_MAX,"protocol_a_fee":U128_MAX,
               "protocol_b_fee":U128_MAX}),
        json!({"op":"swap_exact_in","sqrt_price":q,"liquidity":"1844674407370955161600","fee_numerator":"999999999",
               "a_to_b":true,"amount_in":"10","dynamic_fee":{"volatility_accumulator":U128_MAX,"bin_step":65535,
               "variable_fee_control":4294967295u64,"max_volatility_accumulator":4294967295u64,"bin_step_u128":"0"}}),
        json!({"op":"swap_exact_in","sqrt_price":q,"liquidity":"1844674407370955161600","fee_numerator":"0",
               "a_to_b":true,"amount_in":"10","current_timestamp":U64_MAX,
               "dynamic_fee":{"sqrt_price_reference":"0","last_update_timestamp":U64_MAX,"filter_period":65535,
               "decay_period":0,"reduction_factor":65535,"volatility_accumulator":U128_MAX}}),
        json!({"op":"dynamic_fee","dynamic_fee":{"volatility_accumulator":U128_MAX,"reduction_factor":65535},
               "pre_swap":{"sqrt_price":"0","current_timestamp":U64_MAX},
               "post_swap":{"old_sqrt_price":"0","sqrt_price":U128_MAX,"current_timestamp":"0"},
               "base_fee_numerator":U64_MAX,"fee_version":255}),
        json!({"op":"delta_a","lower":U128_MAX,"upper":U128_MAX,"liquidity":U256_MAX,"round":"up"}),
        json!({"op":"delta_a","lower":"1","upper":U128_MAX,"liquidity":U256_MAX,"round":"up"}),
        json!({"op":"delta_b","lower":"0","upper":U128_MAX,"liquidity":U256_MAX,"round":"up"}),
        json!({"op":"next_sqrt_price_from_input","sqrt_price":U128_MAX,"liquidity":"1","amount_in":U128_MAX,"a_to_b":true}),
        json!({"op":"next_sqrt_price_from_input","sqrt_price":U128_MAX,"liquidity":"1","amount_in":U128_MAX,"a_to_b":false}),
        json!({"op":"next_sqrt_price_from_input","sqrt_price":U128_MAX,"liquidity":U256_MAX,"amount_in":U128_MAX,"a_to_b":true}),
        json!({"op":"next_sqrt_price_from_output","sqrt_price":U128_MAX,"liquidity":U256_MAX,"amount_out":"1","a_to_b":false}),
        json!({"op":"next_sqrt_price_from_output","sqrt_price":"1","liquidity":"1","amount_out":U128_MAX,"a_to_b":true}),
        json!({"op":"modify_liquidity","collect_fee_mode":2,"sqrt_price":"1","liquidity":"0","token_a_amount":U128_MAX,
               "token_b_amount":U128_MAX,"liquidity_delta":U256_MAX,"action":"add"}),
        json!({"op":"modify_liquidity","sqrt_price":"0","liquidity":"0","sqrt_min":"0","sqrt_max":"0",
               "liquidity_delta":U256_MAX,"action":"remove"}),
        json!({"op":"initial_pool","collect_fee_mode":2,"sqrt_price":MIN_SQRT,"liquidity":U256_MAX}),
        json!({"op":"initial_pool","collect_fee_mode":2,"sqrt_price":MAX_SQRT,"liquidity":U256_MAX}),
        json!({"op":"initial_pool","collect_fee_mode":255,"sqrt_price":MAX_SQRT,"liquidity":"1"}),
        json!({"op":"initial_pool","sqrt_price":MAX_SQRT,"liquidity":U256_MAX,"sqrt_min":MIN_SQRT,"sqrt_max":MAX_SQRT}),
        json!({"op":"reward_update","reward_rate":U256_MAX,"reward_duration_end":U64_MAX,"last_update_time":"0",
               "reward_per_token_stored":U256_MAX,"liquidity_supply":"1","current_time":U64_MAX,
               "position":{"liquidity":U256_MAX,"reward_per_token_checkpoint":"0","reward_pendings":U128_MAX}}),
        json!({"op":"reward_fund","reward_rate":U256_MAX,"reward_duration_end":U64_MAX,"reward_duration":U64_MAX,
               "liquidity_supply":"0","current_time":"0","funding_amount":U128_MAX,"carry_forward":true,
               "cumulative_seconds_with_empty_liquidity_reward":U64_MAX}),
        json!({"op":"reward_fund","reward_duration":"1","liquidity_supply":"1","current_time":U64_MAX,
               "funding_amount":U128_MAX}),
    ];
    for s in scenarios {
        check_robust(&s.to_string());
    }
}

#[test]
fn random_boundary_requests_never_panic() {
    let values = boundary_values();
    let ops = ops();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for _ in 0..6_000 {
        let (op, numeric, choices) = &ops[rng.below(ops.len())];
        let mut r = Map::new();
        r.insert("op".into(), json!(op));
        for f in numeric {
            // Each field: absent, a boundary value, or a well-formed small number.
            match rng.below(8) {
                0 => {}
                1 => set(&mut r, f, json!("1")),
                2 => set(&mut r, f, json!((rng.next() % 10_000).to_string())),
                _ => set(&mut r, f, values[rng.below(values.len())].clone()),
            }
        }
        for f in choices {
            let pick = rng.next();
            set(&mut r, f, choice_value(f, pick));
        }
        if rng.below(10) == 0 {
            r.insert("id".into(), json!(rng.next()));
        }
        check_robust(&Value::Object(r).to_string());
    }
}

// ---------------------------------------------------------------------------------------------------------
// Differential check against the Python reference model

#[test]
fn python_reference_model_agrees_on_every_vector() {
    let cases = load_cases();
    let script = workspace_root().join("scripts/vectors_ref.py");
    let input: String = cases.iter().map(|c| format!("{}\n", c.request_line)).collect();
    let mut child = Command::new("python3")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "python3 is required for the differential check against {} but cannot be run: {e}",
                script.display()
            )
        });
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("python3 output");
    writer.join().expect("writer thread").expect("write to python3");
    assert!(
        output.status.success(),
        "{} failed: {}\n{}",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    let responses: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        responses.len(),
        cases.len(),
        "the Python model answered {} lines for {}",
        responses.len(),
        cases.len()
    );
    let mut failures = Vec::new();
    for (c, py) in cases.iter().zip(responses) {
        let rust: Value = serde_json::from_str(&handle_line(&c.request_line)).expect("JSON");
        let py: Value =
            serde_json::from_str(py).unwrap_or_else(|e| panic!("Python answered non-JSON {py:?}: {e}"));
        if rust != py {
            failures.push(format!(
                "{}:{} \"{}\"\n  request: {}\n  rust:    {}\n  python:  {}",
                c.file, c.line, c.name, c.request_line, rust, py
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------------------
// End to end: the real program on stdin/stdout

/// Builds the example (a no-op when it is up to date) and returns its path.
fn example_binary() -> PathBuf {
    let output = Command::new(env!("CARGO"))
        .args([
            "build",
            "-q",
            "-p",
            "damm-math",
            "--example",
            "vectors",
            "--message-format=json",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo build --example vectors");
    assert!(output.status.success(), "cargo build --example vectors failed");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "vectors")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo reported no executable for the vectors example")
}

#[test]
fn program_streams_one_response_per_line() {
    let cases = load_cases();
    // Every vector, then a blank line, garbage and a final line without a newline.
    let mut input: Vec<u8> = cases
        .iter()
        .flat_map(|c| format!("{}\n", c.request_line).into_bytes())
        .collect();
    input.extend_from_slice(b"\n\r\n{\"op\":\"nope\",\"id\":7}\r\n\xff\xfe not UTF-8\n");
    input.extend_from_slice(
        br#"{"op":"compounding_sqrt_price","token_a_amount":"1","token_b_amount":"4","id":"last"}"#,
    );
    let mut child = Command::new(example_binary())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run the vectors example");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().expect("output");
    writer.join().expect("writer thread").expect("write");
    assert!(output.status.success(), "the program failed: {}", output.status);
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), cases.len() + 5, "one response per input line");
    for (c, line) in cases.iter().zip(&lines) {
        let got: Value = serde_json::from_str(line).expect("JSON line");
        assert_eq!(
            got, c.expect,
            "{}:{} \"{}\" through the program",
            c.file, c.line, c.name
        );
    }
    let tail: Vec<Value> = lines[cases.len()..]
        .iter()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(tail[0], json!({"error": "bad request: invalid JSON"}));
    assert_eq!(tail[1], json!({"error": "bad request: invalid JSON"}));
    assert_eq!(tail[2], json!({"error": "bad request: op: unknown op", "id": 7}));
    assert_eq!(tail[3], json!({"error": "bad request: invalid JSON"}));
    assert_eq!(
        tail[4],
        json!({"sqrt_price": "36893488147419103232", "id": "last"})
    );
}
