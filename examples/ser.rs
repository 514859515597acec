use std::time::Instant;
fn main() {
    let p = std::env::args().nth(1).unwrap();
    let bytes = std::fs::read(&p).unwrap();
    for _ in 0..3 {
        let t = Instant::now();
        let v = tad_store::value::parse(&bytes).unwrap();
        println!("parse {:?}", t.elapsed());
        let t = Instant::now();
        drop(v);
        println!("drop {:?}", t.elapsed());
    }
    let v = tad_store::value::parse(&bytes).unwrap();
    for _ in 0..3 {
        let t = Instant::now();
        let mut out = Vec::with_capacity(8 << 20);
        tad_store::value::write_json(&mut out, &v, false);
        println!("compact presized {:?} {}", t.elapsed(), out.len());
    }
    for _ in 0..2 {
        let t = Instant::now();
        let out = tad_store::value::to_json(&v, true);
        println!("pretty {:?} {}", t.elapsed(), out.len());
    }
}
