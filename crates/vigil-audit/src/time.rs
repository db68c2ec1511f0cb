//! Times as people type them when they search the trail (`vigil audit`
//! and `GET /api/audit`), without a date library: RFC 3339 instants
//! (`2025-01-02T03:04:05Z`, offsets, fractions), dates (`2025-01-02`, its
//! midnight UTC), durations ago (`30s`, `15m`, `2h`, `7d`, `1w`), `now`, and
//! raw Unix milliseconds (`@1700000000000`). Pure: the caller passes "now".

const DAY_MS: i64 = 86_400_000;

/// A time argument that is none of the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?}: {problem}; expected 2025-01-02, 2025-01-02T03:04:05Z, 15m/2h/7d (ago), now or @<unix ms>")]
pub struct TimeError {
    pub input: String,
    pub problem: &'static str,
}

/// Parses a time argument into Unix milliseconds; `now_ms` anchors the
/// relative forms.
pub fn parse_time(s: &str, now_ms: i64) -> Result<i64, TimeError> {
    let s = s.trim();
    let fail = |problem| TimeError {
        input: s.to_owned(),
        problem,
    };
    if s == "now" {
        return Ok(now_ms);
    }
    if let Some(ms) = s.strip_prefix('@') {
        return ms.parse().map_err(|_| fail("not @<unix ms>"));
    }
    if let Some(ago) = parse_ago(s) {
        return Ok(now_ms.saturating_sub(ago));
    }
    parse_rfc3339(s).map_err(fail)
}

/// `30s`, `15m`, `2h`, `7d`, `1w` → milliseconds.
fn parse_ago(s: &str) -> Option<i64> {
    let unit = s.chars().last()?;
    let n: i64 = s.get(..s.len() - unit.len_utf8())?.parse().ok()?;
    let ms = match unit {
        's' => 1000,
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => DAY_MS,
        'w' => 7 * DAY_MS,
        _ => return None,
    };
    n.checked_mul(ms)
}

fn parse_rfc3339(s: &str) -> Result<i64, &'static str> {
    let date = s.get(..10).ok_or("too short")?;
    let days = parse_date(date)?;
    let rest = s.get(10..).unwrap_or_default();
    if rest.is_empty() {
        return Ok(days * DAY_MS);
    }
    let Some(rest) = rest.strip_prefix(['T', 't', ' ']) else {
        return Err("expected T after the date");
    };
    let (clock, offset_ms) = split_offset(rest)?;
    Ok(days * DAY_MS + parse_clock(clock)? - offset_ms)
}

fn parse_date(d: &str) -> Result<i64, &'static str> {
    let mut parts = d.split('-');
    let (Some(y), Some(m), Some(day), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("date is not YYYY-MM-DD");
    };
    let bad = |_| "date is not YYYY-MM-DD";
    let (y, m, day): (i64, u32, u32) = (
        y.parse().map_err(bad)?,
        m.parse().map_err(bad)?,
        day.parse().map_err(bad)?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return Err("month or day out of range");
    }
    Ok(days_from_civil(y, m, day))
}

/// `03:04:05.123` → ms since midnight.
fn parse_clock(c: &str) -> Result<i64, &'static str> {
    const BAD: &str = "time is not HH:MM[:SS]";
    let (hms, frac) = c.split_once('.').unwrap_or((c, ""));
    let mut parts = hms.split(':');
    let (Some(h), Some(m), s) = (parts.next(), parts.next(), parts.next()) else {
        return Err(BAD);
    };
    let (h, m): (i64, i64) = (h.parse().map_err(|_| BAD)?, m.parse().map_err(|_| BAD)?);
    let sec: i64 = s.map_or(Ok(0), str::parse).map_err(|_| BAD)?;
    if h > 23 || m > 59 || sec > 60 {
        return Err("time out of range");
    }
    let mut ms = 0;
    if !frac.is_empty() {
        let digits = frac.get(..frac.len().min(3)).unwrap_or_default();
        ms = format!("{digits:0<3}")
            .parse::<i64>()
            .map_err(|_| "bad fraction of a second")?;
    }
    Ok(((h * 60 + m) * 60 + sec) * 1000 + ms)
}

/// Splits `Z` / `+hh:mm` / `-hh:mm` off the end (none means UTC).
fn split_offset(rest: &str) -> Result<(&str, i64), &'static str> {
    const BAD: &str = "offset is not ±HH:MM";
    if let Some(clock) = rest.strip_suffix(['Z', 'z']) {
        return Ok((clock, 0));
    }
    let Some(pos) = rest.rfind(['+', '-']) else {
        return Ok((rest, 0));
    };
    let (clock, off) = rest.split_at(pos);
    let sign = if off.starts_with('-') { -1 } else { 1 };
    let (h, m) = off.get(1..).and_then(|o| o.split_once(':')).ok_or(BAD)?;
    let (h, m): (i64, i64) = (h.parse().map_err(|_| BAD)?, m.parse().map_err(|_| BAD)?);
    Ok((clock, sign * (h * 60 + m) * 60_000))
}

/// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Unix ms → `2025-01-02T03:04:05.123Z`.
pub fn format_ms(ms: i64) -> String {
    let (days, rem) = (ms.div_euclid(DAY_MS), ms.rem_euclid(DAY_MS));
    let (y, m, d) = civil_from_days(days);
    let (secs, milli) = (rem / 1000, rem % 1000);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_dates_and_offsets() {
        assert_eq!(parse_time("1970-01-01", 0).unwrap(), 0);
        assert_eq!(
            parse_time("2023-11-14T22:13:20Z", 0).unwrap(),
            1_700_000_000_000
        );
        assert_eq!(
            parse_time("2023-11-14T22:13:20.5Z", 0).unwrap(),
            1_700_000_000_500
        );
        assert_eq!(
            parse_time("2023-11-15T00:13:20+02:00", 0).unwrap(),
            1_700_000_000_000
        );
        assert_eq!(
            parse_time("2023-11-14 22:13", 0).unwrap(),
            1_699_999_980_000
        );
        assert_eq!(parse_time("@42", 0).unwrap(), 42);
        assert!(parse_time("2023-13-01", 0).is_err());
        assert!(parse_time("yesterday", 0).is_err());
        assert!(parse_time("", 0).is_err());
        assert!(parse_time("2023-11-14T", 0).is_err());
        assert!(parse_time("2023-11-14T22:13:20+2", 0).is_err());
    }

    #[test]
    fn durations_count_back_from_now() {
        assert_eq!(parse_time("15m", 1_000_000).unwrap(), 100_000);
        assert_eq!(parse_time("2h", 0).unwrap(), -7_200_000);
        assert_eq!(parse_time("1w", 0).unwrap(), -7 * DAY_MS);
        assert_eq!(parse_time("now", 5).unwrap(), 5);
        assert!(parse_time("5x", 0).is_err());
        assert!(parse_time("5é", 0).is_err(), "multi-byte unit");
    }

    #[test]
    fn errors_name_the_input_and_the_forms() {
        let e = parse_time("someday", 0).unwrap_err();
        assert_eq!(e.input, "someday");
        assert!(e.to_string().contains("2025-01-02T03:04:05Z"), "{e}");
    }

    #[test]
    fn format_round_trips() {
        for ms in [0, 1_700_000_000_123, 951_782_400_000, -1] {
            assert_eq!(
                parse_time(&format_ms(ms), 0).unwrap(),
                ms,
                "{}",
                format_ms(ms)
            );
        }
        assert_eq!(format_ms(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
