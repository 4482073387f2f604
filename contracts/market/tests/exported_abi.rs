//! The committed `IMarket.sol` is what `cargo run -p damm-market --features export-abi` prints, and the market's two
//! hand-written routers answer exactly the functions it declares.
//!
//! Regenerate the file with
//! `cargo run -q -p damm-market --features export-abi > contracts/market/IMarket.sol`.

use std::{collections::BTreeSet, path::Path, process::Command};

use damm_market::router::ROUTED;
use stylus_sdk::keccak_const::Keccak256;

fn committed() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("IMarket.sol"))
        .expect("failed to read contracts/market/IMarket.sol")
}

#[test]
fn committed_interface_matches_the_exported_abi() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["run", "-q", "-p", "damm-market", "--features", "export-abi"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("failed to run cargo");
    assert!(
        output.status.success(),
        "`cargo run -p damm-market --features export-abi` failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let exported = String::from_utf8(output.stdout).expect("the exported interface is not UTF-8");
    assert!(
        exported == committed(),
        "contracts/market/IMarket.sol is out of date; regenerate it with \
         `cargo run -q -p damm-market --features export-abi > contracts/market/IMarket.sol`.\n\
         The exporter prints:\n{exported}"
    );
}

/// The canonical signature of a `function` line of the exported interface: its name and its parameter types,
/// names and data locations dropped.
fn signature(line: &str) -> Option<String> {
    let rest = line.trim().strip_prefix("function ")?;
    let (name, rest) = rest.split_once('(')?;
    // The parameter list ends at the parenthesis that closes the one after the name.
    let mut depth = 1;
    let end = rest.char_indices().find_map(|(i, c)| {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        (depth == 0).then_some(i)
    })?;
    let mut params = Vec::new();
    let (mut current, mut depth) = (String::new(), 0);
    for c in rest[..end].chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                params.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        params.push(current);
    }
    let types: Vec<String> = params
        .iter()
        .map(|p| {
            let p = p.trim();
            // A tuple type keeps its inner commas; drop a trailing name and data location.
            let (ty, _) = match p.rfind(')') {
                Some(close) => (p[..=close].to_owned(), ()),
                None => (p.split_whitespace().next().unwrap().to_owned(), ()),
            };
            let ty = if ty.starts_with('(') {
                ty.replace(' ', "")
            } else {
                ty
            };
            // A fixed array's `calldata` follows its type and was dropped with the name.
            ty
        })
        .collect();
    Some(format!("{name}({})", types.join(",")))
}

fn selector(signature: &str) -> u32 {
    let d = Keccak256::new().update(signature.as_bytes()).finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

#[test]
fn the_router_answers_exactly_the_interface() {
    let declared: BTreeSet<String> = committed().lines().filter_map(signature).collect();
    let routed: BTreeSet<String> = ROUTED.iter().map(|(_, s)| (*s).to_owned()).collect();
    assert_eq!(
        declared, routed,
        "IMarket.sol and the router disagree (left: declared, right: routed)"
    );
    for (sel, sig) in ROUTED {
        assert_eq!(*sel, selector(sig), "{sig}");
    }
    let distinct: BTreeSet<u32> = ROUTED.iter().map(|(s, _)| *s).collect();
    assert_eq!(distinct.len(), ROUTED.len(), "two functions share a selector");
    assert_eq!(declared.len(), 22, "the market's interface has 22 functions");
}
