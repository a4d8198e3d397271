//! shardguard: audit LLM training data shards before a model sees them.
//!
//! Data flow: [`source`] streams Arrow batches out of shards, [`scan::Scanner::scan`] runs the
//! pure [`detect`] scans on one batch, [`corpus`] accumulates mergeable state, [`audit`]
//! orchestrates many shards in parallel and [`sink`] writes the outputs atomically.

pub mod audit;
pub mod corpus;
pub mod detect;
pub mod error;
pub mod finalize;
pub mod hash;
pub mod redact;
pub mod rules;
pub mod scan;
pub mod schema;
pub mod sink;
pub mod source;
pub mod text;

#[cfg(feature = "python")]
mod python;

pub use error::{Error, Location, Result};
