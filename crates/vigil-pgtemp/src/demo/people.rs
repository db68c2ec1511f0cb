//! Fake people: names, emails, phones, SSNs, birthdays, postal addresses.
//! Shapes follow what real PII detectors look for; values are invented.

use std::collections::HashSet;

use super::rng::Rng;

const FIRST: &[&str] = &[
    "Maria", "James", "Aisha", "Wei", "Sofia", "Liam", "Priya", "Mateo", "Olivia", "Noah",
    "Fatima", "Hiroshi", "Emma", "Lucas", "Zanele", "Chen", "Isabella", "Ethan", "Amara", "Diego",
    "Chloé", "Jürgen", "Ngozi", "Sean", "Ana", "Mohammed", "Yuki", "Grace", "Ivan", "Leila",
];
const LAST: &[&str] = &[
    "Gonzalez",
    "Smith",
    "Okafor",
    "Zhang",
    "Rossi",
    "Johnson",
    "Patel",
    "García",
    "Brown",
    "Nguyen",
    "Müller",
    "O'Connor",
    "Kim",
    "Silva",
    "Haddad",
    "Tanaka",
    "Williams",
    "Kowalski",
    "Dubois",
    "Mensah",
    "Andersson",
    "Cohen",
    "Ivanova",
    "Martínez",
    "Schmidt",
    "Lee",
    "Walker",
];
const DOMAINS: &[&str] = &["example.com", "example.org", "example.net"];
const STREETS: &[&str] = &[
    "Oak",
    "Maple",
    "Cedar",
    "Pine",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Sunset",
    "Park",
    "Mission",
    "Valencia",
    "Grant",
    "Lincoln",
    "River",
];
const SUFFIXES: &[&str] = &[
    "Street",
    "Avenue",
    "Boulevard",
    "Lane",
    "Road",
    "Drive",
    "Court",
];
const CITIES: &[&str] = &[
    "Springfield, IL 627",
    "Portland, OR 972",
    "Austin, TX 787",
    "Madison, WI 537",
    "Boulder, CO 803",
    "Savannah, GA 314",
    "Burlington, VT 054",
    "San Francisco, CA 941",
    "Brooklyn, NY 112",
    "Ann Arbor, MI 481",
];
const US_AREA_CODES: &[&str] = &[
    "415", "212", "312", "503", "617", "512", "206", "303", "404", "608",
];

/// One invented person (without payment data).
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub(crate) full_name: String,
    pub(crate) email: String,
    pub(crate) phone: String,
    pub(crate) ssn: String,
    pub(crate) date_of_birth: String,
    pub(crate) address: String,
}

/// Makes people with unique emails (the column is UNIQUE).
pub(crate) struct PersonFactory {
    used_emails: HashSet<String>,
}

impl PersonFactory {
    pub(crate) fn new() -> PersonFactory {
        PersonFactory {
            used_emails: HashSet::new(),
        }
    }

    pub(crate) fn person(&mut self, rng: &mut Rng) -> Person {
        let first = rng.pick(FIRST, "Alex");
        let last = rng.pick(LAST, "Doe");
        Person {
            full_name: format!("{first} {last}"),
            email: self.unique_email(rng, first, last),
            phone: phone(rng),
            ssn: ssn(rng),
            date_of_birth: date_of_birth(rng),
            address: address(rng),
        }
    }

    /// `maria.gonzalez42@example.com`; a taken address gets a different number.
    fn unique_email(&mut self, rng: &mut Rng, first: &str, last: &str) -> String {
        let local = format!("{}.{}", ascii_lower(first), ascii_lower(last));
        let domain = rng.pick(DOMAINS, "example.com");
        let mut n = rng.range(1, 99);
        loop {
            let email = format!("{local}{n}@{domain}");
            if self.used_emails.insert(email.clone()) {
                return email;
            }
            n = n.saturating_add(100);
        }
    }
}

/// Lowercase ASCII for email local parts: accents folded, apostrophes dropped.
fn ascii_lower(name: &str) -> String {
    name.chars()
        .filter_map(|c| match c {
            'á' | 'à' | 'ä' | 'â' => Some('a'),
            'é' | 'è' | 'ë' | 'ê' => Some('e'),
            'í' | 'ï' => Some('i'),
            'ó' | 'ö' | 'ô' => Some('o'),
            'ú' | 'ü' => Some('u'),
            'ñ' => Some('n'),
            'ç' => Some('c'),
            c if c.is_ascii_alphabetic() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// E.164 (US and UK drama range +44 7700 900xxx) or US national format.
pub(crate) fn phone(rng: &mut Rng) -> String {
    let area = rng.pick(US_AREA_CODES, "415");
    let exchange = rng.range(200, 999);
    let line = rng.digits(4);
    match rng.range(0, 2) {
        0 => format!("+1{area}{exchange}{line}"),
        1 => format!("({area}) {exchange}-{line}"),
        _ => format!("+447700900{}", rng.digits(3)),
    }
}

/// Area 001–899 except 666, group 01–99, serial 0001–9999.
pub(crate) fn ssn(rng: &mut Rng) -> String {
    let mut area = rng.range(1, 899);
    if area == 666 {
        area = 665;
    }
    let group = rng.range(1, 99);
    let serial = rng.range(1, 9999);
    format!("{area:03}-{group:02}-{serial:04}")
}

fn date_of_birth(rng: &mut Rng) -> String {
    let year = rng.range(1945, 2005);
    let month = rng.range(1, 12);
    let day = rng.range(1, 28);
    format!("{year}-{month:02}-{day:02}")
}

fn address(rng: &mut Rng) -> String {
    let number = rng.range(1, 9899);
    let street = rng.pick(STREETS, "Main");
    let suffix = rng.pick(SUFFIXES, "Street");
    let city = rng.pick(CITIES, "Springfield, IL 627");
    format!("{number} {street} {suffix}, {city}{}", rng.digits(2))
}

/// A timestamp between 2024-01-01 and 2026-10-28, UTC.
pub(crate) fn timestamp(rng: &mut Rng) -> String {
    let year = rng.range(2024, 2026);
    let month = if year == 2026 {
        rng.range(1, 10)
    } else {
        rng.range(1, 12)
    };
    let day = rng.range(1, 28);
    let (h, m, s) = (rng.range(0, 23), rng.range(0, 59), rng.range(0, 59));
    format!("{year}-{month:02}-{day:02} {h:02}:{m:02}:{s:02}+00")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::checks::ssn_valid;

    #[test]
    fn emails_are_unique_ascii_and_on_example_domains() {
        let mut rng = Rng::new(1);
        let mut factory = PersonFactory::new();
        let mut seen = HashSet::new();
        for _ in 0..2000 {
            let p = factory.person(&mut rng);
            assert!(p.email.is_ascii() && !p.email.contains('\''), "{}", p.email);
            let domain = p.email.rsplit('@').next().unwrap();
            assert!(DOMAINS.contains(&domain));
            assert!(seen.insert(p.email));
        }
    }

    #[test]
    fn ssns_stay_in_valid_ranges() {
        let mut rng = Rng::new(2);
        for _ in 0..5000 {
            let s = ssn(&mut rng);
            assert!(ssn_valid(&s), "{s}");
        }
    }

    #[test]
    fn accents_fold_for_email() {
        assert_eq!(ascii_lower("O'Connor"), "oconnor");
        assert_eq!(ascii_lower("Müller"), "muller");
        assert_eq!(ascii_lower("Chloé"), "chloe");
    }
}
