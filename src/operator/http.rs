//! The operator's HTTP/JSON API (see `docs/OPERATOR.md`): quotes, swaps, trade status, state, health and
//! Prometheus metrics.

use std::{convert::Infallible, sync::Arc};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{
    body::Incoming, header::CONTENT_TYPE, server::conn::http1, service::service_fn, Method, Request,
    Response, StatusCode,
};
use hyper_util::rt::TokioIo;
use serde_json::{json, Map, Value};

use super::{
    engine::{Fill, Refusal, Trade, TradeRequest},
    metrics::{render, Gauges},
    writer::{SwapError, Writer},
    Market,
};

/// Largest request body, bytes.
const MAX_BODY: usize = 64 * 1024;
/// Longest client key, bytes.
const MAX_ID: usize = 128;

/// What the handlers share.
#[derive(Debug)]
pub struct App {
    /// The markets served.
    pub markets: Vec<Arc<Market>>,
    /// The journal writer.
    pub writer: Writer,
}

/// Serves `app` on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, app: Arc<App>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let app = app.clone();
                async move { Ok::<_, Infallible>(handle(&app, request).await) }
            });
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn reply(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a valid response")
}

fn error(status: StatusCode, name: &str, message: impl Into<String>) -> Response<Full<Bytes>> {
    reply(status, &json!({ "error": name, "message": message.into() }))
}

async fn handle(app: &App, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let segments: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let (market, rest): (Option<&str>, &[&str]) = match segments.as_slice() {
        ["markets", name, rest @ ..] => (Some(name), rest),
        rest => (None, rest),
    };
    let pick = |market: Option<&str>| -> Result<usize, String> {
        match market {
            Some(name) => app
                .markets
                .iter()
                .position(|m| m.name == name)
                .ok_or_else(|| format!("this operator serves no market {name:?}")),
            None if app.markets.len() == 1 => Ok(0),
            None => Err("this operator serves several markets: use /markets/{name}/…".to_string()),
        }
    };
    match (&method, rest) {
        (&Method::POST, ["quote"]) | (&Method::POST, ["swap"]) => {
            let index = match pick(market) {
                Ok(i) => i,
                Err(message) => return error(StatusCode::NOT_FOUND, "UnknownMarket", message),
            };
            let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
                Ok(body) => body.to_bytes(),
                Err(e) => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "BadRequest",
                        format!("cannot read the body: {e}"),
                    )
                }
            };
            let (trade, id) = match parse_trade(&body) {
                Ok(parsed) => parsed,
                Err((name, message)) => {
                    let status = if name == "BadRequest" {
                        StatusCode::BAD_REQUEST
                    } else {
                        StatusCode::UNPROCESSABLE_ENTITY
                    };
                    app.markets[index].metrics.refuse(name);
                    return error(status, name, message);
                }
            };
            if rest == ["quote"] {
                let quote = app.markets[index]
                    .engine
                    .lock()
                    .expect("engine lock")
                    .quote(&trade);
                match quote {
                    Ok(fill) => reply(StatusCode::OK, &fill_json(&fill)),
                    Err(refusal) => refused(&refusal),
                }
            } else {
                match app.writer.swap(index, trade, id).await {
                    Ok(trade) => reply(StatusCode::OK, &trade_json(&trade)),
                    Err(SwapError::Refused(refusal)) => refused(&refusal),
                    Err(SwapError::Storage(e)) => error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Storage",
                        format!("the journal could not be written; nothing was traded: {e}"),
                    ),
                }
            }
        }
        (&Method::GET, ["state"]) => {
            let markets: Vec<Value> = app
                .markets
                .iter()
                .filter(|m| market.is_none_or(|name| m.name == name))
                .map(|m| state_json(m))
                .collect();
            if markets.is_empty() {
                return error(StatusCode::NOT_FOUND, "UnknownMarket", "no such market");
            }
            reply(StatusCode::OK, &json!({ "markets": markets }))
        }
        (&Method::GET, ["health"]) => {
            let alerts: Vec<Value> = app
                .markets
                .iter()
                .flat_map(|m| {
                    m.alerts
                        .list()
                        .into_iter()
                        .map(|(kind, message)| json!({ "market": m.name, "kind": kind, "message": message }))
                        .collect::<Vec<_>>()
                })
                .collect();
            let ready = app
                .markets
                .iter()
                .all(|m| m.engine.lock().expect("engine lock").ready);
            if alerts.is_empty() && ready {
                reply(StatusCode::OK, &json!({ "status": "ok", "alerts": alerts }))
            } else {
                let status = if ready { "degraded" } else { "starting" };
                reply(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &json!({ "status": status, "alerts": alerts }),
                )
            }
        }
        (&Method::GET, ["metrics"]) => {
            let gauges: Vec<Gauges> = app
                .markets
                .iter()
                .map(|m| {
                    let engine = m.engine.lock().expect("engine lock");
                    Gauges {
                        pending: engine.trades_pending(),
                        chain_seq: engine.confirmed().seq,
                    }
                })
                .collect();
            let rows: Vec<(&str, &super::metrics::Metrics, Gauges)> = app
                .markets
                .iter()
                .zip(gauges)
                .map(|(m, g)| (m.name.as_str(), &m.metrics, g))
                .collect();
            Response::builder()
                .status(StatusCode::OK)
                .header(CONTENT_TYPE, "text/plain; version=0.0.4")
                .body(Full::new(Bytes::from(render(&rows))))
                .expect("a valid response")
        }
        (&Method::GET, ["trades", id]) => {
            let Ok(id) = id.parse::<i64>() else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    format!("{id:?} is not a trade id"),
                );
            };
            let status = app.writer.call(move |j| j.trade_status(id)).await;
            match status {
                Ok(Ok(Some((status, tx)))) => {
                    let mut body = trade_json(&status.trade);
                    let state = if status.settled {
                        "settled"
                    } else if status.seq.is_some() {
                        "submitted"
                    } else {
                        "pending"
                    };
                    body["market"] = json!(status.market);
                    body["status"] = json!(state);
                    body["batchSeq"] = json!(status.seq);
                    body["txHash"] = json!(tx.map(|h| h.to_string()));
                    reply(StatusCode::OK, &body)
                }
                Ok(Ok(None)) => error(StatusCode::NOT_FOUND, "NotFound", format!("no trade {id}")),
                Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, "Storage", e.to_string()),
                Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "Storage", e),
            }
        }
        (_, ["quote"] | ["swap"] | ["state"] | ["health"] | ["metrics"]) => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("{method} is not allowed on {path}"),
        ),
        _ => error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("no route {method} {path}"),
        ),
    }
}

fn refused(refusal: &Refusal) -> Response<Full<Bytes>> {
    let status = if refusal.is_unavailable() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    error(status, refusal.name(), refusal.to_string())
}

fn fill_json(fill: &Fill) -> Value {
    json!({
        "amountIn": fill.amount_in.to_string(),
        "amountOut": fill.amount_out.to_string(),
        "fee": fill.fee.to_string(),
        "sqrtPrice": fill.sqrt_price.to_string(),
        "timestamp": fill.timestamp,
    })
}

fn trade_json(trade: &Trade) -> Value {
    let mut body = fill_json(&trade.fill);
    body["trade"] = json!(trade.id);
    body["id"] = json!(trade.client_id);
    body["zeroForOne"] = json!(trade.op.zero_for_one);
    body["exactIn"] = json!(!trade.op.exact_out);
    body
}

fn state_json(m: &Market) -> Value {
    let engine = m.engine.lock().expect("engine lock");
    let confirmed = engine.confirmed();
    let soft = engine.soft();
    let inflight = engine.inflight().map(|t| {
        json!({
            "seq": t.seq,
            "trades": t.trades(),
            "newStateHash": t.new_hash.to_string(),
            "txHash": m.inflight_tx.lock().expect("tx lock").map(|h| h.to_string()),
        })
    });
    json!({
        "name": m.name,
        "address": m.address.to_string(),
        "seq": confirmed.seq,
        "stateHash": confirmed.hash().to_string(),
        "sqrtPrice": soft.pool.sqrt_price.to_string(),
        "liquidity": soft.pool.liquidity.to_string(),
        "lastTimestamp": soft.last_timestamp,
        "pendingTrades": engine.trades_pending(),
        "frozen": engine.conditions.frozen,
        "ready": engine.ready,
        "inflight": inflight,
    })
}

/// Parses a quote or swap body: the trade and the client's key.
fn parse_trade(body: &[u8]) -> Result<(TradeRequest, Option<String>), (&'static str, String)> {
    let bad = |m: String| ("BadRequest", m);
    let value: Value = serde_json::from_slice(body).map_err(|e| bad(format!("the body is not JSON: {e}")))?;
    let Value::Object(fields) = value else {
        return Err(bad("the body must be a JSON object".into()));
    };
    for key in fields.keys() {
        if !matches!(key.as_str(), "zeroForOne" | "exactIn" | "amount" | "limit" | "id") {
            return Err(bad(format!(
                "unknown field {key:?} (expected zeroForOne, exactIn, amount, limit, id)"
            )));
        }
    }
    let flag = |fields: &Map<String, Value>, key: &str, default: Option<bool>| match fields.get(key) {
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(bad(format!("{key} must be true or false, not {other}"))),
        None => default.ok_or_else(|| bad(format!("{key} is missing"))),
    };
    let zero_for_one = flag(&fields, "zeroForOne", None)?;
    let exact_in = flag(&fields, "exactIn", None)?;
    let amount = match fields.get("amount") {
        Some(v) => parse_amount(v, "amount")?,
        None => return Err(bad("amount is missing".into())),
    };
    if amount == 0 {
        return Err(("ZeroAmount", "the amount is zero".into()));
    }
    let limit = match fields.get("limit") {
        None | Some(Value::Null) => None,
        Some(v) => Some(parse_amount(v, "limit")?),
    };
    let id = match fields.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_ID => Some(s.clone()),
        Some(_) => return Err(bad(format!("id must be a string of 1 to {MAX_ID} bytes"))),
    };
    Ok((
        TradeRequest {
            zero_for_one,
            exact_in,
            amount,
            limit,
        },
        id,
    ))
}

/// An amount: a decimal string of digits or a JSON integer; above `u128::MAX` is `AmountTooLarge`.
fn parse_amount(value: &Value, key: &str) -> Result<u128, (&'static str, String)> {
    let digits = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_u64() => n.to_string(),
        Value::Number(n) => {
            return Err((
                "BadRequest",
                format!("{key} {n} is not an unsigned integer (large amounts go as decimal strings)"),
            ))
        }
        other => {
            return Err((
                "BadRequest",
                format!("{key} must be a decimal string, not {other}"),
            ))
        }
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err((
            "BadRequest",
            format!("{key} {digits:?} is not an unsigned decimal integer"),
        ));
    }
    digits
        .parse::<u128>()
        .map_err(|_| ("AmountTooLarge", format!("{key} {digits} is above 2^128 - 1")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trades_parse_and_refuse_by_name() {
        let ok = |body: &str| parse_trade(body.as_bytes()).expect("parses");
        let (t, id) = ok(r#"{"zeroForOne":true,"exactIn":true,"amount":"1000","limit":990,"id":"k1"}"#);
        assert_eq!(
            t,
            TradeRequest {
                zero_for_one: true,
                exact_in: true,
                amount: 1000,
                limit: Some(990)
            }
        );
        assert_eq!(id.as_deref(), Some("k1"));
        let (t, _) =
            ok(r#"{"zeroForOne":false,"exactIn":false,"amount":"340282366920938463463374607431768211455"}"#);
        assert_eq!((t.amount, t.exact_in, t.limit), (u128::MAX, false, None));
        let refusals = [
            ("{", "BadRequest"),
            ("[]", "BadRequest"),
            (r#"{"amount":"1"}"#, "BadRequest"),
            (r#"{"zeroForOne":true}"#, "BadRequest"),
            (r#"{"zeroForOne":1,"amount":"1"}"#, "BadRequest"),
            (r#"{"zeroForOne":true,"amount":"1"}"#, "BadRequest"),
            (
                r#"{"zeroForOne":true,"exactIn":true,"amount":"1","price":2}"#,
                "BadRequest",
            ),
            (
                r#"{"zeroForOne":true,"exactIn":true,"amount":"-5"}"#,
                "BadRequest",
            ),
            (
                r#"{"zeroForOne":true,"exactIn":true,"amount":"1.5"}"#,
                "BadRequest",
            ),
            (r#"{"zeroForOne":true,"exactIn":true,"amount":1.5}"#, "BadRequest"),
            (r#"{"zeroForOne":true,"exactIn":true,"amount":-1}"#, "BadRequest"),
            (r#"{"zeroForOne":true,"exactIn":true,"amount":""}"#, "BadRequest"),
            (r#"{"zeroForOne":true,"exactIn":true,"amount":"0"}"#, "ZeroAmount"),
            (r#"{"zeroForOne":true,"exactIn":true,"amount":0}"#, "ZeroAmount"),
            (
                r#"{"zeroForOne":true,"exactIn":true,"amount":"340282366920938463463374607431768211456"}"#,
                "AmountTooLarge",
            ),
            (
                r#"{"zeroForOne":true,"exactIn":true,"amount":"1","id":""}"#,
                "BadRequest",
            ),
            (
                r#"{"zeroForOne":true,"exactIn":true,"amount":"1","id":7}"#,
                "BadRequest",
            ),
        ];
        for (body, expected) in refusals {
            let (name, message) = parse_trade(body.as_bytes()).expect_err(body);
            assert_eq!(name, expected, "{body}: {message}");
            assert!(!message.is_empty());
        }
    }
}
