//! Validators: checksums and numbering rules applied to candidates only.

/// Luhn (mod 10) over ASCII digits.
pub fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    !digits.is_empty() && sum % 10 == 0
}

/// Card networks by IIN prefix and length: Visa, Mastercard (51–55 and 2221–2720), Amex,
/// Discover, Diners, JCB, UnionPay, Maestro.
pub fn card_network(digits: &[u8]) -> Option<&'static str> {
    let n = digits.len();
    let prefix = |k: usize| -> u32 {
        digits[..k.min(n)]
            .iter()
            .fold(0, |a, d| a * 10 + u32::from(d - b'0'))
    };
    let (p1, p2, p3, p4, p6) = (prefix(1), prefix(2), prefix(3), prefix(4), prefix(6));
    match () {
        _ if p1 == 4 && matches!(n, 13 | 16 | 19) => Some("visa"),
        _ if (51..=55).contains(&p2) && n == 16 => Some("mastercard"),
        _ if (2221..=2720).contains(&p4) && n == 16 => Some("mastercard"),
        _ if matches!(p2, 34 | 37) && n == 15 => Some("amex"),
        _ if (p4 == 6011
            || p2 == 65
            || (644..=649).contains(&p3)
            || (622126..=622925).contains(&p6))
            && (16..=19).contains(&n) =>
        {
            Some("discover")
        }
        _ if ((300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39)
            && (14..=19).contains(&n) =>
        {
            Some("diners")
        }
        _ if (3528..=3589).contains(&p4) && (16..=19).contains(&n) => Some("jcb"),
        _ if p2 == 62 && (16..=19).contains(&n) => Some("unionpay"),
        _ if matches!(
            p4,
            5018 | 5020 | 5038 | 5893 | 6304 | 6759 | 6761 | 6762 | 6763
        ) && (12..=19).contains(&n) =>
        {
            Some("maestro")
        }
        _ => None,
    }
}

/// US SSN rules: area not 000, 666 or 900–999; group not 00; serial not 0000.
pub fn ssn(digits: &[u8]) -> bool {
    if digits.len() != 9 {
        return false;
    }
    let num = |r: std::ops::Range<usize>| {
        digits[r]
            .iter()
            .fold(0u32, |a, d| a * 10 + u32::from(d - b'0'))
    };
    let (area, group, serial) = (num(0..3), num(3..5), num(5..9));
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

/// IBAN length by country (ISO 13616 registry).
pub fn iban_length(country: &[u8]) -> Option<usize> {
    const TABLE: &[(&[u8; 2], usize)] = &[
        (b"AD", 24),
        (b"AE", 23),
        (b"AL", 28),
        (b"AT", 20),
        (b"AZ", 28),
        (b"BA", 20),
        (b"BE", 16),
        (b"BG", 22),
        (b"BH", 22),
        (b"BI", 27),
        (b"BR", 29),
        (b"BY", 28),
        (b"CH", 21),
        (b"CR", 22),
        (b"CY", 28),
        (b"CZ", 24),
        (b"DE", 22),
        (b"DJ", 27),
        (b"DK", 18),
        (b"DO", 28),
        (b"EE", 20),
        (b"EG", 29),
        (b"ES", 24),
        (b"FI", 18),
        (b"FK", 18),
        (b"FO", 18),
        (b"FR", 27),
        (b"GB", 22),
        (b"GE", 22),
        (b"GI", 23),
        (b"GL", 18),
        (b"GR", 27),
        (b"GT", 28),
        (b"HR", 21),
        (b"HU", 28),
        (b"IE", 22),
        (b"IL", 23),
        (b"IQ", 23),
        (b"IS", 26),
        (b"IT", 27),
        (b"JO", 30),
        (b"KW", 30),
        (b"KZ", 20),
        (b"LB", 28),
        (b"LC", 32),
        (b"LI", 21),
        (b"LT", 20),
        (b"LU", 20),
        (b"LV", 21),
        (b"LY", 25),
        (b"MC", 27),
        (b"MD", 24),
        (b"ME", 22),
        (b"MK", 19),
        (b"MN", 20),
        (b"MR", 27),
        (b"MT", 31),
        (b"MU", 30),
        (b"NI", 28),
        (b"NL", 18),
        (b"NO", 15),
        (b"OM", 23),
        (b"PK", 24),
        (b"PL", 28),
        (b"PS", 29),
        (b"PT", 25),
        (b"QA", 29),
        (b"RO", 24),
        (b"RS", 22),
        (b"RU", 33),
        (b"SA", 24),
        (b"SC", 31),
        (b"SD", 18),
        (b"SE", 24),
        (b"SI", 19),
        (b"SK", 24),
        (b"SM", 27),
        (b"SO", 23),
        (b"ST", 25),
        (b"SV", 28),
        (b"TL", 23),
        (b"TN", 24),
        (b"TR", 26),
        (b"UA", 29),
        (b"VA", 22),
        (b"VG", 24),
        (b"XK", 20),
        (b"YE", 30),
    ];
    TABLE
        .iter()
        .find(|(c, _)| c.as_slice() == country)
        .map(|&(_, n)| n)
}

/// ISO 7064 mod 97-10 over a compact IBAN (letters and digits, no spaces).
pub fn iban_mod97(iban: &[u8]) -> bool {
    if iban.len() < 5 {
        return false;
    }
    let mut rem = 0u32;
    for &c in iban[4..].iter().chain(&iban[..4]) {
        match c {
            b'0'..=b'9' => rem = (rem * 10 + u32::from(c - b'0')) % 97,
            b'A'..=b'Z' => rem = (rem * 100 + u32::from(c - b'A' + 10)) % 97,
            _ => return false,
        }
    }
    rem == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_networks() {
        assert!(luhn(b"4111111111111111"));
        assert!(!luhn(b"4111111111111112"));
        assert_eq!(card_network(b"4111111111111111"), Some("visa"));
        assert_eq!(card_network(b"2221000000000009"), Some("mastercard"));
        assert_eq!(card_network(b"378282246310005"), Some("amex"));
        assert_eq!(card_network(b"6011111111111117"), Some("discover"));
        assert_eq!(card_network(b"9111111111111111"), None);
    }

    #[test]
    fn ssn_rules() {
        assert!(ssn(b"123456789"));
        for bad in [
            &b"000123456"[..],
            b"666123456",
            b"912345678",
            b"123006789",
            b"123450000",
        ] {
            assert!(!ssn(bad));
        }
    }

    #[test]
    fn iban_checks() {
        assert_eq!(iban_length(b"DE"), Some(22));
        assert!(iban_mod97(b"DE89370400440532013000"));
        assert!(iban_mod97(b"GB82WEST12345698765432"));
        assert!(!iban_mod97(b"DE89370400440532013001"));
    }
}
