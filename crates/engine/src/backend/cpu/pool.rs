//! A compute pool for one forward pass: worker threads spin between the many small parallel steps of a
//! token (a 30-layer model has ~150 per token), so each step starts in nanoseconds instead of paying a
//! sleeping thread's wake-up (tens of microseconds, which at 100+ tok/s is most of the time budget). Between
//! passes the workers park and use no CPU. This is how llama.cpp's CPU backend schedules, too.

use std::cell::{Cell, UnsafeCell};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

type Task = dyn Fn(usize) + Sync;

struct Shared {
    workers: usize,
    /// Bumped for every parallel step; workers run the step when they see it change.
    generation: AtomicUsize,
    next: AtomicUsize,
    tasks: AtomicUsize,
    finished: AtomicUsize,
    active: AtomicBool,
    shutdown: AtomicBool,
    /// The step's closure, published before `generation` is bumped (Release) and read after (Acquire).
    job: UnsafeCell<Option<*const Task>>,
}

// SAFETY: `job` is written only by the pool's owner between steps, while no worker reads it.
unsafe impl Sync for Shared {}
unsafe impl Send for Shared {}

pub struct ComputePool {
    shared: Arc<Shared>,
    handles: Vec<JoinHandle<()>>,
}

thread_local! {
    static CURRENT: Cell<*const Shared> = const { Cell::new(std::ptr::null()) };
}

impl ComputePool {
    /// A pool of `threads` in total: the calling thread works too, so `threads - 1` are spawned.
    /// Fails if the OS refuses a thread (e.g. a thread limit), rather than aborting the app.
    pub fn new(threads: usize) -> crate::error::Result<Self> {
        let workers = threads.max(1) - 1;
        let shared = Arc::new(Shared {
            workers,
            generation: AtomicUsize::new(0),
            next: AtomicUsize::new(0),
            tasks: AtomicUsize::new(0),
            finished: AtomicUsize::new(0),
            active: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            job: UnsafeCell::new(None),
        });
        let mut pool = Self { shared: Arc::clone(&shared), handles: Vec::with_capacity(workers) };
        for i in 0..workers {
            let shared = Arc::clone(&shared);
            let handle = std::thread::Builder::new()
                .name(format!("atelier-cpu-{i}"))
                .spawn(move || worker(&shared))
                .map_err(|e| crate::error::EngineError::Device(format!("cannot start CPU thread {} of {threads}: {e}", i + 1)))?;
            // Dropping `pool` on failure stops the threads already started.
            pool.handles.push(handle);
        }
        Ok(pool)
    }

    pub fn threads(&self) -> usize {
        self.shared.workers + 1
    }

    /// Runs `f` with the workers awake; [`parallel_for`] calls inside it use this pool.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        /// Restores the previous pool and lets the workers park, also if `f` panics.
        struct Leave<'a>(*const Shared, &'a Shared);
        impl Drop for Leave<'_> {
            fn drop(&mut self) {
                CURRENT.with(|c| c.set(self.0));
                self.1.active.store(false, Ordering::Release);
            }
        }
        let previous = CURRENT.with(|c| c.replace(Arc::as_ptr(&self.shared)));
        let _leave = Leave(previous, &self.shared);
        self.shared.active.store(true, Ordering::Release);
        for h in &self.handles {
            h.thread().unpark();
        }
        f()
    }
}

impl Drop for ComputePool {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::Release);
        for h in &self.handles {
            h.thread().unpark();
        }
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

fn worker(shared: &Shared) {
    // Generations start at 0: a step published before this thread got here is still seen as new.
    let mut seen = 0;
    loop {
        // Spin while a pass is running; park between passes.
        let mut spins = 0u32;
        loop {
            if shared.shutdown.load(Ordering::Acquire) {
                return;
            }
            let generation = shared.generation.load(Ordering::Acquire);
            if generation != seen {
                seen = generation;
                break;
            }
            if shared.active.load(Ordering::Acquire) {
                std::hint::spin_loop();
                spins = spins.wrapping_add(1);
                if spins % 4096 == 0 {
                    std::thread::yield_now();
                }
            } else {
                std::thread::park_timeout(std::time::Duration::from_millis(50));
            }
        }
        // SAFETY: published before the generation bump we just observed; valid until we report finished.
        let job = unsafe { (*shared.job.get()).expect("a step was published") };
        run_tasks(shared, unsafe { &*job });
        shared.finished.fetch_add(1, Ordering::AcqRel);
    }
}

fn run_tasks(shared: &Shared, job: &Task) {
    let n = shared.tasks.load(Ordering::Acquire);
    loop {
        let i = shared.next.fetch_add(1, Ordering::AcqRel);
        if i >= n {
            break;
        }
        job(i);
    }
}

/// Calls `f(i)` for every `i < n`, across the pool of the enclosing [`ComputePool::run`] (or serially when
/// there is none), and returns when all calls are done.
pub fn parallel_for(n: usize, f: impl Fn(usize) + Sync) {
    let shared = CURRENT.with(|c| c.get());
    if shared.is_null() || n <= 1 {
        (0..n).for_each(f);
        return;
    }
    // SAFETY: set by `run`, whose pool outlives this call.
    let shared = unsafe { &*shared };
    if shared.workers == 0 {
        (0..n).for_each(f);
        return;
    }
    let job: &(dyn Fn(usize) + Sync + '_) = &f;
    // SAFETY: workers only dereference the pointer between the generation bump below and their
    // `finished` increment, and we wait for all of them before `f` goes out of scope.
    let job: *const Task = unsafe { std::mem::transmute::<&(dyn Fn(usize) + Sync + '_), &'static Task>(job) };
    unsafe { *shared.job.get() = Some(job) };
    shared.tasks.store(n, Ordering::Release);
    shared.next.store(0, Ordering::Release);
    shared.finished.store(0, Ordering::Release);
    shared.generation.fetch_add(1, Ordering::AcqRel);
    run_tasks(shared, unsafe { &*job });
    while shared.finished.load(Ordering::Acquire) < shared.workers {
        std::hint::spin_loop();
    }
    unsafe { *shared.job.get() = None };
}

/// Threads of the current pool (1 outside any).
pub fn current_threads() -> usize {
    let shared = CURRENT.with(|c| c.get());
    if shared.is_null() {
        1
    } else {
        // SAFETY: as in `parallel_for`.
        unsafe { (*shared).workers + 1 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_index_runs_exactly_once() {
        let pool = ComputePool::new(4).unwrap();
        pool.run(|| {
            for n in [0, 1, 2, 7, 1000] {
                let hits: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
                parallel_for(n, |i| {
                    hits[i].fetch_add(1, Ordering::Relaxed);
                });
                assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 1));
            }
        });
    }

    #[test]
    fn many_steps_in_a_row_and_passes_after_parking() {
        let pool = ComputePool::new(3).unwrap();
        for _ in 0..3 {
            let total = AtomicUsize::new(0);
            pool.run(|| {
                for _ in 0..500 {
                    parallel_for(8, |i| {
                        total.fetch_add(i, Ordering::Relaxed);
                    });
                }
            });
            assert_eq!(total.load(Ordering::Relaxed), 500 * 28);
            std::thread::sleep(std::time::Duration::from_millis(60));
        }
        assert_eq!(current_threads(), 1);
    }

    #[test]
    fn outside_a_pool_it_runs_serially() {
        let total = AtomicUsize::new(0);
        parallel_for(10, |i| {
            total.fetch_add(i, Ordering::Relaxed);
        });
        assert_eq!(total.load(Ordering::Relaxed), 45);
    }
}
