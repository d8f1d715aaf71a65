//! Cost: the [`Pricer`] hook the wrappers call, and exact money ([`Usd`]).
//!
//! Pricing is a pure function of (model, usage, time): nothing here knows
//! about spans or stores.

mod cost;
mod money;

pub use cost::{Cost, CostStatus, PriceRequest, Pricer};
pub use money::{ParseUsdError, Usd};
