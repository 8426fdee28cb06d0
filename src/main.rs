//! The binary: parse the command line, then hand over to the library (`stafettlogg::cli`).

use clap::Parser;

fn main() -> std::process::ExitCode {
    tune_allocator();
    stafettlogg::cli::run(stafettlogg::cli::Cli::parse())
}

/// glibc's allocator, as a long-running server with bursts wants it. By default it gives each thread
/// that allocates an arena of its own (up to 8 per core), and each time a block it had mapped on its own
/// is freed it raises the size from which it maps blocks to that block's (up to 32 MiB) and the size
/// from which it returns free memory to twice that: after an import of a few MiB, each of a dozen arenas
/// kept tens of MiB it no longer used. Two arenas and fixed thresholds of 128 KiB (larger blocks are
/// mapped on their own and returned when freed) took the server's resident memory at 64 clients from 119
/// to 86 MB in the API benchmark, its CPU per request within the run's noise. Set before any thread
/// starts; an operator's own malloc settings (`glibc.malloc.*` in `GLIBC_TUNABLES`, or the `MALLOC_*`
/// variables) win.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if !operator_tuned_malloc() {
        const LIMIT: libc::c_int = 128 * 1024;
        // SAFETY: mallopt only changes the allocator's parameters; no other thread runs yet.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
            libc::mallopt(libc::M_MMAP_THRESHOLD, LIMIT);
            libc::mallopt(libc::M_TRIM_THRESHOLD, LIMIT);
        }
    }
}

/// Whether the environment sets any of glibc's malloc parameters itself.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn operator_tuned_malloc() -> bool {
    let tunables = std::env::var("GLIBC_TUNABLES").unwrap_or_default();
    tunables.contains("glibc.malloc.")
        || std::env::vars_os().any(|(k, _)| k.to_string_lossy().starts_with("MALLOC_"))
}
