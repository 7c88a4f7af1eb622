//! Work split across threads for the page explorer and the hunt's random
//! phase: every thread runs its own copies of the engines
//! ([`Engine::fork`]); the calling thread polls for progress and can stop
//! them. The searches merge what the threads found by each scenario's
//! place in the single-threaded order, so the result does not depend on
//! the number of threads.

use crate::engine::Engine;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// What the threads share: a stop flag and a count of checked scenarios.
#[derive(Debug, Default)]
pub struct Shared {
    pub stop: AtomicBool,
    pub checked: AtomicU64,
}

impl Shared {
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    pub fn add(&self, n: u64) {
        self.checked.fetch_add(n, Ordering::Relaxed);
    }

    pub fn checked(&self) -> u64 {
        self.checked.load(Ordering::Relaxed)
    }
}

/// One set of engine copies per thread, or `None` if an engine does not
/// fork (or one thread is asked for).
pub type Sets = Vec<Vec<Box<dyn Engine + Send>>>;

/// Copies of `engines` for `jobs` threads, if every engine forks and
/// `jobs` is above 1.
pub fn forks(engines: &[&mut dyn Engine], jobs: usize) -> Option<Sets> {
    if jobs < 2 {
        return None;
    }
    (0..jobs)
        .map(|_| engines.iter().map(|e| e.fork()).collect())
        .collect()
}

/// Runs `work(engines)` on one thread per set; while they run,
/// calls `poll()` on this thread about every 50 ms, and stops them (through
/// `shared`) once it returns false. Returns the threads' results in thread
/// order.
pub fn run<T: Send>(
    sets: Sets,
    shared: &Shared,
    work: impl Fn(&mut [&mut dyn Engine]) -> T + Sync,
    mut poll: impl FnMut() -> bool,
) -> Vec<T> {
    std::thread::scope(|s| {
        let work = &work;
        let handles: Vec<_> = sets
            .into_iter()
            .map(|mut set| {
                s.spawn(move || {
                    let mut refs: Vec<&mut dyn Engine> = set
                        .iter_mut()
                        .map(|e| &mut **e as &mut dyn Engine)
                        .collect();
                    work(&mut refs)
                })
            })
            .collect();
        let mut nap = 1;
        while !handles.iter().all(|h| h.is_finished()) {
            if !shared.stopped() && !poll() {
                shared.stop.store(true, Ordering::Relaxed);
            }
            std::thread::sleep(Duration::from_millis(nap));
            nap = (nap * 2).min(50);
        }
        handles
            .into_iter()
            .map(|h| h.join().expect("a search thread panicked"))
            .collect()
    })
}
