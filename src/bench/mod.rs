//! Benchmarks behind `zonewise bench …`. Each runs a pipeline stage at a stated
//! scale and reports what a reader needs to judge it (sizes, seconds per stage,
//! peak memory, quality), as a table or as JSON for a script that sets the figures
//! against a reference tool run on the same data. Performance is measured here,
//! never asserted in timed tests.

pub mod linkage;
pub mod map;

/// The process's peak resident memory so far, in bytes (`getrusage` `ru_maxrss`).
///
/// It is a high-water mark for the whole process: figures for several runs in one
/// process each include every run before them. None where the OS does not say.
pub fn peak_memory_bytes() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: getrusage fills the whole struct it is given and reports failure in
        // its return value, which is checked before the struct is read.
        let usage = unsafe {
            if libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) != 0 {
                return None;
            }
            usage.assume_init()
        };
        // Linux reports kilobytes; macOS reports bytes.
        let unit = if cfg!(target_os = "macos") { 1 } else { 1024 };
        Some(u64::try_from(usage.ru_maxrss).ok()? * unit)
    }
    #[cfg(not(unix))]
    None
}

#[cfg(test)]
mod tests {
    #[cfg(unix)]
    #[test]
    fn peak_memory_is_at_least_what_is_held() {
        let held = vec![1u8; 64 << 20];
        let peak = super::peak_memory_bytes().expect("getrusage");
        assert!(peak >= held.len() as u64, "peak {peak}");
        assert_eq!(held.iter().map(|&b| b as u64).sum::<u64>(), 64 << 20);
    }
}
