//! A small, explicit binary layout for corpus state that crosses processes: little-endian
//! integers and floats, lengths as `u64`, strings as UTF-8 with their length, fields in
//! declaration order. The layout is the format: a change to a persisted type bumps its
//! format number. Pure: no IO.

use crate::{Error, Result};

/// Writes values one after another.
#[derive(Default)]
pub struct Enc(pub Vec<u8>);

impl Enc {
    /// A buffer opened with `magic` and `format`, read back by [`Dec::open`].
    pub fn open(magic: &[u8; 8], format: u32) -> Self {
        let mut e = Enc(magic.to_vec());
        format.put(&mut e);
        e
    }

    /// Bytes with their length.
    pub fn bytes(&mut self, b: &[u8]) {
        (b.len() as u64).put(self);
        self.0.extend_from_slice(b);
    }
}

/// Reads what [`Enc`] wrote; every shortfall or bad value is an error naming `what`.
pub struct Dec<'a> {
    bytes: &'a [u8],
    what: &'static str,
}

impl<'a> Dec<'a> {
    pub fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Self { bytes, what }
    }

    /// What [`Enc::open`] began, checked: the bytes after `magic` and `format`. Other magic
    /// bytes or another format is a clear error.
    pub fn open(bytes: &'a [u8], magic: &[u8; 8], format: u32, what: &'static str) -> Result<Self> {
        if bytes.len() < 12 || &bytes[..8] != magic {
            return Err(bad(what, "wrong magic bytes"));
        }
        let mut d = Dec::new(&bytes[8..], what);
        let found = u32::get(&mut d)?;
        if found != format {
            return Err(bad(
                what,
                format!("format {found}, this version reads format {format}"),
            ));
        }
        Ok(d)
    }

    pub fn error(&self, message: impl std::fmt::Display) -> Error {
        bad(self.what, message)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.bytes.len() < n {
            return Err(self.error("truncated"));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    /// A length, checked against the bytes left (each element takes at least `min_size`), so a
    /// corrupt length cannot ask for a huge allocation.
    pub fn len(&mut self, min_size: usize) -> Result<usize> {
        let n = u64::get(self)?;
        match usize::try_from(n) {
            Ok(n) if n.saturating_mul(min_size.max(1)) <= self.bytes.len() => Ok(n),
            _ => Err(self.error(format!("a length of {n} runs past the end"))),
        }
    }

    /// The bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.bytes
    }

    /// Bytes written by [`Enc::bytes`].
    pub fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.len(1)?;
        self.take(n)
    }

    /// Fails unless every byte was read.
    pub fn finish(self) -> Result<()> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(self.error(format!("{} bytes left over", self.bytes.len())))
        }
    }
}

/// The error for bytes that are not a `what`.
pub fn bad(what: &str, message: impl std::fmt::Display) -> Error {
    Error::Config(format!("not a shardguard {what}: {message}"))
}

/// A value with a fixed binary layout.
pub trait Codec: Sized {
    /// Bytes the value takes at least (bounds lengths read back).
    const MIN_SIZE: usize;
    fn put(&self, e: &mut Enc);
    fn get(d: &mut Dec<'_>) -> Result<Self>;
}

macro_rules! number {
    ($($t:ty),*) => {$(
        impl Codec for $t {
            const MIN_SIZE: usize = std::mem::size_of::<$t>();
            fn put(&self, e: &mut Enc) {
                e.0.extend_from_slice(&self.to_le_bytes());
            }
            fn get(d: &mut Dec<'_>) -> Result<Self> {
                let b = d.take(std::mem::size_of::<$t>())?;
                Ok(<$t>::from_le_bytes(b.try_into().expect("sized")))
            }
        }
    )*};
}
number!(u8, u16, u32, u64, i64, f32, f64);

impl Codec for bool {
    const MIN_SIZE: usize = 1;
    fn put(&self, e: &mut Enc) {
        u8::from(*self).put(e);
    }
    fn get(d: &mut Dec<'_>) -> Result<Self> {
        match u8::get(d)? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(d.error(format!("{b} is not a boolean"))),
        }
    }
}

impl Codec for Box<str> {
    const MIN_SIZE: usize = 8;
    fn put(&self, e: &mut Enc) {
        e.bytes(self.as_bytes());
    }
    fn get(d: &mut Dec<'_>) -> Result<Self> {
        let b = d.bytes()?;
        std::str::from_utf8(b)
            .map(Into::into)
            .map_err(|e| d.error(format!("a string is not UTF-8: {e}")))
    }
}

impl<T: Codec> Codec for Vec<T> {
    const MIN_SIZE: usize = 8;
    fn put(&self, e: &mut Enc) {
        (self.len() as u64).put(e);
        for v in self {
            v.put(e);
        }
    }
    fn get(d: &mut Dec<'_>) -> Result<Self> {
        let n = d.len(T::MIN_SIZE)?;
        (0..n).map(|_| T::get(d)).collect()
    }
}

impl<T: Codec + Copy + Default, const N: usize> Codec for [T; N] {
    const MIN_SIZE: usize = N * T::MIN_SIZE;
    fn put(&self, e: &mut Enc) {
        for v in self {
            v.put(e);
        }
    }
    fn get(d: &mut Dec<'_>) -> Result<Self> {
        let mut out = [T::default(); N];
        for v in &mut out {
            *v = T::get(d)?;
        }
        Ok(out)
    }
}

impl<A: Codec, B: Codec> Codec for (A, B) {
    const MIN_SIZE: usize = A::MIN_SIZE + B::MIN_SIZE;
    fn put(&self, e: &mut Enc) {
        self.0.put(e);
        self.1.put(e);
    }
    fn get(d: &mut Dec<'_>) -> Result<Self> {
        Ok((A::get(d)?, B::get(d)?))
    }
}

impl<A: Codec, B: Codec, C: Codec> Codec for (A, B, C) {
    const MIN_SIZE: usize = A::MIN_SIZE + B::MIN_SIZE + C::MIN_SIZE;
    fn put(&self, e: &mut Enc) {
        self.0.put(e);
        self.1.put(e);
        self.2.put(e);
    }
    fn get(d: &mut Dec<'_>) -> Result<Self> {
        Ok((A::get(d)?, B::get(d)?, C::get(d)?))
    }
}

/// Implements [`Codec`] for a struct, its fields in the order listed (which is the layout).
macro_rules! codec_struct {
    ($t:ty { $($f:ident: $ft:ty),* $(,)? }) => {
        impl $crate::corpus::codec::Codec for $t {
            const MIN_SIZE: usize = 0 $(+ <$ft as $crate::corpus::codec::Codec>::MIN_SIZE)*;
            fn put(&self, e: &mut $crate::corpus::codec::Enc) {
                $($crate::corpus::codec::Codec::put(&self.$f, e);)*
            }
            fn get(d: &mut $crate::corpus::codec::Dec<'_>) -> $crate::Result<Self> {
                Ok(Self { $($f: <$ft as $crate::corpus::codec::Codec>::get(d)?),* })
            }
        }
    };
}
pub(crate) use codec_struct;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct S {
        a: u32,
        b: Box<str>,
        c: Vec<(u64, bool)>,
        d: [f32; 3],
    }
    codec_struct!(S { a: u32, b: Box<str>, c: Vec<(u64, bool)>, d: [f32; 3] });

    #[test]
    fn values_read_back_and_damage_is_an_error() {
        let s = S {
            a: 7,
            b: "é✓".into(),
            c: vec![(1, true), (u64::MAX, false)],
            d: [0.5, -1.0, f32::INFINITY],
        };
        let mut e = Enc::default();
        s.put(&mut e);
        let mut d = Dec::new(&e.0, "test state");
        assert_eq!(S::get(&mut d).unwrap(), s);
        d.finish().unwrap();
        for cut in 0..e.0.len() {
            let mut d = Dec::new(&e.0[..cut], "test state");
            assert!(S::get(&mut d).is_err(), "cut at {cut}");
        }
        // A length far beyond the bytes is refused before anything is allocated.
        let mut huge = 7u32.to_le_bytes().to_vec();
        huge.extend_from_slice(&u64::MAX.to_le_bytes());
        let err = S::get(&mut Dec::new(&huge, "test state")).unwrap_err();
        assert!(err.to_string().contains("runs past the end"), "{err}");
        let mut bad = e.0.clone();
        bad[4 + 8 + 5 + 8 + 8] = 2; // the first boolean
        assert!(S::get(&mut Dec::new(&bad, "test state"))
            .unwrap_err()
            .to_string()
            .contains("not a boolean"));
    }
}
