//! `input.time`: the wall clock in the configured time zone, split the way
//! Rego rules want it (RFC 3339, weekday, hour).

use vigil_policy::TimeInput;

/// The time zone decisions are made in.
#[derive(Debug, Clone)]
pub struct PolicyClock {
    tz: jiff::tz::TimeZone,
}

impl PolicyClock {
    /// `name` is an IANA zone (`Europe/Berlin`) or `UTC`.
    pub fn new(name: &str) -> Result<Self, String> {
        let tz = if name.eq_ignore_ascii_case("utc") {
            jiff::tz::TimeZone::UTC
        } else {
            jiff::tz::TimeZone::get(name)
                .map_err(|e| format!("[policy] time_zone {name:?} is not a known time zone: {e}"))?
        };
        Ok(PolicyClock { tz })
    }

    pub fn utc() -> Self {
        PolicyClock {
            tz: jiff::tz::TimeZone::UTC,
        }
    }

    /// Now, for the policy input.
    pub fn now(&self) -> TimeInput {
        self.at(jiff::Timestamp::now())
    }

    fn at(&self, ts: jiff::Timestamp) -> TimeInput {
        let z = ts.to_zoned(self.tz.clone());
        TimeInput {
            rfc3339: z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
            weekday: format!("{:?}", z.weekday()).to_lowercase(),
            hour: u8::try_from(z.hour()).unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_the_time_in_the_zone() {
        let ts: jiff::Timestamp = "2026-11-21T23:30:00Z".parse().unwrap();
        let utc = PolicyClock::utc().at(ts);
        assert_eq!(utc.rfc3339, "2026-11-21T23:30:00+00:00");
        assert_eq!(utc.weekday, "saturday");
        assert_eq!(utc.hour, 23);
        let berlin = PolicyClock::new("Europe/Berlin").unwrap().at(ts);
        assert_eq!(berlin.weekday, "sunday");
        assert_eq!(berlin.hour, 0);
        assert!(PolicyClock::new("Mars/Olympus").is_err());
    }
}
