//! Whole-value shapes that can hold no PII: canonical UUIDs, ISO dates and
//! timestamps, and ordinary decimal numbers. They are among the commonest
//! outbound values and all trip the numeric prefilter, so recognising them
//! exactly (the whole value, nothing around it) skips the detectors.

/// Whether the entire value is one of the known-clean shapes.
pub(crate) fn known_clean(text: &[u8]) -> bool {
    is_uuid(text) || is_timestamp(text) || is_decimal(text)
}

/// `8-4-4-4-12` hex digits.
pub(crate) fn is_uuid(run: &[u8]) -> bool {
    run.len() == 36
        && run.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Reads `n` digits at `*i`.
fn digits(text: &[u8], i: &mut usize, n: usize) -> bool {
    let ok = text
        .get(*i..*i + n)
        .is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    *i += n;
    ok
}

fn byte(text: &[u8], i: &mut usize, allowed: &[u8]) -> bool {
    let ok = text.get(*i).is_some_and(|b| allowed.contains(b));
    *i += 1;
    ok
}

/// `YYYY-MM-DD`, optionally `[ T]HH:MM[:SS[.fraction]]`, optionally a zone
/// (`Z`, `+HH`, `+HH:MM`, `-HHMM`) — how PostgreSQL and ISO 8601 print them.
fn is_timestamp(t: &[u8]) -> bool {
    let mut i = 0;
    if !(digits(t, &mut i, 4)
        && byte(t, &mut i, b"-")
        && digits(t, &mut i, 2)
        && byte(t, &mut i, b"-")
        && digits(t, &mut i, 2))
    {
        return false;
    }
    if i == t.len() {
        return true;
    }
    if !(byte(t, &mut i, b" T")
        && digits(t, &mut i, 2)
        && byte(t, &mut i, b":")
        && digits(t, &mut i, 2))
    {
        return false;
    }
    if t.get(i) == Some(&b':') {
        i += 1;
        if !digits(t, &mut i, 2) {
            return false;
        }
        if t.get(i) == Some(&b'.') {
            i += 1;
            let n = t
                .get(i..)
                .map_or(0, |r| r.iter().take_while(|b| b.is_ascii_digit()).count());
            if !(1..=9).contains(&n) {
                return false;
            }
            i += n;
        }
    }
    zone(t, i)
}

fn zone(t: &[u8], mut i: usize) -> bool {
    match t.get(i) {
        None => true,
        Some(b'Z') => i + 1 == t.len(),
        Some(b'+' | b'-') => {
            i += 1;
            if !digits(t, &mut i, 2) {
                return false;
            }
            if t.get(i) == Some(&b':') {
                i += 1;
            }
            i == t.len() || (digits(t, &mut i, 2) && i == t.len())
        }
        _ => false,
    }
}

/// An optional minus sign, at most 12 integer digits, and a fractional part:
/// too short for a card, and with a decimal point no phone or SSN is
/// written this way. (Long digit strings still go to the detectors.)
fn is_decimal(t: &[u8]) -> bool {
    let body = match t.first() {
        // Not `+`: `+14155550123` is a phone number.
        Some(b'-') => t.get(1..).unwrap_or_default(),
        _ => t,
    };
    let int = body.iter().take_while(|b| b.is_ascii_digit()).count();
    let rest = body.get(int..).unwrap_or_default();
    let frac_ok = match rest.split_first() {
        None => true,
        Some((b'.', f)) => f.len() <= 12 && f.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    (1..=12).contains(&int) && frac_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_shapes() {
        for v in [
            "550e8400-e29b-41d4-a716-446655440000",
            "2024-05-01",
            "2024-05-01 12:34:56+00",
            "2024-05-01T12:34:56.123456Z",
            "2024-05-01 12:34:56.5-07:30",
            "2024-05-01 12:34",
            "1234.56",
            "-42",
            "123456789012",
            "0.000001",
        ] {
            assert!(known_clean(v.as_bytes()), "{v}");
        }
    }

    #[test]
    fn anything_else_goes_to_the_detectors() {
        for v in [
            "4111111111111111",
            "1234567890123",
            "2024-05-01 alice@example.com",
            "123-45-6789",
            "+14155550123",
            "2024-05-01 12:34:56+00 4111111111111111",
            "550e8400-e29b-41d4-a716-446655440000x",
            "12.34.56.78",
            "",
        ] {
            assert!(!known_clean(v.as_bytes()), "{v}");
        }
    }
}
