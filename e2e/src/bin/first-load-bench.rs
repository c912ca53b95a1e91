//! `cargo xtask bench` runs this against a running stack: what a first visit (empty cache) and a
//! second visit transfer of the app's wasm, JS and CSS, from Chromium's Resource Timing.
//! Without a `stack.json` it starts a stack of its own (`KCONSOLE_SERVER_BIN_DIR` picks the
//! servers, to measure another build's BFF).

use std::path::PathBuf;

use devstack::StackDescription;
use e2e::first_load::{FIRST_VISIT_BUDGET, Fetched, measure, total};

fn report(visit: &str, fetched: &[Fetched]) {
    println!("{visit}:");
    for file in fetched {
        println!(
            "  {:<44} transferred {:>9} B, encoded {:>9} B, decoded {:>9} B",
            file.path, file.transfer, file.encoded, file.decoded
        );
    }
    println!(
        "  {:<44} transferred {:>9} B, encoded {:>9} B, decoded {:>9} B",
        "wasm + JS + CSS",
        total(fetched, |f| f.transfer),
        total(fetched, |f| f.encoded),
        total(fetched, |f| f.decoded)
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let own;
    let stack = match std::env::args().nth(1) {
        Some(path) => StackDescription::read(&PathBuf::from(path))?,
        None => {
            own = e2e::start_own_stack("24h").await?;
            own.description().clone()
        }
    };
    let visits = measure(&stack).await?;
    report("first visit (empty cache)", &visits.first);
    report("second visit", &visits.second);
    let first = total(&visits.first, |f| f.transfer);
    println!(
        "first visit: {:.1} KB of wasm + JS + CSS transferred (budget {:.1} KB); second visit: {:.1} KB",
        first as f64 / 1000.0,
        FIRST_VISIT_BUDGET as f64 / 1000.0,
        total(&visits.second, |f| f.transfer) as f64 / 1000.0
    );
    Ok(())
}
