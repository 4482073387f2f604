//! The operator's journal: SQLite in WAL mode with `synchronous=FULL`, so a committed write survives a crash
//! of the process and of the machine.
//!
//! Tables:
//! - `entries`: every acknowledged trade and every journaled resize, in order (`id`), with the transition
//!   (`seq`) that carries it once one is recorded;
//! - `transitions`: every batch or resize built, recorded *before* its transaction is sent, immutable, with
//!   its status (`0` built, `1` settled);
//! - `txs`: every transaction sent for a transition (hash, nonce, fees, the signed bytes), recorded before it
//!   is broadcast, so a restart can find and re-broadcast it;
//! - `meta`: the chain and markets the journal belongs to.

use std::path::Path;

use alloy::primitives::{Address, B256};
use damm_market_codec::Op;
use damm_math::U256;
use rusqlite::{params, Connection, OptionalExtension};

use super::engine::{Entry, Fill, Trade, Transition, TransitionKind};

/// A journal error.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// SQLite failed.
    #[error("journal: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The journal belongs to another chain or market.
    #[error("journal {path} belongs to {what} {recorded}, not {given}; use another --db")]
    Foreign {
        /// The file.
        path: String,
        /// `chain` or `market <name>`.
        what: String,
        /// What it records.
        recorded: String,
        /// What this run is for.
        given: String,
    },
    /// A row does not decode.
    #[error("journal row {0} is corrupt")]
    Corrupt(i64),
}

type Result<T> = std::result::Result<T, JournalError>;

/// A transition as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransitionRecord {
    /// Its seq.
    pub seq: u64,
    /// First journal id.
    pub first_id: i64,
    /// Last journal id.
    pub last_id: i64,
    /// Ops (batch).
    pub ops: Option<Vec<u8>>,
    /// Liquidity (resize).
    pub liquidity: Option<U256>,
    /// Hash before.
    pub prev_hash: B256,
    /// Hash after.
    pub new_hash: B256,
    /// Settled.
    pub settled: bool,
}

/// A transaction as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxRecord {
    /// Its hash.
    pub hash: B256,
    /// The transition it carries.
    pub seq: u64,
    /// Its nonce.
    pub nonce: u64,
    /// Fee cap, wei.
    pub max_fee: u128,
    /// Priority fee, wei.
    pub priority_fee: u128,
    /// The signed transaction.
    pub raw: Vec<u8>,
}

/// What `GET /trades/{id}` shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TradeStatus {
    /// The trade.
    pub trade: Trade,
    /// Its market's name.
    pub market: String,
    /// The transition carrying it, if recorded.
    pub seq: Option<u64>,
    /// Whether that transition settled.
    pub settled: bool,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY,
    market TEXT NOT NULL,
    kind INTEGER NOT NULL,
    op BLOB,
    client_id TEXT,
    amount_in BLOB,
    amount_out BLOB,
    fee BLOB,
    sqrt_price BLOB,
    liquidity BLOB,
    accepted_at INTEGER NOT NULL,
    seq INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS entries_client ON entries(market, client_id) WHERE client_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS entries_open ON entries(market, seq);
CREATE TABLE IF NOT EXISTS transitions (
    market TEXT NOT NULL,
    seq INTEGER NOT NULL,
    first_id INTEGER NOT NULL,
    last_id INTEGER NOT NULL,
    ops BLOB,
    liquidity BLOB,
    prev_hash BLOB NOT NULL,
    new_hash BLOB NOT NULL,
    settled INTEGER NOT NULL DEFAULT 0,
    tx_hash BLOB,
    PRIMARY KEY (market, seq)
);
CREATE TABLE IF NOT EXISTS txs (
    hash BLOB PRIMARY KEY,
    market TEXT NOT NULL,
    seq INTEGER NOT NULL,
    nonce INTEGER NOT NULL,
    max_fee TEXT NOT NULL,
    priority_fee TEXT NOT NULL,
    raw BLOB NOT NULL,
    sent_at INTEGER NOT NULL
);
";

/// Ops as stored: direction, exact out, amount (16), has limit, limit (16), timestamp (8): 43 bytes.
fn encode_op(op: &Op) -> [u8; 43] {
    let mut out = [0u8; 43];
    out[0] = op.zero_for_one as u8;
    out[1] = op.exact_out as u8;
    out[2..18].copy_from_slice(&op.amount.to_be_bytes());
    out[18] = op.limit.is_some() as u8;
    out[19..35].copy_from_slice(&op.limit.unwrap_or(0).to_be_bytes());
    out[35..43].copy_from_slice(&op.timestamp.to_be_bytes());
    out
}

fn decode_op(bytes: &[u8]) -> Option<Op> {
    if bytes.len() != 43 {
        return None;
    }
    let u128_at = |i: usize| u128::from_be_bytes(bytes[i..i + 16].try_into().expect("16 bytes"));
    Some(Op {
        zero_for_one: bytes[0] != 0,
        exact_out: bytes[1] != 0,
        amount: u128_at(2),
        limit: (bytes[18] != 0).then(|| u128_at(19)),
        timestamp: u64::from_be_bytes(bytes[35..43].try_into().expect("8 bytes")),
    })
}

fn u128_of(bytes: Option<Vec<u8>>) -> u128 {
    bytes
        .and_then(|b| b.try_into().ok())
        .map_or(0, u128::from_be_bytes)
}

/// The journal.
#[derive(Debug)]
pub struct Journal {
    conn: Connection,
    path: String,
}

impl Journal {
    /// Opens (creating if needed) the journal at `path` for chain `chain_id`.
    ///
    /// # Errors
    ///
    /// [`JournalError::Foreign`] if it belongs to another chain; SQLite's errors.
    pub fn open(path: &Path, chain_id: u64) -> Result<Self> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(SCHEMA)?;
        let journal = Self {
            conn,
            path: path.display().to_string(),
        };
        journal.bind("chain", "chain", &chain_id.to_string())?;
        Ok(journal)
    }

    /// Binds `key` to `value` on first use; refuses a journal bound to another value.
    fn bind(&self, key: &str, what: &str, value: &str) -> Result<()> {
        let recorded: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?;
        match recorded {
            Some(recorded) if recorded != value => Err(JournalError::Foreign {
                path: self.path.clone(),
                what: what.to_string(),
                recorded,
                given: value.to_string(),
            }),
            Some(_) => Ok(()),
            None => {
                self.conn
                    .execute("INSERT INTO meta (key, value) VALUES (?1, ?2)", [key, value])?;
                Ok(())
            }
        }
    }

    /// Binds market `name` to `address` (a journal keeps each market's name for good).
    ///
    /// # Errors
    ///
    /// [`JournalError::Foreign`] if the name was another address.
    pub fn bind_market(&self, name: &str, address: Address) -> Result<()> {
        self.bind(
            &format!("market:{name}"),
            &format!("market {name}"),
            &address.to_string(),
        )
    }

    /// The next free entry id.
    ///
    /// # Errors
    ///
    /// SQLite's.
    pub fn next_id(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM entries", [], |r| r.get(0))?)
    }

    /// Appends `entries` (market name, entry) in one transaction: all or none are durable when it returns.
    /// `before_commit` runs inside the transaction, after the rows are written (the fault hook).
    ///
    /// # Errors
    ///
    /// SQLite's; nothing is written then.
    pub fn append(&mut self, entries: &[(&str, &Entry)], before_commit: impl FnOnce()) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut trade = tx.prepare_cached(
                "INSERT INTO entries (id, market, kind, op, client_id, amount_in, amount_out, fee, sqrt_price, \
                 accepted_at) VALUES (?1, ?2, 0, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            let mut resize = tx.prepare_cached(
                "INSERT INTO entries (id, market, kind, liquidity, accepted_at) VALUES (?1, ?2, 1, ?3, ?4)",
            )?;
            for (market, entry) in entries {
                match entry {
                    Entry::Trade(t) => {
                        trade.execute(params![
                            t.id,
                            market,
                            &encode_op(&t.op)[..],
                            t.client_id,
                            &t.fill.amount_in.to_be_bytes()[..],
                            &t.fill.amount_out.to_be_bytes()[..],
                            &t.fill.fee.to_be_bytes()[..],
                            &t.fill.sqrt_price.to_be_bytes()[..],
                            t.accepted_at_ms as i64,
                        ])?;
                    }
                    Entry::Resize { id, liquidity } => {
                        resize.execute(params![
                            id,
                            market,
                            &liquidity.to_be_bytes::<32>()[..],
                            now_ms() as i64
                        ])?;
                    }
                }
            }
        }
        before_commit();
        tx.commit()?;
        Ok(())
    }

    fn entry_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, Option<Entry>)> {
        let id: i64 = row.get(0)?;
        let kind: i64 = row.get(1)?;
        let entry = if kind == 0 {
            let op: Vec<u8> = row.get(2)?;
            decode_op(&op).map(|op| {
                Entry::Trade(Trade {
                    id,
                    client_id: row.get(3).ok().flatten(),
                    op,
                    fill: Fill {
                        amount_in: u128_of(row.get(4).ok()),
                        amount_out: u128_of(row.get(5).ok()),
                        fee: u128_of(row.get(6).ok()),
                        sqrt_price: u128_of(row.get(7).ok()),
                        timestamp: op.timestamp,
                    },
                    accepted_at_ms: row.get::<_, i64>(9).unwrap_or(0) as u64,
                })
            })
        } else {
            let liquidity: Option<Vec<u8>> = row.get(8)?;
            liquidity.filter(|l| l.len() == 32).map(|l| Entry::Resize {
                id,
                liquidity: U256::from_be_slice(&l),
            })
        };
        Ok((id, entry))
    }

    /// Market `market`'s entries not carried by a settled transition, in order.
    ///
    /// # Errors
    ///
    /// SQLite's; [`JournalError::Corrupt`].
    pub fn open_entries(&self, market: &str) -> Result<Vec<Entry>> {
        let mut stmt = self.conn.prepare(
            "SELECT e.id, e.kind, e.op, e.client_id, e.amount_in, e.amount_out, e.fee, e.sqrt_price, \
             e.liquidity, e.accepted_at FROM entries e LEFT JOIN transitions t ON t.market = e.market AND \
             t.seq = e.seq WHERE e.market = ?1 AND (e.seq IS NULL OR t.settled = 0 OR t.settled IS NULL) \
             ORDER BY e.id",
        )?;
        let rows = stmt.query_map([market], Self::entry_of)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, entry) = row?;
            out.push(entry.ok_or(JournalError::Corrupt(id))?);
        }
        Ok(out)
    }

    /// Client keys of market `market`'s trades, with the trades (for idempotent retries).
    ///
    /// # Errors
    ///
    /// SQLite's.
    pub fn trade_by_client_id(&self, market: &str, client_id: &str) -> Result<Option<Trade>> {
        let row = self
            .conn
            .query_row(
                "SELECT id, kind, op, client_id, amount_in, amount_out, fee, sqrt_price, liquidity, accepted_at \
                 FROM entries WHERE market = ?1 AND client_id = ?2",
                [market, client_id],
                Self::entry_of,
            )
            .optional()?;
        Ok(match row {
            Some((_, Some(Entry::Trade(t)))) => Some(t),
            _ => None,
        })
    }

    /// Records `transition` of `market` (before anything is sent for it) and assigns its entries to it.
    ///
    /// # Errors
    ///
    /// SQLite's; nothing is written then.
    pub fn record_transition(&mut self, market: &str, t: &Transition) -> Result<()> {
        let tx = self.conn.transaction()?;
        let (ops, liquidity) = match &t.kind {
            TransitionKind::Batch { ops, .. } => (Some(ops.clone()), None),
            TransitionKind::Resize { liquidity } => (None, Some(liquidity.to_be_bytes::<32>().to_vec())),
        };
        tx.execute(
            "INSERT INTO transitions (market, seq, first_id, last_id, ops, liquidity, prev_hash, new_hash) VALUES \
             (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                market,
                t.seq as i64,
                t.first_id,
                t.last_id,
                ops,
                liquidity,
                t.prev_hash.as_slice(),
                t.new_hash.as_slice()
            ],
        )?;
        tx.execute(
            "UPDATE entries SET seq = ?1 WHERE market = ?2 AND id BETWEEN ?3 AND ?4",
            params![t.seq as i64, market, t.first_id, t.last_id],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Market `market`'s unsettled transitions, by seq.
    ///
    /// # Errors
    ///
    /// SQLite's.
    pub fn open_transitions(&self, market: &str) -> Result<Vec<TransitionRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, first_id, last_id, ops, liquidity, prev_hash, new_hash, settled FROM transitions \
             WHERE market = ?1 AND settled = 0 ORDER BY seq",
        )?;
        let rows = stmt.query_map([market], |r| {
            let liquidity: Option<Vec<u8>> = r.get(4)?;
            Ok(TransitionRecord {
                seq: r.get::<_, i64>(0)? as u64,
                first_id: r.get(1)?,
                last_id: r.get(2)?,
                ops: r.get(3)?,
                liquidity: liquidity.map(|l| U256::from_be_slice(&l)),
                prev_hash: B256::from_slice(&r.get::<_, Vec<u8>>(5)?),
                new_hash: B256::from_slice(&r.get::<_, Vec<u8>>(6)?),
                settled: r.get::<_, i64>(7)? != 0,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The highest transition seq recorded for `market`.
    ///
    /// # Errors
    ///
    /// SQLite's.
    pub fn last_seq(&self, market: &str) -> Result<Option<u64>> {
        let seq: Option<i64> = self.conn.query_row(
            "SELECT MAX(seq) FROM transitions WHERE market = ?1",
            [market],
            |r| r.get(0),
        )?;
        Ok(seq.map(|s| s as u64))
    }

    /// Transition `seq` of `market` settled (by `tx_hash`, if known).
    ///
    /// # Errors
    ///
    /// SQLite's.
    pub fn mark_settled(&mut self, market: &str, seq: u64, tx_hash: Option<B256>) -> Result<()> {
        self.conn.execute(
            "UPDATE transitions SET settled = 1, tx_hash = ?3 WHERE market = ?1 AND seq = ?2",
            params![market, seq as i64, tx_hash.map(|h| h.to_vec())],
        )?;
        Ok(())
    }

    /// Records a transaction before it is broadcast.
    ///
    /// # Errors
    ///
    /// SQLite's.
    pub fn record_tx(&mut self, market: &str, tx: &TxRecord) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO txs (hash, market, seq, nonce, max_fee, priority_fee, raw, sent_at) VALUES \
             (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                tx.hash.as_slice(),
                market,
                tx.seq as i64,
                tx.nonce as i64,
                tx.max_fee.to_string(),
                tx.priority_fee.to_string(),
                tx.raw,
                now_ms() as i64
            ],
        )?;
        Ok(())
    }

    /// The transactions sent for transition `seq` of `market`, oldest first.
    ///
    /// # Errors
    ///
    /// SQLite's.
    pub fn txs_for(&self, market: &str, seq: u64) -> Result<Vec<TxRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT hash, seq, nonce, max_fee, priority_fee, raw FROM txs WHERE market = ?1 AND seq = ?2 \
             ORDER BY sent_at, nonce",
        )?;
        let rows = stmt.query_map(params![market, seq as i64], |r| {
            Ok(TxRecord {
                hash: B256::from_slice(&r.get::<_, Vec<u8>>(0)?),
                seq: r.get::<_, i64>(1)? as u64,
                nonce: r.get::<_, i64>(2)? as u64,
                max_fee: r.get::<_, String>(3)?.parse().unwrap_or(0),
                priority_fee: r.get::<_, String>(4)?.parse().unwrap_or(0),
                raw: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Forgets the transactions of transition `seq` of `market` (after one of them reverted: their nonce is
    /// spent and none of them can settle it any more).
    ///
    /// # Errors
    ///
    /// SQLite's.
    pub fn forget_txs(&mut self, market: &str, seq: u64) -> Result<()> {
        self.conn.execute(
            "DELETE FROM txs WHERE market = ?1 AND seq = ?2",
            params![market, seq as i64],
        )?;
        Ok(())
    }

    /// The highest nonce any recorded transaction used.
    ///
    /// # Errors
    ///
    /// SQLite's.
    pub fn max_nonce(&self) -> Result<Option<u64>> {
        let n: Option<i64> = self
            .conn
            .query_row("SELECT MAX(nonce) FROM txs", [], |r| r.get(0))?;
        Ok(n.map(|n| n as u64))
    }

    /// Trade `id`'s record and status.
    ///
    /// # Errors
    ///
    /// SQLite's.
    pub fn trade_status(&self, id: i64) -> Result<Option<(TradeStatus, Option<B256>)>> {
        let row = self
            .conn
            .query_row(
                "SELECT e.id, e.kind, e.op, e.client_id, e.amount_in, e.amount_out, e.fee, e.sqrt_price, \
                 e.liquidity, e.accepted_at, e.market, e.seq, t.settled, t.tx_hash FROM entries e LEFT JOIN \
                 transitions t ON t.market = e.market AND t.seq = e.seq WHERE e.id = ?1 AND e.kind = 0",
                [id],
                |r| {
                    let (_, entry) = Self::entry_of(r)?;
                    let market: String = r.get(10)?;
                    let seq: Option<i64> = r.get(11)?;
                    let settled: Option<i64> = r.get(12)?;
                    let tx: Option<Vec<u8>> = r.get(13)?;
                    Ok((entry, market, seq, settled, tx))
                },
            )
            .optional()?;
        Ok(match row {
            Some((Some(Entry::Trade(trade)), market, seq, settled, tx)) => Some((
                TradeStatus {
                    trade,
                    market,
                    seq: seq.map(|s| s as u64),
                    settled: settled == Some(1),
                },
                tx.filter(|t| t.len() == 32).map(|t| B256::from_slice(&t)),
            )),
            _ => None,
        })
    }
}

/// Unix time, milliseconds.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_round_trip() {
        for op in [
            Op {
                zero_for_one: true,
                exact_out: false,
                amount: 1,
                limit: None,
                timestamp: 0,
            },
            Op {
                zero_for_one: false,
                exact_out: true,
                amount: u128::MAX,
                limit: Some(u128::MAX - 1),
                timestamp: u64::MAX,
            },
        ] {
            assert_eq!(decode_op(&encode_op(&op)), Some(op));
        }
        assert_eq!(decode_op(&[0; 42]), None);
    }
}
