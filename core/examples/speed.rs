use efimap_core::codec::decode;
use efimap_core::findings::check;
use efimap_core::Era;
use std::time::Instant;
fn main() {
    let mut x: u64 = 1;
    let mut worst = (0f64, vec![]);
    let t = Instant::now();
    let n = 3000;
    for _ in 0..n {
        let len = (x % 14) as usize;
        let b: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let t1 = Instant::now();
        let sc = decode(&b);
        for era in Era::ALL {
            let _ = check(era, &sc.boot_input());
        }
        let dt = t1.elapsed().as_secs_f64();
        if dt > worst.0 {
            worst = (dt, b.clone());
        }
    }
    println!(
        "{:.1} us/input; worst {:.1} ms {:?}",
        t.elapsed().as_secs_f64() * 1e6 / n as f64,
        worst.0 * 1e3,
        worst.1
    );
    println!("{}", decode(&worst.1).to_text());
}
