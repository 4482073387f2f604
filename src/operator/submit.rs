//! Settlement: reconciling the journal with the chain, polling the chain's conditions, and driving each
//! transition to its receipt.
//!
//! # Exactly once
//! A transition is recorded in the journal before any transaction carries it and never changes afterwards;
//! every transaction is recorded before it is broadcast. The market itself refuses a transition whose `seq`
//! or `prevStateHash` is not the next one, so two transactions for the same transition can never both
//! settle. After any doubt (a crash, a timeout, a revert) the submitter asks the chain for the market's
//! `seq` and `stateHash` first: if the chain is at the transition's `seq` with its `newStateHash`, it settled
//! (by whichever of its transactions), and nothing is sent again.

use std::{
    sync::{atomic::Ordering, Arc},
    time::{Duration, Instant},
};

use alloy::primitives::{B256, U256 as AU256};

use super::{
    chain::{Chain, ChainError},
    engine::{rebuild_transition, Transition, TransitionKind},
    fault,
    journal::{now_ms, TxRecord},
    writer::Writer,
    Market, Tuning,
};

/// Why settlement of a market stopped for now.
#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    /// The chain failed or refused; retried after a back-off.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The journal failed.
    #[error("journal: {0}")]
    Journal(String),
    /// The escrow cannot pay the batch.
    #[error("{0}")]
    Escrow(String),
}

/// Brings market `m`'s books in line with the chain: transitions the chain has passed are settled, the next
/// recorded one is in flight, and the journal's open entries are replayed over the chain's state.
///
/// # Errors
///
/// [`SettleError`]; [`ChainError::Mismatch`] when the journal is not this market's history.
pub async fn reconcile(chain: &Chain, writer: &Writer, m: &Market) -> Result<(), SettleError> {
    let state = chain.market_state(m.address, None).await?;
    let name = m.name.clone();
    let records = writer
        .call(move |j| j.open_transitions(&name))
        .await
        .map_err(SettleError::Journal)?
        .map_err(|e| SettleError::Journal(e.to_string()))?;
    let mut inflight = None;
    for record in records {
        if record.seq <= state.seq {
            if record.seq == state.seq && record.new_hash != state.hash() {
                return Err(ChainError::Mismatch(format!(
                    "market {}: the chain is at seq {} with state hash {}, the journal recorded {} for it",
                    m.name,
                    state.seq,
                    state.hash(),
                    record.new_hash
                ))
                .into());
            }
            let tx = settled_by(chain, writer, &m.name, record.seq).await;
            let name = m.name.clone();
            writer
                .call(move |j| j.mark_settled(&name, record.seq, tx))
                .await
                .map_err(SettleError::Journal)?
                .map_err(|e| SettleError::Journal(e.to_string()))?;
        } else if record.seq == state.seq + 1 {
            let t = rebuild_transition(
                &state,
                record.seq,
                record.first_id,
                record.last_id,
                record.ops.as_deref(),
                record.liquidity,
                record.new_hash,
            )
            .map_err(ChainError::Mismatch)?;
            inflight = Some(t);
        } else {
            return Err(ChainError::Mismatch(format!(
                "market {}: the journal recorded transition {} but the chain is at seq {}",
                m.name, record.seq, state.seq
            ))
            .into());
        }
    }
    let name = m.name.clone();
    let entries = writer
        .call(move |j| j.open_entries(&name))
        .await
        .map_err(SettleError::Journal)?
        .map_err(|e| SettleError::Journal(e.to_string()))?;
    let mut engine = m.engine.lock().expect("engine lock");
    engine
        .restore(state, entries, inflight)
        .map_err(|e| ChainError::Mismatch(format!("market {}: {e}", m.name)))?;
    engine.ready = true;
    drop(engine);
    m.alerts.clear("StateMismatch");
    Ok(())
}

/// The transaction (of those recorded) that settled transition `seq`, if one of them did.
async fn settled_by(chain: &Chain, writer: &Writer, market: &str, seq: u64) -> Option<B256> {
    let name = market.to_string();
    let txs = writer.call(move |j| j.txs_for(&name, seq)).await.ok()?.ok()?;
    for tx in txs {
        if let Ok(Some(receipt)) = chain.receipt(tx.hash).await {
            if receipt.status() {
                return Some(tx.hash);
            }
        }
    }
    None
}

/// Polls the chain's conditions for every market until the process ends: the head's timestamp, frozen,
/// paused, active, and resize requests (journaled at once, after the trades taken so far).
pub async fn poll(chain: Chain, writer: Writer, markets: Vec<Arc<Market>>, every: Duration) {
    loop {
        match chain.head().await {
            Ok((number, timestamp)) => {
                for (index, m) in markets.iter().enumerate() {
                    match chain.conditions(m.address, number, timestamp).await {
                        Ok((conditions, seq)) => {
                            m.alerts.clear("Rpc");
                            let (journal_resize, confirmed_seq) = {
                                let mut engine = m.engine.lock().expect("engine lock");
                                engine.conditions = conditions;
                                let (liquidity, _) = conditions.resize;
                                let confirmed = engine.confirmed().seq;
                                (
                                    engine.ready
                                        && !liquidity.is_zero()
                                        && !engine.resize_journaled(liquidity),
                                    confirmed,
                                )
                            };
                            if conditions.frozen {
                                m.alerts.raise(
                                    "Frozen",
                                    "the market is frozen on L1: trades are refused; acknowledged trades settle \
                                     after the unfreeze"
                                        .into(),
                                );
                            } else {
                                m.alerts.clear("Frozen");
                            }
                            // Journal a request only when this read saw the chain at the books' confirmed state:
                            // an older read could show a request the books have applied already.
                            if journal_resize && seq == confirmed_seq {
                                match writer.resize(index, conditions.resize.0).await {
                                    Ok(true) => crate::operator::log!(
                                        "operator: {}: resize to liquidity {} journaled; applied after the trades \
                                         before it",
                                        m.name, conditions.resize.0
                                    ),
                                    Ok(false) => {}
                                    Err(e) => m.alerts.raise("Resize", format!("cannot journal the resize: {e}")),
                                }
                            }
                        }
                        Err(e) => {
                            m.metrics.rpc_errors.fetch_add(1, Ordering::Relaxed);
                            m.alerts.raise("Rpc", e.to_string());
                        }
                    }
                }
            }
            Err(e) => {
                for m in &markets {
                    m.metrics.rpc_errors.fetch_add(1, Ordering::Relaxed);
                    m.alerts.raise("Rpc", e.to_string());
                }
            }
        }
        tokio::time::sleep(every).await;
    }
}

/// Settles every market's transitions until the process ends, one transaction in flight at a time (so
/// nonces never gap): a market that fails backs off (doubling from the poll interval up to 10 s) without
/// holding the others, unless its transaction is in flight.
pub async fn run(chain: Chain, writer: Writer, markets: Vec<Arc<Market>>, tuning: Tuning) {
    let mut backoff: Vec<(Instant, Duration)> = vec![(Instant::now(), tuning.poll); markets.len()];
    let mut needs_reconcile = vec![false; markets.len()];
    loop {
        let mut progressed = false;
        for (i, m) in markets.iter().enumerate() {
            if Instant::now() < backoff[i].0 {
                continue;
            }
            let result = async {
                if needs_reconcile[i] {
                    reconcile(&chain, &writer, m).await?;
                    needs_reconcile[i] = false;
                }
                settle_next(&chain, &writer, m, &tuning).await
            }
            .await;
            match result {
                Ok(done) => {
                    progressed |= done;
                    backoff[i].1 = tuning.poll;
                }
                Err(e) => {
                    let reason = match &e {
                        SettleError::Chain(ChainError::Rpc(_)) => "rpc".to_string(),
                        SettleError::Chain(ChainError::Reverted(r)) => {
                            r.split([' ', '(', '{']).next().unwrap_or("reverted").to_string()
                        }
                        SettleError::Chain(ChainError::Mismatch(_)) => "state-mismatch".to_string(),
                        SettleError::Journal(_) => "journal".to_string(),
                        SettleError::Escrow(_) => "escrow".to_string(),
                    };
                    m.metrics.fail(&reason);
                    match &e {
                        SettleError::Chain(ChainError::Rpc(msg)) => {
                            m.metrics.rpc_errors.fetch_add(1, Ordering::Relaxed);
                            m.alerts.raise("Rpc", msg.clone());
                        }
                        SettleError::Chain(ChainError::Reverted(msg)) => {
                            m.alerts.raise("BatchReverted", msg.clone());
                        }
                        SettleError::Chain(ChainError::Mismatch(msg)) => {
                            m.alerts.raise("StateMismatch", msg.clone());
                            needs_reconcile[i] = true;
                        }
                        SettleError::Journal(msg) => m.alerts.raise("Journal", msg.clone()),
                        SettleError::Escrow(_) => {}
                    }
                    let delay = backoff[i].1;
                    backoff[i] = (Instant::now() + delay, (delay * 2).min(Duration::from_secs(10)));
                }
            }
        }
        if !progressed {
            tokio::time::sleep(tuning.poll).await;
        }
    }
}

/// Settles market `m`'s next due transition, if any. `Ok(true)` if one settled.
async fn settle_next(
    chain: &Chain,
    writer: &Writer,
    m: &Market,
    tuning: &Tuning,
) -> Result<bool, SettleError> {
    let (next, recorded, frozen) = {
        let engine = m.engine.lock().expect("engine lock");
        if !engine.ready {
            return Ok(false);
        }
        let next = engine.next_transition(tuning.batch_size, tuning.batch_age_ms, now_ms());
        (next, engine.inflight().is_some(), engine.conditions.frozen)
    };
    let Some(transition) = next else {
        return Ok(false);
    };
    if frozen && matches!(transition.kind, TransitionKind::Batch { .. }) {
        // A frozen market settles no batch; the trades wait (acknowledged, journaled) for the unfreeze.
        return Ok(false);
    }
    if !recorded {
        let name = m.name.clone();
        let t = transition.clone();
        writer
            .call(move |j| j.record_transition(&name, &t))
            .await
            .map_err(SettleError::Journal)?
            .map_err(|e| SettleError::Journal(e.to_string()))?;
        m.engine
            .lock()
            .expect("engine lock")
            .set_inflight(transition.clone());
    }
    fault::hit("before-submit");
    drive(chain, writer, m, &transition, tuning).await
}

/// Whether the chain has passed `transition`: `Some(true)` settled as recorded.
async fn chain_passed(chain: &Chain, m: &Market, transition: &Transition) -> Result<bool, SettleError> {
    let (seq, hash) = chain.seq_and_hash(m.address).await?;
    if seq >= transition.seq {
        if seq == transition.seq && hash != transition.new_hash {
            return Err(ChainError::Mismatch(format!(
                "market {}: the chain is at seq {seq} with hash {hash}, not the {} of the transition sent",
                m.name, transition.new_hash
            ))
            .into());
        }
        return Ok(true);
    }
    if seq + 1 != transition.seq {
        return Err(ChainError::Mismatch(format!(
            "market {}: the chain is at seq {seq}, behind the books' {}",
            m.name,
            transition.seq - 1
        ))
        .into());
    }
    Ok(false)
}

/// The escrow check: the operator's account must hold and have approved what the batch makes it pay.
async fn check_escrow(chain: &Chain, m: &Market, transition: &Transition) -> Result<(), SettleError> {
    let TransitionKind::Batch { totals, .. } = &transition.kind else {
        return Ok(());
    };
    let mut missing = None;
    for (k, token) in m.tokens.iter().enumerate() {
        let (input, output) = (totals.flows[k], totals.flows[2 + k]);
        if input <= output {
            continue;
        }
        let owed = AU256::from(input - output);
        let (balance, allowance) = chain.escrow(*token).await?;
        if balance < owed {
            missing = Some((
                "EscrowBalance",
                format!(
                    "the operator {} holds {balance} of token{k} {token}, batch {} owes the vault {owed}",
                    chain.operator, transition.seq
                ),
            ));
        } else if allowance < owed {
            missing = Some((
                "EscrowAllowance",
                format!(
                    "the operator {} allows the vault {allowance} of token{k} {token}, batch {} owes {owed}",
                    chain.operator, transition.seq
                ),
            ));
        }
        if missing.is_some() {
            break;
        }
    }
    match missing {
        Some((kind, message)) => {
            m.alerts.raise(kind, message.clone());
            Err(SettleError::Escrow(message))
        }
        None => {
            m.alerts.clear("EscrowBalance");
            m.alerts.clear("EscrowAllowance");
            Ok(())
        }
    }
}

/// Drives `transition` (recorded) until it settles: `Ok(true)`. Returns an error to back off.
async fn drive(
    chain: &Chain,
    writer: &Writer,
    m: &Market,
    transition: &Transition,
    tuning: &Tuning,
) -> Result<bool, SettleError> {
    let name = m.name.clone();
    let seq = transition.seq;
    let mut last_sent: Option<Instant> = None;
    loop {
        if chain_passed(chain, m, transition).await? {
            let tx = settled_by(chain, writer, &m.name, seq).await;
            return finish(chain, writer, m, transition, tx).await.map(|()| true);
        }
        let n = name.clone();
        let txs: Vec<TxRecord> = writer
            .call(move |j| j.txs_for(&n, seq))
            .await
            .map_err(SettleError::Journal)?
            .map_err(|e| SettleError::Journal(e.to_string()))?;
        // A mined transaction of ours for this transition either settled it (seen above) or reverted.
        let mut reverted_nonces = Vec::new();
        for tx in &txs {
            if let Some(receipt) = chain.receipt(tx.hash).await? {
                if !receipt.status() {
                    reverted_nonces.push(tx.nonce);
                }
            }
        }
        let chain_nonce = chain.nonce().await?;
        let outstanding = txs
            .iter()
            .rev()
            .find(|tx| tx.nonce >= chain_nonce && !reverted_nonces.contains(&tx.nonce))
            .cloned();
        match outstanding {
            Some(tx) => {
                let due = last_sent.is_none_or(|t| t.elapsed() >= tuning.receipt_timeout);
                if due {
                    if last_sent.is_none() {
                        // After a restart (or the first look): broadcast it again; a node that has it ignores this.
                        chain.broadcast(&tx.raw).await.or_else(ignore_nonce_used)?;
                    } else {
                        // Not mined in time (dropped, or stuck behind its fee): the same nonce with bumped fees.
                        let bump = |fee: u128| fee + fee * u128::from(tuning.fee_bump_percent) / 100 + 1;
                        let (max_fee, tip) = chain.fees().await?;
                        let fees = (bump(tx.max_fee).max(max_fee), bump(tx.priority_fee).max(tip));
                        let gas = chain
                            .simulate(m.address, transition, tuning.gas_limit)
                            .await
                            .unwrap_or(3_000_000);
                        let signed = chain.sign(m.address, transition, tx.nonce, gas, fees).await?;
                        record_and_broadcast(chain, writer, m, seq, &signed).await?;
                        crate::operator::log!(
                            "operator: {}: transition {seq} not mined in {:?}: replaced (nonce {}, fee cap {})",
                            m.name, tuning.receipt_timeout, tx.nonce, fees.0
                        );
                    }
                    m.metrics
                        .replacements
                        .fetch_add(u64::from(last_sent.is_some()), Ordering::Relaxed);
                    last_sent = Some(Instant::now());
                }
            }
            None => {
                if let Some(&nonce) = reverted_nonces.last() {
                    // Our last attempt reverted: name the cause (the chain's state now) and back off.
                    let cause = match chain.simulate(m.address, transition, tuning.gas_limit).await {
                        Err(ChainError::Reverted(cause)) => cause,
                        _ => format!("transaction with nonce {nonce} reverted"),
                    };
                    // Forget the attempts: the nonce is spent, the next attempt takes a fresh one.
                    let n = name.clone();
                    writer
                        .call(move |j| j.forget_txs(&n, seq))
                        .await
                        .map_err(SettleError::Journal)?
                        .map_err(|e| SettleError::Journal(e.to_string()))?;
                    return Err(ChainError::Reverted(cause).into());
                }
                check_escrow(chain, m, transition).await?;
                let gas = chain.simulate(m.address, transition, tuning.gas_limit).await?;
                m.alerts.clear("BatchReverted");
                let fees = chain.fees().await?;
                let signed = chain.sign(m.address, transition, chain_nonce, gas, fees).await?;
                record_and_broadcast(chain, writer, m, seq, &signed).await?;
                m.metrics.submitted.fetch_add(1, Ordering::Relaxed);
                fault::hit("after-submit");
                last_sent = Some(Instant::now());
            }
        }
        // Wait for a receipt (or the chain passing the transition) until the next look.
        let deadline = Instant::now() + tuning.receipt_timeout;
        loop {
            if chain_passed(chain, m, transition).await? {
                break;
            }
            let n = name.clone();
            let txs = writer
                .call(move |j| j.txs_for(&n, seq))
                .await
                .map_err(SettleError::Journal)?
                .map_err(|e| SettleError::Journal(e.to_string()))?;
            let mut mined = false;
            for tx in txs.iter().rev().take(4) {
                mined |= chain.receipt(tx.hash).await?.is_some();
            }
            if mined || Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(tuning.poll.min(Duration::from_millis(100))).await;
        }
    }
}

fn ignore_nonce_used(e: ChainError) -> Result<(), ChainError> {
    match &e {
        ChainError::Rpc(msg) | ChainError::Reverted(msg) if msg.to_lowercase().contains("nonce too low") => {
            Ok(())
        }
        _ => Err(e),
    }
}

async fn record_and_broadcast(
    chain: &Chain,
    writer: &Writer,
    m: &Market,
    seq: u64,
    signed: &super::chain::SignedTx,
) -> Result<(), SettleError> {
    let record = TxRecord {
        hash: signed.hash,
        seq,
        nonce: signed.nonce,
        max_fee: signed.max_fee,
        priority_fee: signed.priority_fee,
        raw: signed.raw.clone(),
    };
    let name = m.name.clone();
    writer
        .call(move |j| j.record_tx(&name, &record))
        .await
        .map_err(SettleError::Journal)?
        .map_err(|e| SettleError::Journal(e.to_string()))?;
    *m.inflight_tx.lock().expect("tx lock") = Some(signed.hash);
    chain.broadcast(&signed.raw).await?;
    Ok(())
}

/// `transition` settled (by `tx`, if known): record it, update the books, verify the mirror.
async fn finish(
    chain: &Chain,
    writer: &Writer,
    m: &Market,
    transition: &Transition,
    tx: Option<B256>,
) -> Result<(), SettleError> {
    let name = m.name.clone();
    let seq = transition.seq;
    writer
        .call(move |j| j.mark_settled(&name, seq, tx))
        .await
        .map_err(SettleError::Journal)?
        .map_err(|e| SettleError::Journal(e.to_string()))?;
    m.engine.lock().expect("engine lock").settled();
    *m.inflight_tx.lock().expect("tx lock") = None;
    m.metrics
        .settled
        .fetch_add(transition.trades(), Ordering::Relaxed);
    m.metrics.batches_settled.fetch_add(1, Ordering::Relaxed);
    if let Some(hash) = tx {
        if let Ok(Some(receipt)) = chain.receipt(hash).await {
            m.metrics.gas_used.fetch_add(receipt.gas_used, Ordering::Relaxed);
            check_event(m, transition, &receipt)?;
        }
    }
    m.alerts.clear("BatchReverted");
    m.alerts.clear("Rpc");
    // The mirror: the chain's stored state must be exactly the books' confirmed state.
    let on_chain = chain.market_state(m.address, None).await?;
    let confirmed = *m.engine.lock().expect("engine lock").confirmed();
    if on_chain.seq == confirmed.seq && on_chain != confirmed {
        return Err(ChainError::Mismatch(format!(
            "market {}: after seq {seq} the chain's state differs from the books'",
            m.name
        ))
        .into());
    }
    crate::operator::log!(
        "operator: {}: transition {seq} settled ({} trades{})",
        m.name,
        transition.trades(),
        tx.map(|h| format!(", tx {h}")).unwrap_or_default()
    );
    Ok(())
}

/// The mirror's second source: the settling transaction's event (`BatchSettled` or `ResizeApplied`) must name
/// the transition's seq and new state hash, and a batch's event its number of trades.
fn check_event(
    m: &Market,
    transition: &Transition,
    receipt: &alloy::rpc::types::TransactionReceipt,
) -> Result<(), SettleError> {
    use crate::bindings::MarketEvents::{BatchSettled, ResizeApplied};
    let mut seen = None;
    for log in receipt
        .inner
        .logs()
        .iter()
        .filter(|log| log.address() == m.address)
    {
        if let Ok(e) = log.log_decode::<BatchSettled>() {
            let e = e.inner.data;
            seen = Some((e.seq, e.stateHash, e.swaps.saturating_to::<u64>()));
        } else if let Ok(e) = log.log_decode::<ResizeApplied>() {
            let e = e.inner.data;
            seen = Some((e.seq, e.stateHash, 0));
        }
    }
    let expected = (transition.seq, transition.new_hash, transition.trades());
    if seen != Some(expected) {
        return Err(ChainError::Mismatch(format!(
            "market {}: the settling transaction's event is {seen:?}, expected (seq, stateHash, trades) {expected:?}",
            m.name
        ))
        .into());
    }
    Ok(())
}
