//! Structured logging with `tracing`. The sink is a parameter so tests can silence it.
use tracing::subscriber::set_global_default;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// Installs the global subscriber once. `json` selects machine-readable logs (production).
pub fn init<Sink>(default_filter: &str, json: bool, sink: Sink)
where
    Sink: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let registry = tracing_subscriber::registry().with(filter);
    let result = if json {
        set_global_default(registry.with(fmt::layer().json().with_current_span(true).with_writer(sink)))
    } else {
        set_global_default(registry.with(fmt::layer().with_target(false).with_writer(sink)))
    };
    // A second call (tests build many apps in one process) keeps the first subscriber.
    let _ = result;
}

/// Hands the heap that start-up work freed (the demo's seeding, migrations, the roll-up build) back
/// to the system. glibc keeps freed memory in its per-thread arenas, where it would count as
/// resident for the whole life of the process (the demo: about 50 MB of its 90 after seeding).
pub fn return_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only gives back pages the allocator holds free; it takes no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
}
