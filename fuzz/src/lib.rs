//! Support for the fuzz targets in `tests/`: how long each target runs, a reader that turns fuzzer bytes
//! into structured choices, an address-space limit, and a guard that saves the input being tested when the
//! process dies in a way bolero cannot catch (an abort after a failed allocation, a stack overflow, a hang).
//!
//! Every target runs under plain `cargo test` (it replays `tests/__fuzz__/<target>/{corpus,crashes}`, then
//! tries random inputs for [`test_time`]) and under `cargo bolero test --engine afl` for coverage-guided runs.

use std::ffi::CString;
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Once, OnceLock};
use std::time::{Duration, Instant};

/// How long each target tries random inputs: `ATELIER_FUZZ_SECONDS` (CI sets 30), else 5 s.
/// (`BOLERO_RANDOM_TEST_TIME_MS` and `BOLERO_RANDOM_ITERATIONS`, bolero's own variables, win over it.)
pub fn test_time() -> Duration {
    std::env::var("ATELIER_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(Duration::from_secs(5))
}

/// Fuzzer bytes read as a sequence of choices; an exhausted input reads as zeros.
pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        head
    }
    pub fn rest(&mut self) -> &'a [u8] {
        self.take(self.data.len())
    }
    fn le(&mut self, n: usize) -> u64 {
        self.take(n).iter().rev().fold(0u64, |acc, &b| (acc << 8) | b as u64)
    }
    pub fn u8(&mut self) -> u8 {
        self.le(1) as u8
    }
    pub fn u16(&mut self) -> u16 {
        self.le(2) as u16
    }
    pub fn u32(&mut self) -> u32 {
        self.le(4) as u32
    }
    pub fn u64(&mut self) -> u64 {
        self.le(8)
    }
    pub fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }
    /// One of `items`, chosen by the next byte.
    pub fn pick<'b, T>(&mut self, items: &'b [T]) -> &'b T {
        &items[self.u8() as usize % items.len()]
    }
}

/// Integers at the edges: zero, small, powers of two and their neighbours, the signed and unsigned maxima,
/// and f32 bit patterns (NaN, infinities, -1, huge).
pub const INTERESTING: &[u64] = &[
    0,
    1,
    2,
    3,
    4,
    7,
    8,
    15,
    16,
    31,
    32,
    63,
    64,
    127,
    128,
    255,
    256,
    1023,
    1024,
    4096,
    65_535,
    65_536,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    1 << 32,
    1 << 40,
    1 << 60,
    i64::MAX as u64,
    1 << 63,
    u64::MAX - 1,
    u64::MAX,
    0x7fc0_0000, // f32 NaN
    0x7f80_0000, // f32 +inf
    0xff80_0000, // f32 -inf
    0xbf80_0000, // f32 -1.0
    0x7149_f2ca, // f32 1e30
    0x0000_0001, // f32 smallest subnormal
];

/// Limits this process's address space to what it maps now plus `extra` bytes (Linux; elsewhere a no-op),
/// so an input that makes the code under test allocate wildly fails an allocation (and aborts, which
/// [`Guard`] reports with the input) instead of taking the machine's memory. Applies once per process.
pub fn limit_address_space(extra: u64) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        #[cfg(target_os = "linux")]
        {
            let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
            let mapped_kib: u64 = status
                .lines()
                .find_map(|l| l.strip_prefix("VmSize:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0);
            if mapped_kib == 0 {
                return;
            }
            let limit = (mapped_kib * 1024).saturating_add(extra);
            let mut current = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            // SAFETY: plain libc calls on a local struct.
            unsafe {
                if libc::getrlimit(libc::RLIMIT_AS, &mut current) != 0 {
                    return;
                }
                let soft = if current.rlim_max == libc::RLIM_INFINITY { limit } else { limit.min(current.rlim_max as u64) };
                if current.rlim_cur != libc::RLIM_INFINITY && (current.rlim_cur as u64) <= soft {
                    return;
                }
                let new = libc::rlimit { rlim_cur: soft as libc::rlim_t, rlim_max: current.rlim_max };
                if libc::setrlimit(libc::RLIMIT_AS, &new) == 0 {
                    eprintln!("atelier-fuzz: address space limited to {} MiB", soft >> 20);
                }
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = extra;
    });
}

const SLOTS: usize = 16;

struct Slot {
    input: AtomicPtr<u8>,
    len: AtomicUsize,
    /// Milliseconds since [`epoch`] plus one when the input started; 0 when idle.
    started: AtomicU64,
    path: AtomicPtr<libc::c_char>,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Slot = Slot {
    input: AtomicPtr::new(std::ptr::null_mut()),
    len: AtomicUsize::new(0),
    started: AtomicU64::new(0),
    path: AtomicPtr::new(std::ptr::null_mut()),
};
static SLOT: [Slot; SLOTS] = [EMPTY; SLOTS];
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    epoch().elapsed().as_millis() as u64 + 1
}

/// Saves the input a target is testing when the process aborts (SIGABRT: a failed allocation, a stack
/// overflow, a panic while panicking) or when one input runs longer than `ATELIER_FUZZ_HANG_SECONDS`
/// (default 60): the bytes go to `path`, and stderr says so. Copy that file into the target's `crashes/`
/// folder to make it a regression input.
pub struct Guard {
    slot: usize,
}

impl Guard {
    pub fn new(path: impl Into<std::path::PathBuf>) -> Self {
        install_handlers();
        let slot = NEXT_SLOT.fetch_add(1, Ordering::SeqCst) % SLOTS;
        let path = CString::new(path.into().to_string_lossy().into_owned()).expect("no NUL in the path");
        // A previous path is leaked on purpose: a signal handler may still be reading it.
        SLOT[slot].path.store(path.into_raw(), Ordering::SeqCst);
        Self { slot }
    }

    /// Runs `f` with `input` registered as the one being tested.
    pub fn run<R>(&self, input: &[u8], f: impl FnOnce() -> R) -> R {
        let slot = &SLOT[self.slot];
        slot.len.store(input.len(), Ordering::SeqCst);
        slot.input.store(input.as_ptr() as *mut u8, Ordering::SeqCst);
        slot.started.store(now_ms(), Ordering::SeqCst);
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        slot.started.store(0, Ordering::SeqCst);
        slot.input.store(std::ptr::null_mut(), Ordering::SeqCst);
        match out {
            Ok(out) => out,
            Err(panic) => {
                // The latest failing input (after bolero's shrinking: the smallest it found), as a file.
                let path = self.panic_path();
                if std::fs::write(&path, input).is_ok() {
                    eprintln!("atelier-fuzz: a failing input is saved at {}", path.display());
                }
                std::panic::resume_unwind(panic)
            }
        }
    }

    fn panic_path(&self) -> std::path::PathBuf {
        let path = SLOT[self.slot].path.load(Ordering::SeqCst);
        // SAFETY: set from a CString in `new` and never freed.
        let path = unsafe { std::ffi::CStr::from_ptr(path) }.to_string_lossy().into_owned();
        std::path::PathBuf::from(path.replace(".abort-input", ".panic-input"))
    }
}

fn install_handlers() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        epoch();
        #[cfg(unix)]
        // SAFETY: installs an async-signal-safe handler (it only calls open/write/close/signal/raise).
        unsafe {
            libc::signal(libc::SIGABRT, on_abort as extern "C" fn(libc::c_int) as libc::sighandler_t);
        }
        let hang = std::env::var("ATELIER_FUZZ_HANG_SECONDS").ok().and_then(|s| s.parse::<u64>().ok()).unwrap_or(60);
        std::thread::Builder::new()
            .name("atelier-fuzz-watchdog".into())
            .spawn(move || loop {
                std::thread::sleep(Duration::from_millis(500));
                let now = now_ms();
                for slot in &SLOT {
                    let started = slot.started.load(Ordering::SeqCst);
                    if started != 0 && now.saturating_sub(started) > hang * 1000 {
                        write_stderr(b"atelier-fuzz: one input ran longer than ATELIER_FUZZ_HANG_SECONDS: a hang\n");
                        std::process::abort();
                    }
                }
            })
            .expect("watchdog thread");
    });
}

fn write_stderr(msg: &[u8]) {
    // SAFETY: write(2) on stderr with a valid buffer.
    unsafe {
        libc::write(2, msg.as_ptr().cast(), msg.len());
    }
}

#[cfg(unix)]
extern "C" fn on_abort(sig: libc::c_int) {
    for slot in &SLOT {
        let input = slot.input.load(Ordering::SeqCst);
        let path = slot.path.load(Ordering::SeqCst);
        if input.is_null() || path.is_null() {
            continue;
        }
        let len = slot.len.load(Ordering::SeqCst);
        // SAFETY: `input` points at the `len` bytes `Guard::run` is testing (the process is dying inside
        // that call), `path` at a leaked NUL-terminated string; only async-signal-safe calls.
        unsafe {
            let fd = libc::open(path, libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC, 0o644);
            if fd >= 0 {
                libc::write(fd, input.cast(), len);
                libc::close(fd);
                write_stderr(b"atelier-fuzz: the process is aborting; the input under test is saved at ");
                write_stderr(std::ffi::CStr::from_ptr(path).to_bytes());
                write_stderr(b"\n");
            }
        }
    }
    // SAFETY: back to the default action, then die of the same signal.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_little_endian_and_zeros_when_exhausted() {
        let mut b = Bytes::new(&[1, 2, 3]);
        assert_eq!(b.u16(), 0x0201);
        assert_eq!(b.u32(), 3);
        assert_eq!(b.u8(), 0);
        assert!(b.is_empty());
    }
}
