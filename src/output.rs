//! What the `lp` and `admin` commands print: tables for people, one JSON object for programs.
//!
//! - [`KeyValues`]: a two-column table, keys left-aligned in one column (`shares      1,234.5 …`).
//! - [`Columns`]: a multi-column table with a header row, every column aligned.
//! - With `--json` a command prints exactly one JSON object on stdout ([`print_json`]) and nothing else;
//!   progress and notes always go to stderr ([`note`]). In JSON, `U256` amounts are decimal strings ([`raw`]),
//!   token amounts carry both the raw integer and the amount formatted with the token's decimals ([`amount`]),
//!   and addresses are checksummed ([`address`]).

use alloy::primitives::{utils::format_units, Address, U256};
use serde_json::{json, Value};

/// The fixed-point scale of health factors (1e18 = 1.0).
pub const HF_DECIMALS: u8 = 18;

/// A two-column key/value table for people.
#[derive(Debug, Clone, Default)]
pub struct KeyValues {
    title: Option<String>,
    rows: Vec<(String, String)>,
}

impl KeyValues {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty table printed under `title`.
    pub fn titled(title: impl Into<String>) -> Self {
        Self {
            title: Some(title.into()),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.rows.push((key.into(), value.into()));
        self
    }

    /// The table as text: one line per row (and the title first), keys padded to the longest.
    pub fn render(&self) -> String {
        let width = self
            .rows
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        if let Some(title) = &self.title {
            out.push_str(title);
            out.push('\n');
        }
        let indent = if self.title.is_some() { "  " } else { "" };
        for (key, value) in &self.rows {
            let pad = width - key.chars().count();
            out.push_str(&format!("{indent}{key}{}  {value}\n", " ".repeat(pad)));
        }
        out
    }

    /// Prints [`Self::render`] on stdout.
    pub fn print(&self) {
        print!("{}", self.render());
    }
}

/// A table of several columns with a header row, every column as wide as its widest cell.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Columns {
    /// A table with these column headers.
    pub fn new<S: Into<String>>(headers: impl IntoIterator<Item = S>) -> Self {
        Self {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells are empty, extra cells dropped).
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Self {
        let mut cells: Vec<String> = cells.into_iter().map(Into::into).collect();
        cells.resize(self.headers.len(), String::new());
        self.rows.push(cells);
        self
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text: the header, then one line per row, columns separated by two spaces.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut text = String::new();
            for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
                if i + 1 == cells.len() {
                    text.push_str(cell);
                } else {
                    text.push_str(&format!("{cell}{}  ", " ".repeat(w - cell.chars().count())));
                }
            }
            text.trim_end().to_string() + "\n"
        };
        let mut out = line(&self.headers);
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }

    /// Prints [`Self::render`] on stdout.
    pub fn print(&self) {
        print!("{}", self.render());
    }
}

/// Prints `value` as the command's one JSON document on stdout.
pub fn print_json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("a JSON value serialises")
    );
}

/// A progress line or a note for people, on stderr (stdout stays the command's result).
pub fn note(text: impl AsRef<str>) {
    eprintln!("{}", text.as_ref());
}

/// `raw` in units of `10^-decimals`, as a decimal without trailing zeros (`1500000000000000000`, 18 →
/// `1.5`; `0` → `0`).
pub fn units(raw: U256, decimals: u8) -> String {
    let text = format_units(raw, decimals).unwrap_or_else(|_| raw.to_string());
    trim_decimal(&text)
}

/// A signed amount: `negative` and the magnitude `raw`, formatted as [`units`] with a `-` when negative (and
/// not zero).
pub fn signed_units(negative: bool, raw: U256, decimals: u8) -> String {
    let text = units(raw, decimals);
    if negative && !raw.is_zero() {
        format!("-{text}")
    } else {
        text
    }
}

/// Drops trailing zeros of a decimal's fraction, and the point if nothing is left after it.
fn trim_decimal(text: &str) -> String {
    if !text.contains('.') {
        return text.to_string();
    }
    let trimmed = text.trim_end_matches('0').trim_end_matches('.');
    if trimmed.is_empty() {
        "0".to_string()
    } else {
        trimmed.to_string()
    }
}

/// A token amount for people: [`units`] followed by the symbol (`1.5 WETH`).
pub fn token_amount(raw: U256, decimals: u8, symbol: &str) -> String {
    format!("{} {symbol}", units(raw, decimals))
}

/// A health factor (1e18 fixed point) for people: `0.97`.
pub fn hf(raw: U256) -> String {
    units(raw, HF_DECIMALS)
}

/// `part / whole` in percent with up to six decimals (`12.5`); `0` when `whole` is zero.
pub fn percent(part: U256, whole: U256) -> String {
    if whole.is_zero() {
        return "0".to_string();
    }
    // part ≤ whole in every use; the product stays far below 2^256 for realistic supplies, else saturates.
    let scaled = part
        .checked_mul(U256::from(100_000_000u64))
        .map_or(U256::MAX, |p| p / whole);
    units(scaled, 6)
}

/// A `U256` as JSON: its decimal string.
pub fn raw(value: U256) -> Value {
    Value::String(value.to_string())
}

/// An address as JSON: checksummed.
pub fn address(value: Address) -> Value {
    Value::String(value.to_checksum(None))
}

/// A token amount as JSON: `{"raw": "1500000000000000000", "formatted": "1.5"}`.
pub fn amount(raw: U256, decimals: u8) -> Value {
    json!({ "raw": raw.to_string(), "formatted": units(raw, decimals) })
}

/// A signed token amount as JSON: `{"raw": "-15", "formatted": "-0.000000000000000015"}`.
pub fn signed_amount(negative: bool, raw: U256, decimals: u8) -> Value {
    let sign = if negative && !raw.is_zero() { "-" } else { "" };
    json!({ "raw": format!("{sign}{raw}"), "formatted": signed_units(negative, raw, decimals) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::chain::e18;

    #[test]
    fn units_are_trimmed() {
        assert_eq!(units(e18(3) / U256::from(2u8), 18), "1.5");
        assert_eq!(units(e18(2), 18), "2");
        assert_eq!(units(U256::ZERO, 18), "0");
        assert_eq!(units(U256::from(15u8), 0), "15");
        assert_eq!(units(U256::from(1u8), 18), "0.000000000000000001");
        assert_eq!(signed_units(true, U256::from(5u8), 1), "-0.5");
        assert_eq!(signed_units(true, U256::ZERO, 1), "0");
        assert_eq!(percent(U256::from(1u8), U256::from(8u8)), "12.5");
        assert_eq!(percent(U256::from(1u8), U256::ZERO), "0");
        assert_eq!(hf(U256::from(970_000_000_000_000_000u128)), "0.97");
    }

    #[test]
    fn tables_align() {
        let mut t = KeyValues::new();
        t.row("a", "1").row("longer", "2");
        assert_eq!(t.render(), "a       1\nlonger  2\n");
        let mut c = Columns::new(["x", "name", "v"]);
        c.row(["1", "ab", "z"]).row(["22", "a", ""]);
        assert_eq!(c.render(), "x   name  v\n1   ab    z\n22  a\n");
    }

    #[test]
    fn json_values() {
        assert_eq!(
            amount(e18(3) / U256::from(2u8), 18),
            json!({"raw": "1500000000000000000", "formatted": "1.5"})
        );
        assert_eq!(
            signed_amount(true, U256::from(15u8), 1),
            json!({"raw": "-15", "formatted": "-1.5"})
        );
        let a: Address = "0xd8da6bf26964af9d7eed9e03e53415d37aa96045".parse().unwrap();
        assert_eq!(address(a), json!("0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"));
    }
}
