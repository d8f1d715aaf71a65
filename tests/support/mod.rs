//! Shared test support: a real OTLP pipeline into a receiver on 127.0.0.1,
//! and small step implementations whose behaviour a test scripts.
#![allow(dead_code)]

#[cfg(feature = "serve")]
pub mod endpoints;
pub mod otlp;
pub mod pipeline;
pub mod rag;
pub mod steps;
