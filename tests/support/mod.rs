//! Shared test support: a real OTLP pipeline into a receiver on 127.0.0.1,
//! small step implementations whose behaviour a test scripts, and servers
//! speaking the OpenAI HTTP API and Qdrant's gRPC API for the real clients.
#![allow(dead_code)]

#[cfg(feature = "serve")]
pub mod endpoints;
#[cfg(feature = "openai")]
pub mod openai_server;
pub mod otlp;
pub mod pipeline;
#[cfg(feature = "qdrant")]
pub mod qdrant_server;
pub mod rag;
pub mod steps;
