//! Fake credentials shaped like the real ones secret scanners look for:
//! Stripe-style `sk_live_…`, GitHub `ghp_…` tokens and AWS `AKIA…` key ids.
//! They are random, so they authenticate nowhere.

use super::rng::Rng;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// AWS access key ids use upper-case base32.
const AWS_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A key's display name and its secret.
#[derive(Debug, Clone)]
pub(crate) struct ApiKey {
    pub(crate) name: &'static str,
    pub(crate) secret: String,
}

pub(crate) fn api_key(rng: &mut Rng) -> ApiKey {
    match rng.range(0, 2) {
        0 => ApiKey {
            name: "stripe-production",
            secret: format!("sk_live_{}", rng.chars_from(ALNUM, 24)),
        },
        1 => ApiKey {
            name: "github-ci",
            secret: format!("ghp_{}", rng.chars_from(ALNUM, 36)),
        },
        _ => ApiKey {
            name: "aws-deploy",
            secret: format!("AKIA{}", rng.chars_from(AWS_ALPHABET, 16)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_scanner_shapes() {
        let mut rng = Rng::new(5);
        let mut kinds = [0usize; 3];
        for _ in 0..300 {
            let key = api_key(&mut rng);
            let s = key.secret.as_str();
            let (kind, len) = if s.starts_with("sk_live_") {
                (0, 32)
            } else if s.starts_with("ghp_") {
                (1, 40)
            } else {
                assert!(
                    s.starts_with("AKIA")
                        && s.chars()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                );
                (2, 20)
            };
            assert_eq!(s.len(), len, "{s}");
            kinds[kind] += 1;
        }
        assert!(kinds.iter().all(|n| *n > 50), "{kinds:?}");
    }
}
