//! Who may review what, and what a new request must hold. Pure functions,
//! so every rule is tested without a store.

use vigil_core::{Principal, PrincipalKind};

use crate::codec::normalize_email;
use crate::model::{ApprovalRequest, NewRequest};
use crate::ApprovalError;

/// Longest review comment kept.
pub const MAX_COMMENT_CHARS: usize = 4000;

/// Refuses a reviewer who may not review `request`.
///
/// - Separation of duties: the requester (same subject, or same email)
///   never reviews their own request, whatever groups they are in.
/// - AI agents never review: the loop is for humans.
/// - The reviewer must be in one of the required groups.
pub fn check_reviewer(
    request: &ApprovalRequest,
    reviewer: &Principal,
) -> Result<(), ApprovalError> {
    if is_requester(request, reviewer) {
        return Err(ApprovalError::Forbidden(
            "you cannot review your own request (separation of duties)".to_owned(),
        ));
    }
    if reviewer.kind == PrincipalKind::Agent {
        return Err(ApprovalError::Forbidden(
            "AI agents cannot review requests".to_owned(),
        ));
    }
    if !request
        .approvers
        .groups
        .iter()
        .any(|g| reviewer.in_group(g))
    {
        return Err(ApprovalError::Forbidden(format!(
            "reviewing this request needs membership in one of: {}",
            request.approvers.groups.join(", ")
        )));
    }
    Ok(())
}

/// Who may see a request (its SQL and context): its requester, and the
/// members of the groups that may approve it. Everyone else is told it
/// does not exist.
pub fn can_view(request: &ApprovalRequest, who: &Principal) -> bool {
    is_requester(request, who) || request.approvers.groups.iter().any(|g| who.in_group(g))
}

/// Same subject, or same email (case-insensitive): the same person, even
/// with a token from another issuer.
pub fn is_requester(request: &ApprovalRequest, who: &Principal) -> bool {
    let requester = &request.requester;
    let same_email = match (&requester.email, &who.email) {
        (Some(a), Some(b)) => normalize_email(a) == normalize_email(b),
        _ => false,
    };
    requester.subject == who.subject || same_email
}

/// Trims a review comment and checks its length; a denial needs one.
pub fn check_comment(comment: &str, required: bool) -> Result<String, ApprovalError> {
    let comment = comment.trim();
    if required && comment.is_empty() {
        return Err(ApprovalError::Invalid(
            "a denial needs a comment saying why".to_owned(),
        ));
    }
    if comment.chars().count() > MAX_COMMENT_CHARS {
        return Err(ApprovalError::Invalid(format!(
            "the comment is longer than {MAX_COMMENT_CHARS} characters"
        )));
    }
    Ok(comment.to_owned())
}

/// Refuses a request that nobody could ever approve or that cannot bind
/// its statement.
pub fn check_new(r: &NewRequest) -> Result<(), ApprovalError> {
    let bad = |why: &str| Err(ApprovalError::Invalid(why.to_owned()));
    if r.requester.subject.is_empty() {
        return bad("the requester has no subject");
    }
    if r.connection.is_empty() {
        return bad("the request names no connection");
    }
    let hex = r.statement_hash.len() == 64
        && r.statement_hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !hex {
        return bad("statement_hash must be 64 lowercase hex digits (sha256)");
    }
    if r.approvers.count == 0 {
        return bad("at least one approval must be required");
    }
    if r.approvers.groups.iter().all(|g| g.is_empty()) {
        return bad("the request names no approver group");
    }
    if r.timeout.is_some_and(|t| t.is_zero()) {
        return bad("the timeout must be positive");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{new_request, principal, stored};

    #[test]
    fn requester_never_reviews_own_request() {
        let req = stored(new_request("alice", Some("Alice@Example.com"), &["dba"], 1));
        let same_sub = principal("alice", None, &["dba"]);
        let same_mail = principal("alice2", Some("alice@example.com "), &["dba"]);
        for p in [same_sub, same_mail] {
            let err = check_reviewer(&req, &p).unwrap_err();
            assert!(
                matches!(err, ApprovalError::Forbidden(ref m) if m.contains("own")),
                "{err}"
            );
        }
        assert!(check_reviewer(&req, &principal("bob", None, &["dba"])).is_ok());
    }

    #[test]
    fn reviewer_needs_a_required_group_and_to_be_human() {
        let req = stored(new_request("alice", None, &["dba", "sre"], 1));
        assert!(check_reviewer(&req, &principal("bob", None, &["sre"])).is_ok());
        let outsider = check_reviewer(&req, &principal("bob", None, &["dev"])).unwrap_err();
        assert!(matches!(outsider, ApprovalError::Forbidden(ref m) if m.contains("dba, sre")));
        let mut agent = principal("bot", None, &["dba"]);
        agent.kind = PrincipalKind::Agent;
        assert!(matches!(
            check_reviewer(&req, &agent),
            Err(ApprovalError::Forbidden(_))
        ));
    }

    #[test]
    fn only_requester_and_approvers_see_a_request() {
        let req = stored(new_request("alice", Some("alice@x"), &["dba"], 1));
        assert!(can_view(&req, &principal("alice", None, &[])));
        assert!(can_view(&req, &principal("a2", Some("ALICE@x"), &[])));
        assert!(can_view(&req, &principal("bob", None, &["dba"])));
        assert!(!can_view(&req, &principal("eve", None, &["dev"])));
    }

    #[test]
    fn comments_are_trimmed_bounded_and_required_for_denials() {
        assert_eq!(check_comment("  ok  ", false).unwrap(), "ok");
        assert!(check_comment("", false).is_ok());
        assert!(check_comment("   ", true).is_err());
        assert!(check_comment(&"x".repeat(MAX_COMMENT_CHARS + 1), false).is_err());
    }

    #[test]
    fn new_requests_must_be_approvable_and_bound() {
        assert!(check_new(&new_request("alice", None, &["dba"], 1)).is_ok());
        let mut r = new_request("alice", None, &["dba"], 0);
        assert!(check_new(&r).is_err(), "count 0");
        r.approvers.count = 1;
        r.approvers.groups.clear();
        assert!(check_new(&r).is_err(), "no group");
        let mut r = new_request("alice", None, &["dba"], 1);
        r.statement_hash = r.statement_hash.to_uppercase();
        assert!(check_new(&r).is_err(), "hash case");
        r.statement_hash = "abc".to_owned();
        assert!(check_new(&r).is_err(), "hash length");
    }
}
