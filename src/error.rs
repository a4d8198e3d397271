//! One error type for the whole core. Every message names the shard and, when known, the row
//! group, line or row, so a user can find the bad input without a debugger.

use std::path::PathBuf;

/// Where in a shard an error happened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Location {
    #[default]
    Shard,
    RowGroup(usize),
    Line(u64),
    Row(i64),
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Shard => Ok(()),
            Location::RowGroup(g) => write!(f, ", row group {g}"),
            Location::Line(l) => write!(f, ", line {l}"),
            Location::Row(r) => write!(f, ", row {r}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The inputs named nothing that can be audited.
    #[error("{0}")]
    NoInput(String),

    /// An input path could not be read at all.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The shard's schema does not fit the requested columns.
    #[error("{shard}: {message}")]
    Schema { shard: String, message: String },

    /// The shard's bytes are not what its format promises (corrupt, truncated, wrong format).
    #[error("{shard}{location}: {message}")]
    Shard {
        shard: String,
        location: Location,
        message: String,
    },

    /// Invalid options (bad detector name, bad key, bad `--fail-on` expression, ...).
    #[error("{0}")]
    Config(String),

    /// Writing outputs failed.
    #[error("writing {path}: {message}")]
    Output { path: PathBuf, message: String },
}

impl Error {
    pub fn shard(shard: impl Into<String>, location: Location, message: impl ToString) -> Self {
        Error::Shard {
            shard: shard.into(),
            location,
            message: message.to_string(),
        }
    }

    pub fn schema(shard: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Schema {
            shard: shard.into(),
            message: message.into(),
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn output(path: impl Into<PathBuf>, message: impl ToString) -> Self {
        Error::Output {
            path: path.into(),
            message: message.to_string(),
        }
    }

    /// A short machine-readable category, used in `summary.json` and by front ends.
    pub fn category(&self) -> &'static str {
        match self {
            Error::NoInput(_) => "no_input",
            Error::Io { .. } => "io",
            Error::Schema { .. } => "schema",
            Error::Shard { .. } => "shard",
            Error::Config(_) => "config",
            Error::Output { .. } => "output",
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
