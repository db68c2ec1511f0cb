//! Fake payment data with correct checksums: Luhn-valid card numbers (Visa,
//! Mastercard, Amex) and mod-97-valid IBANs (DE, GB, FR with a correct RIB key).
//! A masker that validates checksums must still catch every one of them.

use super::checks::{iban_check_digits, luhn_check_digit};
use super::rng::Rng;

const GB_BANKS: &[&str] = &["NWBK", "BARC", "HBUK", "LOYD", "MIDL"];

/// A card number as stored (plain or grouped) and its last four digits.
#[derive(Debug, Clone)]
pub(crate) struct Card {
    pub(crate) number: String,
    pub(crate) last4: String,
}

/// Visa (16 digits, 4…), Mastercard (16, 51–55…) or Amex (15, 34/37…).
pub(crate) fn card(rng: &mut Rng) -> Card {
    let (prefix, len): (String, usize) = match rng.range(0, 2) {
        0 => (format!("4{}", rng.digits(1)), 16),
        1 => (format!("5{}", rng.range(1, 5)), 16),
        _ => (if rng.chance(50) { "34" } else { "37" }.to_string(), 15),
    };
    let body_len = len.saturating_sub(prefix.len() + 1);
    let payload = format!("{prefix}{}", rng.digits(body_len));
    let digits: Vec<u32> = payload.chars().filter_map(|c| c.to_digit(10)).collect();
    let full = format!("{payload}{}", luhn_check_digit(&digits));
    let last4 = full
        .get(full.len().saturating_sub(4)..)
        .unwrap_or_default()
        .to_string();
    let number = if rng.chance(50) {
        group_card(&full)
    } else {
        full
    };
    Card { number, last4 }
}

/// `4111 1111 1111 1111` for 16 digits, `3782 822463 10005` for Amex.
fn group_card(digits: &str) -> String {
    let cuts: &[usize] = if digits.len() == 15 {
        &[4, 10]
    } else {
        &[4, 8, 12]
    };
    let mut out = String::with_capacity(digits.len() + 3);
    for (i, c) in digits.chars().enumerate() {
        if cuts.contains(&i) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// A German, British or French IBAN, compact or in groups of four.
pub(crate) fn iban(rng: &mut Rng) -> String {
    let (country, bban) = match rng.range(0, 2) {
        0 => ("DE", format!("{}{}", rng.digits(8), rng.digits(10))),
        1 => (
            "GB",
            format!(
                "{}{}{}",
                rng.pick(GB_BANKS, "NWBK"),
                rng.digits(6),
                rng.digits(8)
            ),
        ),
        _ => ("FR", french_bban(rng)),
    };
    let check = iban_check_digits(country, &bban).unwrap_or(0);
    let compact = format!("{country}{check:02}{bban}");
    if rng.chance(30) {
        group_by_four(&compact)
    } else {
        compact
    }
}

/// Bank (5) + branch (5) + account (11) + RIB key, the French national check.
fn french_bban(rng: &mut Rng) -> String {
    let (bank, branch, account) = (rng.digits(5), rng.digits(5), rng.digits(11));
    let num = |s: &str| s.parse::<u64>().unwrap_or(0);
    let sum = 89 * num(&bank) + 15 * num(&branch) + 3 * num(&account);
    let key = 97 - sum % 97;
    format!("{bank}{branch}{account}{key:02}")
}

fn group_by_four(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::checks::{iban_valid, luhn_valid};

    #[test]
    fn cards_pass_luhn_and_have_brand_shapes() {
        let mut rng = Rng::new(3);
        for _ in 0..3000 {
            let c = card(&mut rng);
            let digits: String = c.number.chars().filter(|c| c.is_ascii_digit()).collect();
            assert!(luhn_valid(&c.number), "{}", c.number);
            assert!(digits.ends_with(&c.last4));
            match digits.get(..1) {
                Some("4") | Some("5") => assert_eq!(digits.len(), 16),
                Some("3") => assert_eq!(digits.len(), 15),
                other => panic!("unexpected brand {other:?}"),
            }
        }
    }

    #[test]
    fn ibans_pass_mod97_and_french_rib_key_holds() {
        let mut rng = Rng::new(4);
        for _ in 0..3000 {
            let i = iban(&mut rng);
            assert!(iban_valid(&i), "{i}");
        }
        // Published example FR14 2004 1010 0505 0001 3M02 606 uses a letter;
        // check our numeric RIB key against the rule directly.
        let bban = french_bban(&mut rng);
        let key: u64 = bban.get(21..).unwrap().parse().unwrap();
        let bank: u64 = bban.get(..5).unwrap().parse().unwrap();
        let branch: u64 = bban.get(5..10).unwrap().parse().unwrap();
        let account: u64 = bban.get(10..21).unwrap().parse().unwrap();
        assert_eq!((89 * bank + 15 * branch + 3 * account + key) % 97, 0);
    }

    #[test]
    fn grouping() {
        assert_eq!(group_card("4111111111111111"), "4111 1111 1111 1111");
        assert_eq!(group_card("378282246310005"), "3782 822463 10005");
        assert_eq!(
            group_by_four("GB29NWBK60161331926819"),
            "GB29 NWBK 6016 1331 9268 19"
        );
    }
}
