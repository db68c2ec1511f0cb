//! Checksums and number ranges that turn "looks like" into "is": they keep
//! detectors from masking order ids and timestamps that merely have the shape.

/// Luhn (mod 10) over ASCII digits; any other byte fails.
pub fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &b) in digits.iter().rev().enumerate() {
        if !b.is_ascii_digit() {
            return false;
        }
        let d = u32::from(b - b'0');
        sum += if i % 2 == 1 {
            let x = d * 2;
            if x > 9 {
                x - 9
            } else {
                x
            }
        } else {
            d
        };
    }
    digits.len() >= 2 && sum.is_multiple_of(10)
}

/// Issuer prefix and length of the major card networks: Visa, Mastercard
/// (51–55, 2221–2720), Amex, Discover, Diners, JCB, UnionPay, Maestro.
/// Random 16-digit ids starting with 1, 7, 8, 9 or 0 are never cards.
pub fn card_issuer_ok(digits: &[u8]) -> bool {
    let len = digits.len();
    let prefix = |n: usize| -> u32 {
        digits
            .iter()
            .take(n)
            .fold(0, |acc, &b| acc * 10 + u32::from(b.wrapping_sub(b'0')))
    };
    match digits.first() {
        Some(b'4') => matches!(len, 13 | 16 | 19),
        Some(b'5') => match prefix(2) {
            51..=55 => len == 16,
            // Maestro (50, 56–59) runs 12 to 19 digits.
            _ => (12..=19).contains(&len),
        },
        Some(b'2') => (2221..=2720).contains(&prefix(4)) && len == 16,
        Some(b'3') => match prefix(2) {
            34 | 37 => len == 15,
            30 | 36 | 38 | 39 => (14..=19).contains(&len),
            35 => (3528..=3589).contains(&prefix(4)) && (16..=19).contains(&len),
            _ => false,
        },
        Some(b'6') => (16..=19).contains(&len),
        _ => false,
    }
}

/// US SSN as the SSA assigns them: area not 000, 666 or 9xx; group not 00;
/// serial not 0000. Takes the nine digits.
pub fn ssn_ok(digits: &[u8]) -> bool {
    let Some((area, rest)) = digits.split_at_checked(3) else {
        return false;
    };
    let Some((group, serial)) = rest.split_at_checked(2) else {
        return false;
    };
    digits.len() == 9
        && digits.iter().all(u8::is_ascii_digit)
        && area != b"000"
        && area != b"666"
        && area.first() != Some(&b'9')
        && group != b"00"
        && serial != b"0000"
}

/// IBAN: known country, that country's length, mod 97 == 1. `compact` is
/// the IBAN without spaces.
pub fn iban_ok(compact: &[u8]) -> bool {
    let Some(cc) = compact.get(..2) else {
        return false;
    };
    iban_length(cc) == Some(compact.len())
        && compact.iter().all(u8::is_ascii_alphanumeric)
        && compact
            .get(2..4)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        && iban_mod97(compact) == Some(1)
}

/// The rearranged number (first four characters moved to the end, letters
/// as 10..35) mod 97, computed piecewise.
fn iban_mod97(compact: &[u8]) -> Option<u32> {
    let (head, tail) = compact.split_at_checked(4)?;
    let mut rem = 0u32;
    for &b in tail.iter().chain(head) {
        let v = char::from(b).to_digit(36)?;
        rem = if v >= 10 { rem * 100 + v } else { rem * 10 + v } % 97;
    }
    Some(rem)
}

/// IBAN length by country (SWIFT registry); `None` for unknown countries.
pub fn iban_length(cc: &[u8]) -> Option<usize> {
    #[rustfmt::skip]
    const TABLE: &[(&[u8; 2], usize)] = &[
        (b"AD", 24), (b"AE", 23), (b"AL", 28), (b"AT", 20), (b"AZ", 28), (b"BA", 20),
        (b"BE", 16), (b"BG", 22), (b"BH", 22), (b"BR", 29), (b"BY", 28), (b"CH", 21),
        (b"CR", 22), (b"CY", 28), (b"CZ", 24), (b"DE", 22), (b"DK", 18), (b"DO", 28),
        (b"EE", 20), (b"EG", 29), (b"ES", 24), (b"FI", 18), (b"FO", 18), (b"FR", 27),
        (b"GB", 22), (b"GE", 22), (b"GI", 23), (b"GL", 18), (b"GR", 27), (b"GT", 28),
        (b"HR", 21), (b"HU", 28), (b"IE", 22), (b"IL", 23), (b"IQ", 23), (b"IS", 26),
        (b"IT", 27), (b"JO", 30), (b"KW", 30), (b"KZ", 20), (b"LB", 28), (b"LC", 32),
        (b"LI", 21), (b"LT", 20), (b"LU", 20), (b"LV", 21), (b"MC", 27), (b"MD", 24),
        (b"ME", 22), (b"MK", 19), (b"MR", 27), (b"MT", 31), (b"MU", 30), (b"NL", 18),
        (b"NO", 15), (b"PK", 24), (b"PL", 28), (b"PS", 29), (b"PT", 25), (b"QA", 29),
        (b"RO", 24), (b"RS", 22), (b"SA", 24), (b"SC", 31), (b"SE", 24), (b"SI", 19),
        (b"SK", 24), (b"SM", 27), (b"ST", 25), (b"SV", 28), (b"TL", 23), (b"TN", 24),
        (b"TR", 26), (b"UA", 29), (b"VA", 22), (b"VG", 24), (b"XK", 20),
    ];
    TABLE
        .iter()
        .find(|(c, _)| c.as_slice() == cc)
        .map(|(_, n)| *n)
}

/// NANP area code: first digit 2–9 (0 and 1 are never area codes).
pub fn nanp_area_ok(area: &[u8]) -> bool {
    area.len() == 3 && matches!(area.first(), Some(b'2'..=b'9'))
}

/// An IPv4 octet as people write it: 0–255 without leading zeros.
pub fn octet_ok(digits: &[u8]) -> bool {
    match digits {
        [b'0'] => true,
        [b'0', ..] => false,
        _ if digits.len() <= 3 => {
            digits
                .iter()
                .fold(0u32, |a, &b| a * 10 + u32::from(b.wrapping_sub(b'0')))
                <= 255
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_known_numbers() {
        assert!(luhn(b"4111111111111111"));
        assert!(luhn(b"378282246310005"));
        assert!(!luhn(b"4111111111111112"));
        assert!(!luhn(b"41111x1111111111"));
        assert!(!luhn(b"0"));
    }

    #[test]
    fn issuers() {
        assert!(card_issuer_ok(b"4111111111111111"));
        assert!(card_issuer_ok(b"378282246310005"));
        assert!(card_issuer_ok(b"5555555555554444"));
        assert!(card_issuer_ok(b"2223003122003222"));
        assert!(card_issuer_ok(b"6011111111111117"));
        assert!(!card_issuer_ok(b"1234567812345670"));
        assert!(!card_issuer_ok(b"37828224631000")); // Amex is 15 long
        assert!(!card_issuer_ok(b"9111111111111111"));
    }

    #[test]
    fn ssn_ranges() {
        assert!(ssn_ok(b"123456789"));
        for bad in [
            &b"000123456"[..],
            b"666123456",
            b"912123456",
            b"123004567",
            b"123450000",
            b"12345678",
        ] {
            assert!(!ssn_ok(bad), "{bad:?}");
        }
    }

    #[test]
    fn ibans() {
        assert!(iban_ok(b"DE89370400440532013000"));
        assert!(iban_ok(b"GB29NWBK60161331926819"));
        assert!(iban_ok(b"FR1420041010050500013M02606"));
        assert!(iban_ok(b"NL91ABNA0417164300"));
        assert!(!iban_ok(b"DE89370400440532013001"));
        assert!(!iban_ok(b"DE8937040044053201300")); // wrong length
        assert!(!iban_ok(b"ZZ89370400440532013000"));
    }

    #[test]
    fn octets() {
        assert!(octet_ok(b"0") && octet_ok(b"255") && octet_ok(b"10"));
        assert!(!octet_ok(b"256") && !octet_ok(b"01") && !octet_ok(b"1000"));
    }
}
