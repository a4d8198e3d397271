//! Cryptocurrency addresses with their checksums: Base58Check (Bitcoin P2PKH/P2SH, Litecoin),
//! bech32/bech32m segwit addresses (BIP-173/BIP-350) and Ethereum addresses (EIP-55 when mixed
//! case). Random base58 or hex strings fail the checksums.

use sha2::{Digest, Sha256};
use tiny_keccak::{Hasher, Keccak};

use super::{hit, is_alnum, CRYPTO};
use crate::detect::Hit;

const BASE58: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const BECH32: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn base58_value(c: u8) -> Option<u32> {
    BASE58.iter().position(|&x| x == c).map(|p| p as u32)
}

/// Decodes base58 into exactly 25 bytes (version + 20-byte hash + 4-byte checksum).
fn base58_25(s: &[u8]) -> Option<[u8; 25]> {
    let mut out = [0u8; 25];
    for &c in s {
        let mut carry = base58_value(c)?;
        for byte in out.iter_mut().rev() {
            carry += u32::from(*byte) * 58;
            *byte = carry as u8;
            carry >>= 8;
        }
        if carry != 0 {
            return None;
        }
    }
    Some(out)
}

fn base58check(s: &[u8]) -> Option<&'static str> {
    let raw = base58_25(s)?;
    // Each leading '1' stands for one leading zero byte.
    let ones = s.iter().take_while(|&&c| c == b'1').count();
    let zeros = raw.iter().take_while(|&&b| b == 0).count();
    if ones != zeros {
        return None;
    }
    let check = Sha256::digest(Sha256::digest(&raw[..21]));
    if check[..4] != raw[21..] {
        return None;
    }
    match raw[0] {
        0x00 => Some("bitcoin_p2pkh"),
        0x05 => Some("bitcoin_p2sh"),
        0x30 => Some("litecoin_p2pkh"),
        0x32 => Some("litecoin_p2sh"),
        _ => None,
    }
}

fn bech32_polymod(values: impl Iterator<Item = u8>) -> u32 {
    const GEN: [u32; 5] = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
    let mut chk = 1u32;
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x1ffffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

/// `hrp1data` in one case with a bech32 or bech32m checksum.
fn bech32(s: &[u8]) -> Option<&'static str> {
    let lower = s.to_ascii_lowercase();
    if s.iter().any(u8::is_ascii_lowercase) && s.iter().any(u8::is_ascii_uppercase) {
        return None;
    }
    let sep = lower.iter().rposition(|&c| c == b'1')?;
    let (hrp, data) = (&lower[..sep], &lower[sep + 1..]);
    if !matches!(hrp, b"bc" | b"tb" | b"ltc") || data.len() < 7 {
        return None;
    }
    let values: Option<Vec<u8>> = data
        .iter()
        .map(|c| BECH32.iter().position(|x| x == c).map(|p| p as u8))
        .collect();
    let values = values?;
    let expanded = hrp
        .iter()
        .map(|c| c >> 5)
        .chain(std::iter::once(0))
        .chain(hrp.iter().map(|c| c & 31))
        .chain(values.iter().copied());
    match bech32_polymod(expanded) {
        1 => Some("bech32"),
        0x2bc830a3 => Some("bech32m"),
        _ => None,
    }
}

/// EIP-55: each hex letter is upper-case iff the matching nibble of keccak256(lower-case hex) ≥ 8.
fn eip55(hex: &[u8]) -> bool {
    let lower = hex.to_ascii_lowercase();
    let mut k = Keccak::v256();
    k.update(&lower);
    let mut h = [0u8; 32];
    k.finalize(&mut h);
    hex.iter().enumerate().all(|(i, &c)| {
        let nibble = (h[i / 2] >> (4 * (1 - i % 2))) & 0xf;
        !c.is_ascii_alphabetic() || c.is_ascii_uppercase() == (nibble >= 8)
    })
}

fn mask(v: &str) -> String {
    let n = v.chars().count();
    let head: String = v.chars().take(4).collect();
    let tail: String = v.chars().skip(n.saturating_sub(4)).collect();
    format!("{head}…{tail}")
}

fn push(text: &str, s: usize, e: usize, score: f64, scheme: &str, out: &mut Vec<Hit>) {
    let v = &text[s..e];
    let norm = if scheme.starts_with("bech32") || scheme == "ethereum" {
        v.to_ascii_lowercase()
    } else {
        v.to_string()
    };
    out.push(hit(
        CRYPTO,
        s,
        e,
        score,
        norm,
        mask(v),
        format!("{{\"validator\":\"checksum\",\"scheme\":\"{scheme}\"}}"),
    ));
}

fn word_end(b: &[u8], i: usize) -> usize {
    b[i..]
        .iter()
        .position(|&c| !is_alnum(c))
        .map_or(b.len(), |p| i + p)
}

fn word_start(b: &[u8], s: usize) -> bool {
    s == 0 || !(is_alnum(b[s - 1]) || matches!(b[s - 1], b'/' | b'=' | b'.' | b'-' | b'+'))
}

/// Candidates from the digit runs, in one pass: `0x…` (Ethereum), the `1` separator of a `bc1`,
/// `tb1` or `ltc1` prefix in either case (bech32), and runs starting with `1` or `3` at a word start
/// (Base58Check).
pub(super) fn cryptos(text: &str, b: &[u8], runs: &[usize], out: &mut Vec<Hit>) {
    for &r in runs {
        match b[r] {
            b'0' if b.get(r + 1) == Some(&b'x') => ethereum(text, b, r, out),
            b'1' => {
                let hrp = [2, 3].into_iter().find(|&n| {
                    r >= n
                        && [&b"bc"[..], b"tb", b"ltc"]
                            .iter()
                            .any(|h| h.eq_ignore_ascii_case(&b[r - n..r]))
                });
                let consistent = |s: usize| {
                    let h = &b[s..r];
                    h.iter().all(u8::is_ascii_lowercase) || h.iter().all(u8::is_ascii_uppercase)
                };
                if let Some(s) = hrp.map(|n| r - n).filter(|&s| consistent(s)) {
                    let e = word_end(b, s);
                    if (14..=90).contains(&(e - s)) && word_start(b, s) {
                        if let Some(scheme) = bech32(&b[s..e]) {
                            push(text, s, e, 0.95, scheme, out);
                        }
                    }
                }
            }
            _ => {}
        }
        if !matches!(b[r], b'1' | b'3') || !word_start(b, r) {
            continue;
        }
        let e = word_end(b, r);
        if (25..=34).contains(&(e - r)) {
            if let Some(scheme) = base58check(&b[r..e]) {
                push(text, r, e, 0.95, scheme, out);
            }
        }
    }
}

fn ethereum(text: &str, b: &[u8], s: usize, out: &mut Vec<Hit>) {
    let e = word_end(b, s);
    let hex = &b[s + 2..e];
    if e - s != 42 || !word_start(b, s) || !hex.iter().all(u8::is_ascii_hexdigit) {
        return;
    }
    let mixed = hex.iter().any(u8::is_ascii_lowercase) && hex.iter().any(u8::is_ascii_uppercase);
    if !mixed || eip55(hex) {
        push(text, s, e, if mixed { 0.95 } else { 0.8 }, "ethereum", out);
    }
}
