//! The journal writer: one thread owns the SQLite connection and takes every trade in order.
//!
//! Trades arrive from the HTTP handlers over a channel. The writer takes every request waiting (up to
//! [`GROUP`]), prices each against its market's trading state, writes the accepted ones in **one** SQLite
//! transaction, and only after it commits answers them: an acknowledged trade is durable, and a thousand
//! concurrent trades cost one `fsync`, not a thousand (group commit). If the write fails, the group's trades
//! are taken back out of the trading state and answered with a storage error.
//!
//! Other journal work (recording a transition, marking it settled, looking a trade up) runs on the same
//! thread through [`Writer::call`], so there is one connection and no lock contention.

use std::{
    collections::{BTreeSet, HashMap},
    sync::Arc,
};

use damm_math::U256;
use tokio::sync::{mpsc, oneshot};

use super::{
    engine::{Entry, Refusal, Trade, TradeRequest},
    fault,
    journal::{now_ms, Journal},
    Market,
};

/// Most requests taken in one write.
pub const GROUP: usize = 8192;

/// Why a swap got no fill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SwapError {
    /// The trade was refused.
    Refused(Refusal),
    /// The journal could not be written; nothing was traded.
    Storage(String),
}

type Job = Box<dyn FnOnce(&mut Journal) + Send>;

enum Cmd {
    Swap {
        market: usize,
        request: TradeRequest,
        client_id: Option<String>,
        reply: oneshot::Sender<Result<Trade, SwapError>>,
    },
    Resize {
        market: usize,
        liquidity: U256,
        reply: oneshot::Sender<Result<bool, String>>,
    },
    Call(Job),
}

/// A handle to the writer thread.
#[derive(Clone, Debug)]
pub struct Writer {
    tx: mpsc::UnboundedSender<Cmd>,
}

impl std::fmt::Debug for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Swap { .. } => "Swap",
            Self::Resize { .. } => "Resize",
            Self::Call(_) => "Call",
        })
    }
}

const GONE: &str = "the journal writer stopped";

impl Writer {
    /// Starts the writer thread over `journal` for `markets`.
    pub fn spawn(journal: Journal, markets: Vec<Arc<Market>>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("journal-writer".into())
            .spawn(move || run(journal, &markets, rx))
            .expect("the writer thread starts");
        Self { tx }
    }

    /// Takes a trade on market `market` (index); answers once it is durable.
    pub async fn swap(
        &self,
        market: usize,
        request: TradeRequest,
        client_id: Option<String>,
    ) -> Result<Trade, SwapError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Cmd::Swap {
                market,
                request,
                client_id,
                reply,
            })
            .map_err(|_| SwapError::Storage(GONE.into()))?;
        answer.await.map_err(|_| SwapError::Storage(GONE.into()))?
    }

    /// Journals a resize of market `market` to `liquidity` after every trade taken so far; `Ok(false)` if it
    /// was journaled already.
    pub async fn resize(&self, market: usize, liquidity: U256) -> Result<bool, String> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Cmd::Resize {
                market,
                liquidity,
                reply,
            })
            .map_err(|_| GONE.to_string())?;
        answer.await.map_err(|_| GONE.to_string())?
    }

    /// Runs `job` on the journal (on the writer thread) and returns its result.
    pub async fn call<R: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Journal) -> R + Send + 'static,
    ) -> Result<R, String> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Cmd::Call(Box::new(move |journal| {
                let _ = reply.send(job(journal));
            })))
            .map_err(|_| GONE.to_string())?;
        answer.await.map_err(|_| GONE.to_string())
    }
}

enum Pending {
    Trade(oneshot::Sender<Result<Trade, SwapError>>, usize, Trade),
    Duplicate(oneshot::Sender<Result<Trade, SwapError>>, usize, String),
    Resize(oneshot::Sender<Result<bool, String>>),
}

fn run(mut journal: Journal, markets: &[Arc<Market>], mut rx: mpsc::UnboundedReceiver<Cmd>) {
    let mut next_id = journal.next_id().unwrap_or(1);
    while let Some(first) = rx.blocking_recv() {
        let mut group = vec![first];
        while group.len() < GROUP {
            match rx.try_recv() {
                Ok(cmd) => group.push(cmd),
                Err(_) => break,
            }
        }
        let mut staged: Vec<(usize, Entry)> = Vec::new();
        let mut pending: Vec<Pending> = Vec::new();
        let mut jobs: Vec<Job> = Vec::new();
        let mut touched = BTreeSet::new();
        // Client keys taken in this group: a repeat within the group answers the first one's trade.
        let mut group_keys: HashMap<(usize, String), Trade> = HashMap::new();
        let now = now_ms();
        for cmd in group {
            match cmd {
                Cmd::Swap {
                    market,
                    request,
                    client_id,
                    reply,
                } => {
                    let m = &markets[market];
                    if let Some(key) = &client_id {
                        if group_keys.contains_key(&(market, key.clone())) {
                            pending.push(Pending::Duplicate(reply, market, key.clone()));
                            continue;
                        }
                        match journal.trade_by_client_id(&m.name, key) {
                            Ok(Some(trade)) => {
                                let _ = reply.send(Ok(trade));
                                continue;
                            }
                            Ok(None) => {}
                            Err(e) => {
                                let _ = reply.send(Err(SwapError::Storage(e.to_string())));
                                continue;
                            }
                        }
                    }
                    let result = m.engine.lock().expect("engine lock").stage_trade(
                        &request,
                        next_id,
                        client_id.clone(),
                        now,
                    );
                    match result {
                        Ok(trade) => {
                            next_id += 1;
                            touched.insert(market);
                            if let Some(key) = client_id {
                                group_keys.insert((market, key), trade.clone());
                            }
                            staged.push((market, Entry::Trade(trade.clone())));
                            pending.push(Pending::Trade(reply, market, trade));
                        }
                        Err(refusal) => {
                            m.metrics.refuse(refusal.name());
                            let _ = reply.send(Err(SwapError::Refused(refusal)));
                        }
                    }
                }
                Cmd::Resize {
                    market,
                    liquidity,
                    reply,
                } => {
                    let mut engine = markets[market].engine.lock().expect("engine lock");
                    if engine.resize_journaled(liquidity) {
                        let _ = reply.send(Ok(false));
                        continue;
                    }
                    match engine.stage_resize(next_id, liquidity) {
                        Ok(()) => {
                            staged.push((
                                market,
                                Entry::Resize {
                                    id: next_id,
                                    liquidity,
                                },
                            ));
                            next_id += 1;
                            touched.insert(market);
                            pending.push(Pending::Resize(reply));
                        }
                        Err(e) => {
                            let _ =
                                reply.send(Err(format!("the resize fails over the trading state: {e:?}")));
                        }
                    }
                }
                Cmd::Call(job) => jobs.push(job),
            }
        }
        if !staged.is_empty() {
            let rows: Vec<(&str, &Entry)> = staged
                .iter()
                .map(|(market, entry)| (markets[*market].name.as_str(), entry))
                .collect();
            match journal.append(&rows, || fault::hit("mid-write")) {
                Ok(()) => {
                    for market in &touched {
                        markets[*market]
                            .engine
                            .lock()
                            .expect("engine lock")
                            .commit_staged();
                    }
                    for p in pending {
                        match p {
                            Pending::Trade(reply, market, trade) => {
                                markets[market]
                                    .metrics
                                    .accepted
                                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                let _ = reply.send(Ok(trade));
                            }
                            Pending::Duplicate(reply, market, key) => {
                                let _ = reply.send(Ok(group_keys[&(market, key)].clone()));
                            }
                            Pending::Resize(reply) => {
                                let _ = reply.send(Ok(true));
                            }
                        }
                    }
                    fault::hit("after-ack");
                }
                Err(e) => {
                    crate::operator::log!("operator: journal write failed: {e}");
                    for market in &touched {
                        markets[*market]
                            .engine
                            .lock()
                            .expect("engine lock")
                            .abort_staged();
                    }
                    next_id = journal.next_id().unwrap_or(next_id);
                    for p in pending {
                        match p {
                            Pending::Trade(reply, _, _) | Pending::Duplicate(reply, _, _) => {
                                let _ = reply.send(Err(SwapError::Storage(e.to_string())));
                            }
                            Pending::Resize(reply) => {
                                let _ = reply.send(Err(e.to_string()));
                            }
                        }
                    }
                }
            }
        } else {
            // Only duplicates of durable trades could be pending here; they were answered already.
            for p in pending {
                if let Pending::Duplicate(reply, market, key) = p {
                    let _ = reply.send(Ok(group_keys[&(market, key)].clone()));
                }
            }
        }
        for job in jobs {
            job(&mut journal);
        }
    }
}
