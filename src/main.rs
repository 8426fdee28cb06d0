//! The binary: parse the command line, then hand over to the library (`stafettlogg::cli`).

use clap::Parser;

fn main() -> std::process::ExitCode {
    tune_allocator();
    stafettlogg::cli::run(stafettlogg::cli::Cli::parse())
}

/// glibc's allocator, as a long-running server with bursts wants it. By default it gives each thread
/// that allocates an arena of its own (up to 8 per core) and raises its thresholds for returning memory
/// to the system to the size of the largest block freed so far (up to 32 MiB): after an import of a few
/// MiB, each of a dozen arenas kept tens of MiB it no longer used. Two arenas and fixed thresholds of
/// 128 KiB (larger blocks are mapped on their own and returned when freed) took the server's resident
/// memory at 64 clients from 119 to 86 MB in the API benchmark, its CPU per request within the run's
/// noise. Set before any thread starts; an operator's own `GLIBC_TUNABLES` wins.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("GLIBC_TUNABLES").is_none() {
        const LIMIT: libc::c_int = 128 * 1024;
        // SAFETY: mallopt only changes the allocator's parameters; no other thread runs yet.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
            libc::mallopt(libc::M_MMAP_THRESHOLD, LIMIT);
            libc::mallopt(libc::M_TRIM_THRESHOLD, LIMIT);
        }
    }
}
