//! `damm devnode` as a user runs it: the banner with the dev accounts, JSON-RPC on the printed address,
//! `--chain-id`, `--block-time`, `--state` written on SIGTERM and loaded again, and clear errors for bad
//! options.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// A running `damm devnode`, killed if the test fails before stopping it.
struct Devnode {
    child: Child,
    addr: String,
    banner: String,
}

impl Drop for Devnode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Devnode {
    let child = Command::new(env!("CARGO_BIN_EXE_damm"))
        .arg("devnode")
        .args(["--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("damm runs");
    // From here on the guard kills and reaps the process on every path.
    let mut node = Devnode {
        child,
        addr: String::new(),
        banner: String::new(),
    };
    let mut lines = BufReader::new(node.child.stdout.take().expect("stdout"));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut line = String::new();
        let n = lines.read_line(&mut line).expect("reads stdout");
        assert!(
            n > 0 && Instant::now() < deadline,
            "no 'Listening on' line; got:\n{}",
            node.banner
        );
        node.banner.push_str(&line);
        if let Some(addr) = line.trim().strip_prefix("Listening on ") {
            node.addr = addr.to_owned();
            return node;
        }
    }
}

/// One JSON-RPC call over a plain HTTP/1.1 connection; returns the response body.
fn rpc(addr: &str, method: &str, params: &str) -> String {
    let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":{params}}}"#);
    let mut stream = TcpStream::connect(addr).expect("connects");
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("sends");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("reads");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned()
}

fn stop(mut node: Devnode) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &node.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    node.child.wait().expect("exits")
}

#[test]
fn serves_json_rpc_and_keeps_its_state_across_restarts() {
    let dir = std::env::temp_dir().join(format!("damm-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("chain.json");
    let state_arg = state.to_str().unwrap();

    let node = start(&["--chain-id", "31337", "--accounts", "3", "--state", state_arg]);
    assert!(node.banner.contains("Available Accounts"), "{}", node.banner);
    assert!(
        node.banner
            .contains("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"),
        "the banner lists the dev keys:\n{}",
        node.banner
    );
    assert!(
        node.banner.contains("(3) "),
        "3 mnemonic accounts and nitro's key:\n{}",
        node.banner
    );
    assert!(!node.banner.contains("(4) "), "{}", node.banner);
    assert!(rpc(&node.addr, "eth_chainId", "[]").contains(r#""result":"0x7a69""#));
    let bob = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    let sent = rpc(
        &node.addr,
        "eth_sendTransaction",
        &format!(r#"[{{"from":"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266","to":"{bob}","value":"0x2a"}}]"#),
    );
    assert!(sent.contains(r#""result":"0x"#), "{sent}");
    let status = stop(node);
    assert!(status.success(), "SIGTERM is a clean stop: {status}");
    let saved = std::fs::read_to_string(&state).expect("the state file is written on exit");
    assert!(saved.contains("\"blockNumber\": 1"), "{saved}");

    // Started again from the file: the transfer is still there.
    let node = start(&["--chain-id", "31337", "--accounts", "3", "--state", state_arg]);
    assert!(rpc(&node.addr, "eth_blockNumber", "[]").contains(r#""result":"0x1""#));
    let balance = rpc(&node.addr, "eth_getBalance", &format!(r#"["{bob}","latest"]"#));
    assert!(
        balance.contains(r#""result":"0x21e19e0c9bab240002a""#),
        "{balance}"
    );
    stop(node);

    // A state file of another chain is refused by name.
    let mut other = Command::new(env!("CARGO_BIN_EXE_damm"))
        .args(["devnode", "--port", "0", "--state", state_arg])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = other.wait().unwrap();
    let mut stderr = String::new();
    other.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(!status.success());
    assert!(
        stderr.contains("chain 31337") && stderr.contains("412346"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn block_time_mines_on_the_interval() {
    let node = start(&["--block-time", "0.2"]);
    assert!(
        node.banner.contains("Block time:        0.2 s"),
        "{}",
        node.banner
    );
    std::thread::sleep(Duration::from_millis(900));
    let number = rpc(&node.addr, "eth_blockNumber", "[]");
    let hex = number
        .split(r#""result":"0x"#)
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap();
    assert!(
        u64::from_str_radix(hex, 16).unwrap() >= 2,
        "blocks are mined on the interval: {number}"
    );
    stop(node);
}

#[test]
fn bad_options_are_named() {
    let output = Command::new(env!("CARGO_BIN_EXE_damm"))
        .args(["devnode", "--block-time=0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--block-time"), "{stderr}");

    // The port is taken.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_damm"))
        .args(["devnode", "--port", &port])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot listen on 127.0.0.1:") && stderr.contains(&port),
        "{stderr}"
    );
    assert!(Path::new(env!("CARGO_BIN_EXE_damm")).exists());
}
