//! Validity checks for the identifiers we fabricate. Tests use them to prove
//! the demo data looks real to a detector that checks checksums, not just shape.

/// Luhn (mod 10) check over the digits of `number`; spaces and dashes are
/// ignored, anything else (or fewer than 2 digits) is invalid.
pub fn luhn_valid(number: &str) -> bool {
    let mut digits = Vec::with_capacity(number.len());
    for c in number.chars() {
        match c.to_digit(10) {
            Some(d) => digits.push(d),
            None if c == ' ' || c == '-' => {}
            None => return false,
        }
    }
    digits.len() >= 2 && luhn_sum(&digits).is_multiple_of(10)
}

/// The digit to append to `payload` so the whole number passes Luhn.
pub(crate) fn luhn_check_digit(payload: &[u32]) -> u32 {
    let mut with_zero = payload.to_vec();
    with_zero.push(0);
    (10 - luhn_sum(&with_zero) % 10) % 10
}

fn luhn_sum(digits: &[u32]) -> u32 {
    digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum()
}

/// ISO 13616 check: letters/digits only (spaces ignored), country code, two
/// check digits, and the rearranged number mod 97 equals 1.
pub fn iban_valid(iban: &str) -> bool {
    let compact: String = iban.chars().filter(|c| *c != ' ').collect();
    let bytes = compact.as_bytes();
    if !(15..=34).contains(&bytes.len()) || !compact.chars().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    let (Some(head), Some(tail)) = (compact.get(..4), compact.get(4..)) else {
        return false;
    };
    let country_ok = head.chars().take(2).all(|c| c.is_ascii_uppercase());
    let digits_ok = head.chars().skip(2).all(|c| c.is_ascii_digit());
    country_ok && digits_ok && mod97(&format!("{tail}{head}")) == Some(1)
}

/// The two check digits for `country` + `bban`.
pub(crate) fn iban_check_digits(country: &str, bban: &str) -> Option<u32> {
    let rem = mod97(&format!("{bban}{country}00"))?;
    Some(98 - rem)
}

/// Letters count as 10..35; computed piecewise so no big integers are needed.
fn mod97(s: &str) -> Option<u32> {
    let mut rem: u32 = 0;
    for c in s.chars() {
        let v = c.to_digit(36)?;
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    Some(rem)
}

/// US SSN validity as the SSA assigns them: area not 000, 666 or 900-999,
/// group not 00, serial not 0000. Format `AAA-GG-SSSS`.
pub fn ssn_valid(ssn: &str) -> bool {
    let parts: Vec<&str> = ssn.split('-').collect();
    let [area, group, serial] = parts.as_slice() else {
        return false;
    };
    let numeric = |s: &str, len: usize| s.len() == len && s.chars().all(|c| c.is_ascii_digit());
    if !(numeric(area, 3) && numeric(group, 2) && numeric(serial, 4)) {
        return false;
    }
    let area_ok = !matches!(*area, "000" | "666") && !area.starts_with('9');
    area_ok && *group != "00" && *serial != "0000"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_accepts_known_test_numbers_and_rejects_typos() {
        assert!(luhn_valid("4111 1111 1111 1111"));
        assert!(luhn_valid("5555-5555-5555-4444"));
        assert!(luhn_valid("378282246310005"));
        assert!(!luhn_valid("4111 1111 1111 1112"));
        assert!(!luhn_valid("4111x1111"));
        assert!(!luhn_valid("0"));
        assert_eq!(luhn_check_digit(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1]), 3);
    }

    #[test]
    fn iban_accepts_published_examples_and_rejects_changes() {
        assert!(iban_valid("DE89 3704 0044 0532 0130 00"));
        assert!(iban_valid("GB29NWBK60161331926819"));
        assert!(iban_valid("FR1420041010050500013M02606"));
        assert!(!iban_valid("DE89 3704 0044 0532 0130 01"));
        assert!(!iban_valid("GB29NWBK6016133192681"));
        assert!(!iban_valid("de89370400440532013000"));
        assert_eq!(iban_check_digits("DE", "370400440532013000"), Some(89));
    }

    #[test]
    fn ssn_rules() {
        assert!(ssn_valid("123-45-6789"));
        for bad in [
            "000-12-3456",
            "666-12-3456",
            "912-12-3456",
            "123-00-4567",
            "123-45-0000",
            "12-345-6789",
        ] {
            assert!(!ssn_valid(bad), "{bad}");
        }
    }
}
