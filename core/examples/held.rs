//! The acceptance bench for Windows holds, on the simulated Windows file
//! system (`fs::sim`, FAT profile): another program (an antivirus scan) holds
//! the document file for 5 s while the app keeps changing the store.
//!
//!   cargo run --release -p tad_store_core --example held [seconds]
//!
//! Prints what a deferred `set` costs the calling thread with no hold and
//! during the hold (median, p95, p99, max over every set made), how long
//! `flush()` took and how far past the hold's end it resolved, and checks that
//! every change is in the file once it has.
use std::sync::Arc;
use std::time::{Duration, Instant};

use tad_store_core::fs::sim::{HoldKind, Profile, SimFs};
use tad_store_core::{registry, Call, StoreOptions};

fn summary(mut v: Vec<Duration>) -> String {
    v.sort();
    let at = |q: f64| v[((v.len() as f64 - 1.0) * q) as usize];
    format!(
        "{:.2} µs | {:.2} µs | {:.2} µs | {:.1} µs | {}",
        at(0.5).as_secs_f64() * 1e6,
        at(0.95).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6,
        v.last().unwrap().as_secs_f64() * 1e6,
        v.len()
    )
}

fn main() {
    let secs: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse().unwrap())
        .unwrap_or(5);
    let dir = std::env::temp_dir().join(format!("tadheld{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let sim = SimFs::new(Profile::windows_fat());
    let mut o = StoreOptions::new(dir.join("config.json"));
    o.fs = Arc::new(sim.clone());
    let s = registry::open(o).unwrap();
    let call = Call {
        validate: true,
        values: false,
    };
    s.set("settings", br#"{"theme":"dark","fontSize":1}"#, call)
        .unwrap();
    s.flush().unwrap();
    let mut calm = Vec::new();
    for i in 0..20_000u32 {
        let t = Instant::now();
        s.set("settings.fontSize", i.to_string().as_bytes(), call)
            .unwrap();
        calm.push(t.elapsed());
    }
    s.flush().unwrap();
    let hold = sim.hold(
        &dir.join("config.json"),
        HoldKind::Scan,
        Some(Duration::from_secs(secs)),
    );
    let held_at = Instant::now();
    let mut held = Vec::new();
    let mut i = 0u32;
    // a set every 100 µs for the first 4/5 of the hold
    while held_at.elapsed() < Duration::from_secs(secs) * 4 / 5 {
        let t = Instant::now();
        s.set("settings.fontSize", i.to_string().as_bytes(), call)
            .unwrap();
        held.push(t.elapsed());
        i += 1;
        std::thread::sleep(Duration::from_micros(100));
    }
    let t = Instant::now();
    s.flush().unwrap();
    let flush = t.elapsed();
    let after_hold = held_at.elapsed().saturating_sub(Duration::from_secs(secs));
    assert!(!sim.is_held(&hold));
    let file = std::fs::read_to_string(dir.join("config.json")).unwrap();
    assert!(file.contains(&format!("\"fontSize\": {}", i - 1)), "{file}");
    println!("| deferred `set`, calling thread | median | p95 | p99 | max | sets |");
    println!("|---|---|---|---|---|---|");
    println!("| no hold (simulated Windows) | {} |", summary(calm));
    println!(
        "| during a {secs} s hold on the document | {} |",
        summary(held)
    );
    println!(
        "flush() during the hold: resolved after {:.2} s, {:.0} ms after the hold ended; sharing violations met by the writer: {}; every change in the file: yes",
        flush.as_secs_f64(),
        after_hold.as_secs_f64() * 1000.0,
        sim.counts().sharing_violations
    );
    s.close(false).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
