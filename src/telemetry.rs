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
