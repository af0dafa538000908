//! The process's memory, as the operating system sees it.

/// Returns the allocator's free memory to the operating system. glibc keeps what a burst of
/// requests freed (many threads, each with its own arena) for reuse; after 32 connections of
/// statistics requests the server held 50 MB more than it used. An import or an export, which
/// needs tens of megabytes for a few seconds, calls this first, so that the process's peak is
/// its working set plus the file rather than plus every earlier burst; the periodic job calls
/// it too (`jobs::run_forever`). It takes milliseconds, which only such long requests and a
/// background job can spare. Other allocators and platforms keep their default.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` takes no pointers; it locks each arena and releases its free pages.
    unsafe {
        libc::malloc_trim(0);
    }
}
