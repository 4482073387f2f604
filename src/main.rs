//! The `damm` command-line tool.

fn main() {
    println!("damm {}", env!("CARGO_PKG_VERSION"));
}
