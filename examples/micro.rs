use std::time::Instant;
use tad_store::path::segments;
use tad_store::store::{Options, Store};
use tad_store::value::{parse, to_json};
fn main() {
    let dir = std::env::temp_dir().join(format!("tadmicro{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (s, _) = Store::open(Options::new(dir.join("config.json"))).unwrap();
    let segs = segments("settings", true).unwrap();
    let v = parse(br#"{"theme":"dark","fontSize":1}"#).unwrap();
    s.commit("set", &[], |d| Ok((d.plan_set(&segs, v), ())))
        .unwrap();
    let n: u32 = std::env::args()
        .nth(1)
        .map(|a| a.parse().unwrap())
        .unwrap_or(200_000);
    let t = Instant::now();
    for _ in 0..n {
        let out = s
            .read(|d| {
                d.get_iter("settings.theme".split('.'))
                    .map(|v| to_json(v, false))
            })
            .unwrap();
        std::hint::black_box(out);
    }
    println!("get {:?}/op", t.elapsed() / n);
    let t = Instant::now();
    for i in 0..n {
        let segs = segments("settings.fontSize", true).unwrap();
        let v = parse(i.to_string().as_bytes()).unwrap();
        s.commit("set", &["settings.fontSize".to_string()], |d| {
            Ok((d.plan_set(&segs, v), ()))
        })
        .unwrap();
    }
    println!("set {:?}/op", t.elapsed() / n);
    let t = Instant::now();
    s.flush().unwrap();
    println!("flush {:?}", t.elapsed());
    println!("{:?}", s.status());
}
