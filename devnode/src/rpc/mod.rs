//! The devnode's JSON-RPC server: Anvil's methods over HTTP, for `damm devnode` and for tests that start it
//! in-process on a free port.
//!
//! Two threads: the node thread owns the [`Devnode`] (which is not `Send`: the Stylus runtime is shared
//! through `Rc`) and answers one request body at a time; the HTTP thread runs hyper on a single-threaded
//! tokio runtime and hands each body to the node thread over a channel. Interval mining (`block_time`)
//! happens on the node thread between requests.
//!
//! - [`request`]: the request enum and its parsing.
//! - [`api`]: the dispatch and one method per RPC.
//! - [`error`]: the mapping of failures to JSON-RPC error codes.

pub mod api;
pub mod error;
pub mod request;

use std::{
    convert::Infallible,
    io,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::PathBuf,
    sync::mpsc,
    thread::JoinHandle,
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{
    body::Incoming, header, server::conn::http1, service::service_fn, Method, Request, Response, StatusCode,
};
use hyper_util::rt::TokioIo;
use thiserror::Error;
use tokio::sync::oneshot;

pub use self::api::EthApi;
use crate::node::{Devnode, DevnodeConfig, StateDump};

/// Largest request body accepted (a batch of large deployments fits).
const MAX_BODY: usize = 64 * 1024 * 1024;

/// How the server is set up.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on.
    pub host: IpAddr,
    /// Port; 0 picks a free one.
    pub port: u16,
    /// The chain.
    pub node: DevnodeConfig,
    /// Mine a block every this long (automine off); `None` mines on every transaction.
    pub block_time: Option<Duration>,
    /// Load the state from this file at start if it exists, and write it there at shutdown.
    pub state_file: Option<PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            node: DevnodeConfig {
                wall_clock: true,
                ..DevnodeConfig::default()
            },
            block_time: None,
            state_file: None,
        }
    }
}

/// Why the server could not start or stop cleanly.
#[derive(Debug, Error)]
pub enum ServerError {
    /// Binding the port failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: io::Error,
    },
    /// The state file cannot be read, parsed or written.
    #[error("state file {path}: {message}")]
    StateFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A server thread failed.
    #[error("server thread: {0}")]
    Thread(String),
}

enum NodeMessage {
    Request(Vec<u8>, oneshot::Sender<Vec<u8>>),
    Shutdown,
}

/// A running server; dropping it stops it (writing the state file, if any).
#[derive(Debug)]
pub struct RpcServer {
    addr: SocketAddr,
    accounts: Vec<(alloy_primitives::Address, alloy_primitives::B256)>,
    node_tx: mpsc::Sender<NodeMessage>,
    stop_http: Option<oneshot::Sender<()>>,
    node_thread: Option<JoinHandle<Result<(), ServerError>>>,
    http_thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for NodeMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Request(body, _) => write!(f, "Request({} bytes)", body.len()),
            Self::Shutdown => f.write_str("Shutdown"),
        }
    }
}

fn read_state(path: &PathBuf) -> Result<Option<StateDump>, ServerError> {
    let error = |message: String| ServerError::StateFile {
        path: path.clone(),
        message,
    };
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| error(format!("not a devnode state file: {e}"))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(error(e.to_string())),
    }
}

fn write_state(path: &PathBuf, dump: &StateDump) -> Result<(), ServerError> {
    let error = |message: String| ServerError::StateFile {
        path: path.clone(),
        message,
    };
    let json = serde_json::to_vec_pretty(dump).map_err(|e| error(e.to_string()))?;
    // Written beside the target and renamed over it, so a crash never leaves half a file.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, json).map_err(|e| error(e.to_string()))?;
    std::fs::rename(&tmp, path).map_err(|e| error(e.to_string()))
}

impl RpcServer {
    /// Starts the node and the HTTP server; returns once both are ready.
    ///
    /// # Errors
    ///
    /// [`ServerError::Bind`] if the address is taken, [`ServerError::StateFile`] if the state file cannot
    /// be loaded.
    pub fn spawn(config: ServerConfig) -> Result<Self, ServerError> {
        let addr = SocketAddr::new(config.host, config.port);
        let listener =
            std::net::TcpListener::bind(addr).map_err(|source| ServerError::Bind { addr, source })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| ServerError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ServerError::Bind { addr, source })?;
        let initial_state = match &config.state_file {
            Some(path) => read_state(path)?,
            None => None,
        };

        let (node_tx, node_rx) = mpsc::channel::<NodeMessage>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<Vec<_>, ServerError>>();
        let node_config = config.node.clone();
        let block_time = config.block_time;
        let state_file = config.state_file.clone();
        let node_thread = std::thread::Builder::new()
            .name("devnode".into())
            .spawn(move || {
                let mut node = Devnode::with_config(node_config);
                if let Some(dump) = initial_state {
                    if let Err(e) = node.load_state(&dump) {
                        let error = ServerError::StateFile {
                            path: state_file.clone().unwrap_or_default(),
                            message: e.to_string(),
                        };
                        let _ = ready_tx.send(Err(error));
                        return Ok(());
                    }
                }
                let accounts = node.accounts().into_iter().zip(node.dev_keys()).collect();
                let _ = ready_tx.send(Ok(accounts));
                let mut api = EthApi::new(node, block_time);
                node_loop(&mut api, &node_rx);
                match &state_file {
                    Some(path) => write_state(path, &api.node().dump_state()),
                    None => Ok(()),
                }
            })
            .map_err(|e| ServerError::Thread(e.to_string()))?;
        let accounts = match ready_rx.recv() {
            Ok(Ok(accounts)) => accounts,
            Ok(Err(error)) => {
                let _ = node_thread.join();
                return Err(error);
            }
            Err(_) => {
                return Err(ServerError::Thread(
                    "the node thread stopped while starting".into(),
                ))
            }
        };

        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let http_node_tx = node_tx.clone();
        let http_thread = std::thread::Builder::new()
            .name("devnode-http".into())
            .spawn(move || serve_http(listener, http_node_tx, stop_rx))
            .map_err(|e| ServerError::Thread(e.to_string()))?;

        Ok(Self {
            addr,
            accounts,
            node_tx,
            stop_http: Some(stop_tx),
            node_thread: Some(node_thread),
            http_thread: Some(http_thread),
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's URL, `http://host:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The dev accounts and their private keys.
    pub fn dev_accounts(&self) -> &[(alloy_primitives::Address, alloy_primitives::B256)] {
        &self.accounts
    }

    /// Stops the server, writing the state file if one is configured.
    ///
    /// # Errors
    ///
    /// [`ServerError::StateFile`] if the state cannot be written.
    pub fn shutdown(mut self) -> Result<(), ServerError> {
        self.stop()
    }

    fn stop(&mut self) -> Result<(), ServerError> {
        if let Some(stop) = self.stop_http.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.http_thread.take() {
            let _ = thread.join();
        }
        let _ = self.node_tx.send(NodeMessage::Shutdown);
        match self.node_thread.take() {
            Some(thread) => thread
                .join()
                .map_err(|_| ServerError::Thread("the node thread panicked".into()))?,
            None => Ok(()),
        }
    }
}

impl Drop for RpcServer {
    fn drop(&mut self) {
        if let Err(error) = self.stop() {
            eprintln!("devnode: {error}");
        }
    }
}

/// Answers requests until shut down, mining interval blocks when they fall due.
fn node_loop(api: &mut EthApi, rx: &mpsc::Receiver<NodeMessage>) {
    let mut next_block = api.block_time().map(|t| Instant::now() + t);
    loop {
        let message = match next_block {
            Some(deadline) => match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(message) => Some(message),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            },
            None => match rx.recv() {
                Ok(message) => Some(message),
                Err(_) => return,
            },
        };
        match message {
            Some(NodeMessage::Request(body, reply)) => {
                // A bug in one method must not take the node down with it: the request gets an internal
                // error and the server goes on.
                let response = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| api.handle_body(&body)))
                    .unwrap_or_else(|_| {
                        serde_json::json!({
                            "jsonrpc": "2.0", "id": null,
                            "error": { "code": error::INTERNAL_ERROR, "message": "internal error: the request panicked" }
                        })
                    });
                let _ = reply.send(serde_json::to_vec(&response).unwrap_or_default());
            }
            Some(NodeMessage::Shutdown) => return,
            None => api.mine_interval(),
        }
        // The block time may have been changed by the request.
        next_block = match (api.block_time(), next_block) {
            (None, _) => None,
            (Some(period), Some(deadline)) if Instant::now() < deadline => {
                Some(deadline.min(Instant::now() + period))
            }
            (Some(period), _) => Some(Instant::now() + period),
        };
    }
}

fn serve_http(
    listener: std::net::TcpListener,
    node: mpsc::Sender<NodeMessage>,
    mut stop: oneshot::Receiver<()>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("devnode: cannot start the HTTP runtime: {e}");
            return;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(listener) => listener,
            Err(e) => {
                eprintln!("devnode: cannot listen: {e}");
                return;
            }
        };
        loop {
            let stream = tokio::select! {
                _ = &mut stop => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(_) => continue,
                },
            };
            let _ = stream.set_nodelay(true);
            let node = node.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| handle_http(request, node.clone()));
                let _ = http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        header::HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        header::HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        header::HeaderValue::from_static("POST, GET, OPTIONS"),
    );
    response
}

async fn handle_http(
    request: Request<Incoming>,
    node: mpsc::Sender<NodeMessage>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    match *request.method() {
        Method::POST => {}
        Method::OPTIONS => return Ok(reply(StatusCode::OK, Bytes::new())),
        Method::GET => {
            return Ok(reply(
                StatusCode::OK,
                "\"damm devnode: send JSON-RPC requests with POST\"",
            ))
        }
        _ => return Ok(reply(StatusCode::METHOD_NOT_ALLOWED, Bytes::new())),
    }
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(body) => body.to_bytes(),
        Err(e) => {
            let error = serde_json::json!({
                "jsonrpc": "2.0", "id": null,
                "error": { "code": error::INVALID_REQUEST, "message": format!("cannot read the request body: {e}") }
            });
            return Ok(reply(StatusCode::PAYLOAD_TOO_LARGE, error.to_string()));
        }
    };
    let (tx, rx) = oneshot::channel();
    if node.send(NodeMessage::Request(body.to_vec(), tx)).is_err() {
        return Ok(reply(StatusCode::SERVICE_UNAVAILABLE, "\"the node has stopped\""));
    }
    match rx.await {
        Ok(response) => Ok(reply(StatusCode::OK, response)),
        Err(_) => Ok(reply(StatusCode::SERVICE_UNAVAILABLE, "\"the node has stopped\"")),
    }
}
