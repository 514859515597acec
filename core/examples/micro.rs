//! Core micro-benchmark without Node: `cargo run --release -p tad_store_core --example micro [n]`.
use std::time::Instant;
use tad_store_core::value::to_json;
use tad_store_core::{registry, Call, StoreOptions};

fn main() {
    let dir = std::env::temp_dir().join(format!("tadmicro{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let s = registry::open(StoreOptions::new(dir.join("config.json"))).unwrap();
    let call = Call {
        validate: true,
        values: false,
    };
    s.set("settings", br#"{"theme":"dark","fontSize":1}"#, call)
        .unwrap();
    let n: u32 = std::env::args()
        .nth(1)
        .map(|a| a.parse().unwrap())
        .unwrap_or(200_000);
    let t = Instant::now();
    for _ in 0..n {
        let out = s
            .get_with("settings.theme", |v| v.map(|v| to_json(v, false)))
            .unwrap();
        std::hint::black_box(out);
    }
    println!("get {:?}/op", t.elapsed() / n);
    let t = Instant::now();
    for i in 0..n {
        s.set("settings.fontSize", i.to_string().as_bytes(), call)
            .unwrap();
    }
    println!("set {:?}/op", t.elapsed() / n);
    let t = Instant::now();
    s.flush().unwrap();
    println!("flush {:?}", t.elapsed());
    println!("{:?}", s.status());
    s.close(false).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
