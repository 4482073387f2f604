//! Fault injection for the crash tests: `DAMM_FAULT=<point>` (with `DAMM_FAULT_AFTER=<n>`, default 1) aborts
//! the process, as `kill -9` would, the n-th time it reaches `<point>` (see `docs/OPERATOR.md`).

use std::sync::{
    atomic::{AtomicU64, Ordering},
    OnceLock,
};

struct Fault {
    point: String,
    after: u64,
    seen: AtomicU64,
}

fn fault() -> Option<&'static Fault> {
    static FAULT: OnceLock<Option<Fault>> = OnceLock::new();
    FAULT
        .get_or_init(|| {
            let point = std::env::var("DAMM_FAULT").ok().filter(|p| !p.is_empty())?;
            let after = std::env::var("DAMM_FAULT_AFTER")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            Some(Fault {
                point,
                after,
                seen: AtomicU64::new(0),
            })
        })
        .as_ref()
}

/// The process reached `point`: aborts it if that is the configured fault.
pub fn hit(point: &str) {
    if let Some(fault) = fault() {
        if fault.point == point && fault.seen.fetch_add(1, Ordering::SeqCst) + 1 == fault.after {
            eprintln!("operator: fault injection: aborting at {point}");
            std::process::abort();
        }
    }
}
