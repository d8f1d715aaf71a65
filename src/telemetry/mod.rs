//! Telemetry set-up.
