//! Which `tracing` targets reach the OpenTelemetry layer.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;

use super::report::TARGET;

/// The crates that carry exported telemetry (and ragtrace's own reports
/// about it). Tracing them would feed the exporter its own traffic: each
/// export makes spans, which are exported, which makes spans (a known
/// feedback loop: 100% CPU and unbounded memory).
pub const EXPORTER_TARGETS: &[&str] = &[
    "h2",
    "hyper",
    "hyper_util",
    "tonic",
    "tonic_prost",
    "tower",
    "tower_http",
    "reqwest",
    "rustls",
    "opentelemetry",
    "opentelemetry_sdk",
    "opentelemetry_otlp",
    "opentelemetry_http",
    "opentelemetry-otlp",
    TARGET,
];

/// Targets whose events carry raw provider bodies: `async-openai` logs a
/// whole response body at `ERROR` when it cannot decode it, which may hold
/// completion text. Kept out of spans so that content stays opt-in (the
/// log output, which the application configures, still has them).
pub const CONTENT_TARGETS: &[&str] = &["async_openai::error"];

/// A filter that lets everything through except the exporter's own
/// traffic ([`EXPORTER_TARGETS`]). Put it on any OpenTelemetry layer:
///
/// ```
/// use tracing_subscriber::Layer as _;
///
/// let layer = tracing_opentelemetry::layer::<tracing_subscriber::Registry>()
///     .with_filter(ragtrace::telemetry::without_exporter_traffic());
/// # let _ = layer;
/// ```
pub fn without_exporter_traffic() -> Targets {
    EXPORTER_TARGETS.iter().fold(
        Targets::new().with_default(LevelFilter::TRACE),
        |t, target| t.with_target(*target, LevelFilter::OFF),
    )
}

/// What ragtrace's OpenTelemetry layer records: every ragtrace span, other
/// crates' spans and events at `level` and above, and never the exporter's
/// traffic or raw provider bodies ([`CONTENT_TARGETS`]).
pub(crate) fn traced(level: LevelFilter) -> Targets {
    EXPORTER_TARGETS.iter().chain(CONTENT_TARGETS).fold(
        Targets::new()
            .with_default(level)
            .with_target("ragtrace", LevelFilter::TRACE),
        |t, target| t.with_target(*target, LevelFilter::OFF),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn exporter_traffic_is_never_traced() {
        let filter = traced(LevelFilter::INFO);
        for target in [
            "h2::codec",
            "hyper_util::client",
            "tonic::transport",
            "opentelemetry_sdk::trace",
            "async_openai::error",
            TARGET,
        ] {
            assert!(!filter.would_enable(target, &Level::ERROR), "{target}");
        }
        assert!(filter.would_enable("ragtrace", &Level::TRACE));
        assert!(filter.would_enable("my_app::handler", &Level::INFO));
        // async-openai's retry warnings still become span events.
        assert!(filter.would_enable("async_openai::middleware::retry", &Level::WARN));
        assert!(!filter.would_enable("my_app::handler", &Level::DEBUG));
    }
}
