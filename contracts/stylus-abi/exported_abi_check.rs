//! The checks both hand-routed contracts (the vault and the market) make of their exported interface, included
//! by their `tests/exported_abi.rs` with `#[path]`: the committed `.sol` file is what the SDK's `export-abi`
//! prints, and the hand-written routers answer exactly the functions it declares, each under its selector.

use std::{collections::BTreeSet, path::Path, process::Command};

use stylus_sdk::keccak_const::Keccak256;

/// The committed interface file `file` of the crate at `manifest_dir`.
pub(crate) fn committed(manifest_dir: &str, file: &str) -> String {
    std::fs::read_to_string(Path::new(manifest_dir).join(file))
        .unwrap_or_else(|e| panic!("failed to read {file} in {manifest_dir}: {e}"))
}

/// Asserts that `cargo run -p <package> --features export-abi` prints exactly the committed `file`.
pub(crate) fn assert_committed_is_exported(package: &str, manifest_dir: &str, file: &str) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["run", "-q", "-p", package, "--features", "export-abi"])
        .current_dir(manifest_dir)
        .output()
        .expect("failed to run cargo");
    assert!(
        output.status.success(),
        "`cargo run -p {package} --features export-abi` failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let exported = String::from_utf8(output.stdout).expect("the exported interface is not UTF-8");
    assert!(
        exported == committed(manifest_dir, file),
        "{file} is out of date; regenerate it with `cargo run -q -p {package} --features export-abi > {file}` \
         in its crate.\nThe exporter prints:\n{exported}"
    );
}

/// The canonical signature of a `function` line of the exported interface: its name and its parameter types,
/// names and data locations dropped.
pub(crate) fn signature(line: &str) -> Option<String> {
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

pub(crate) fn selector(signature: &str) -> u32 {
    let d = Keccak256::new().update(signature.as_bytes()).finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// Asserts that `routed` (selector, signature) is exactly the `count` functions the committed `file` declares,
/// each under the selector of its signature, no two sharing one.
pub(crate) fn assert_routers_answer_exactly(
    manifest_dir: &str,
    file: &str,
    routed: &[(u32, &str)],
    count: usize,
) {
    let declared: BTreeSet<String> = committed(manifest_dir, file)
        .lines()
        .filter_map(signature)
        .collect();
    let answered: BTreeSet<String> = routed.iter().map(|(_, s)| (*s).to_owned()).collect();
    assert_eq!(
        declared, answered,
        "{file} and the router disagree (left: declared, right: routed)"
    );
    for (sel, sig) in routed {
        assert_eq!(*sel, selector(sig), "{sig}");
    }
    let distinct: BTreeSet<u32> = routed.iter().map(|(s, _)| *s).collect();
    assert_eq!(distinct.len(), routed.len(), "two functions share a selector");
    assert_eq!(declared.len(), count, "{file} declares {count} functions");
}
