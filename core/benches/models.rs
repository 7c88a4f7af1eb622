//! Model throughput with criterion: one quiet boot through each era's
//! flow, by firmware map size (`cargo bench -p efimap-core`).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use efimap_core::bench::sized_input;
use efimap_core::judge::findings::check_quiet;
use efimap_core::model::boot::run_with;
use efimap_core::Era;

fn boots(c: &mut Criterion) {
    let mut g = c.benchmark_group("boot");
    for n in [1usize, 4, 16, 64, 256] {
        let input = sized_input(n);
        g.throughput(Throughput::Elements(1));
        for era in Era::all() {
            g.bench_with_input(BenchmarkId::new(era.name(), n), &input, |b, input| {
                b.iter(|| run_with(era, input, true))
            });
        }
        g.bench_with_input(
            BenchmarkId::new("v6.10-classified", n),
            &input,
            |b, input| b.iter(|| check_quiet(Era::V6_10, input)),
        );
    }
    g.finish();
}

criterion_group!(benches, boots);
criterion_main!(benches);
