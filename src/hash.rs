//! Keyed hashing of found values, so equal values can be matched across shards and runs
//! without the reports containing the values themselves.

use std::fmt;

use crate::{Error, Result};

/// Environment variable holding the hex key.
pub const KEY_ENV: &str = "SHARDGUARD_KEY";

/// A 256-bit secret key for `value_hash` (BLAKE3 keyed mode).
#[derive(Clone, PartialEq, Eq)]
pub struct Key {
    bytes: [u8; 32],
    source: KeySource,
}

/// Where the key came from, reported in `summary.json` (never the key itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    /// Given by the user: hashes are stable across runs that use the same key.
    User,
    /// Drawn at random for this run: hashes match only within the run.
    RandomPerRun,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({:?}, <redacted>)", self.source)
    }
}

impl Key {
    /// Parses a hex key of at least 16 bytes (32 hex digits); it is stretched to 32 bytes.
    pub fn from_hex(hex: &str) -> Result<Self> {
        let hex = hex.trim();
        if hex.len() < 32 || hex.len() % 2 != 0 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::Config(
                "the key must be an even number of hex digits, at least 32 (16 bytes)".into(),
            ));
        }
        let raw: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0))
            .collect();
        Ok(Key {
            bytes: blake3::derive_key("shardguard value_hash v1", &raw),
            source: KeySource::User,
        })
    }

    /// A random key as hex, for front ends that must hand one key to many workers.
    pub fn random_hex() -> Result<String> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| Error::Config(format!("no system randomness for a key: {e}")))?;
        Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Marks where the key came from (a shared random key is still per-run for the report).
    pub fn with_source(mut self, source: KeySource) -> Self {
        self.source = source;
        self
    }

    /// A fresh random key for this run.
    pub fn random() -> Result<Self> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| Error::Config(format!("no system randomness for a key: {e}")))?;
        Ok(Key {
            bytes,
            source: KeySource::RandomPerRun,
        })
    }

    /// The key from a file (hex), else `SHARDGUARD_KEY`, else a random per-run key.
    pub fn resolve(key_file: Option<&std::path::Path>) -> Result<Self> {
        if let Some(path) = key_file {
            let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
            return Self::from_hex(&text);
        }
        match std::env::var(KEY_ENV) {
            Ok(v) if !v.trim().is_empty() => Self::from_hex(&v),
            _ => Self::random(),
        }
    }

    /// The key from a file, else `SHARDGUARD_KEY`; an error when neither is given (artefacts
    /// that persist must be keyed by a user secret, never a silent default).
    pub fn require(key_file: Option<&std::path::Path>, what: &str) -> Result<Self> {
        let env = std::env::var(KEY_ENV).is_ok_and(|v| !v.trim().is_empty());
        if key_file.is_none() && !env {
            return Err(Error::Config(format!(
                "{what} needs a secret key: give --key-file FILE or set {KEY_ENV} (hex, at least \
                 32 digits; `openssl rand -hex 32` makes one); use the same key to index and to \
                 check"
            )));
        }
        Self::resolve(key_file)
    }

    pub fn source(&self) -> KeySource {
        self.source
    }

    /// A keyed stream of bytes determined by `value` (consistent pseudonyms).
    pub fn stream(&self, value: &[u8]) -> blake3::OutputReader {
        let mut h = blake3::Hasher::new_derive_key("shardguard pseudonym v1");
        h.update(&self.bytes);
        h.update(value);
        h.finalize_xof()
    }

    /// 128-bit keyed hash of `value`, as 32 hex digits.
    pub fn hash_hex(&self, value: &[u8]) -> String {
        hex128(self.hash128(value))
    }

    /// 128-bit keyed hash of `value` (the first 16 bytes of keyed BLAKE3, big-endian, so its
    /// hex is [`hash_hex`](Self::hash_hex)).
    pub fn hash128(&self, value: &[u8]) -> u128 {
        let h = blake3::keyed_hash(&self.bytes, value);
        u128::from_be_bytes(h.as_bytes()[..16].try_into().expect("16 bytes"))
    }

    /// A 64-bit seed derived from the key for one purpose (`context` names it).
    pub fn seed64(&self, context: &str) -> u64 {
        let mut h = blake3::Hasher::new_derive_key("shardguard seed v1");
        h.update(&self.bytes);
        h.update(context.as_bytes());
        u64::from_le_bytes(h.finalize().as_bytes()[..8].try_into().expect("8 bytes"))
    }
}

/// A 128-bit hash as 32 hex digits.
/// Marsaglia's xorshift64: the next of a fixed sequence of pseudo-random numbers (`x` must not be
/// 0). For reproducible shuffles and samples, never for anything secret.
#[inline]
pub fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

pub fn hex128(h: u128) -> String {
    format!("{h:032x}")
}

/// A `HashMap` hasher for keys that are already well-mixed 64-bit hashes (xxh3, `mix`): it
/// passes the key through instead of hashing it again.
#[derive(Default, Clone, Copy)]
pub struct Prehashed(u64);

impl std::hash::Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, h: u64) {
        self.0 ^= h;
    }
}

/// A map keyed by 64-bit hashes.
pub type HashMap64<V> = std::collections::HashMap<u64, V, std::hash::BuildHasherDefault<Prehashed>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_same_hash_different_key_different_hash() {
        let a = Key::from_hex("00112233445566778899aabbccddeeff").unwrap();
        let b = Key::from_hex("00112233445566778899aabbccddeeff").unwrap();
        let c = Key::from_hex("ff112233445566778899aabbccddeeff").unwrap();
        assert_eq!(a.hash_hex(b"x@y.org"), b.hash_hex(b"x@y.org"));
        assert_ne!(a.hash_hex(b"x@y.org"), c.hash_hex(b"x@y.org"));
        assert_eq!(a.hash_hex(b"v").len(), 32);
        assert!(!format!("{a:?}").contains("0011"));
    }

    #[test]
    fn bad_keys_are_refused() {
        assert!(Key::from_hex("abc").is_err());
        assert!(Key::from_hex(&"zz".repeat(16)).is_err());
        assert_ne!(
            Key::random().unwrap().hash_hex(b"v"),
            Key::random().unwrap().hash_hex(b"v")
        );
    }
}
