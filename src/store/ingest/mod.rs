//! OTLP ingest.
