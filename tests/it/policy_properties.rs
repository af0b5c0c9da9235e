//! Algebraic properties of matching, conditions and evaluation, checked on
//! random inputs against naive reference definitions.

use ecr_audit::policy::eval::{evaluate, Decision, Request};
use ecr_audit::policy::pattern::{glob_match, glob_match_ignore_case};
use ecr_audit::policy::{parse, PolicyKind, RequestContext, RequestPrincipal, Tri};
use proptest::prelude::*;

/// Reference glob: the textbook recursive definition.
fn naive_glob(p: &[char], v: &[char]) -> bool {
    match p.split_first() {
        None => v.is_empty(),
        Some(('*', rest)) => (0..=v.len()).any(|i| naive_glob(rest, &v[i..])),
        Some(('?', rest)) => !v.is_empty() && naive_glob(rest, &v[1..]),
        Some((c, rest)) => v.first() == Some(c) && naive_glob(rest, &v[1..]),
    }
}

fn cond(block: &str, ctx: &RequestContext) -> Tri {
    let text = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"*","Condition":{block}}}]}}"#
    );
    let d = parse(&text, PolicyKind::Resource).unwrap();
    let st = &d.statements[0];
    ecr_audit::policy::condition::evaluate_all(&st.conditions, ctx, st.variables_enabled)
}

fn values() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec("[ab]{0,3}", 0..4)
}

proptest! {
    #[test]
    fn glob_agrees_with_reference(p in "[ab*?]{0,8}", v in "[ab]{0,8}") {
        let pc: Vec<char> = p.chars().collect();
        let vc: Vec<char> = v.chars().collect();
        prop_assert_eq!(glob_match(&p, &v), naive_glob(&pc, &vc), "{} vs {}", p, v);
    }

    #[test]
    fn ignore_case_glob_is_case_insensitive(p in "[aB*?]{0,8}", v in "[Ab]{0,8}") {
        prop_assert_eq!(
            glob_match_ignore_case(&p, &v),
            glob_match(&p.to_lowercase(), &v.to_lowercase())
        );
    }

    /// A negated operator is the negation of its positive form on a present,
    /// single-valued key, and both hold their documented value when absent.
    #[test]
    fn negated_operators_negate(policy in values(), req in "[ab]{0,3}", present in any::<bool>()) {
        let vals = serde_json::to_string(&policy).unwrap();
        let mut ctx = RequestContext::new();
        if present {
            ctx.insert("k", [req.clone()]);
        }
        for (pos, neg) in [("StringEquals", "StringNotEquals"), ("StringLike", "StringNotLike"), ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase")] {
            let p = cond(&format!(r#"{{"{pos}":{{"k":{vals}}}}}"#), &ctx);
            let n = cond(&format!(r#"{{"{neg}":{{"k":{vals}}}}}"#), &ctx);
            if present {
                prop_assert_eq!(p, !n);
            } else {
                prop_assert_eq!((p, n), (Tri::False, Tri::True));
            }
        }
    }

    /// ForAnyValue:X is the negation of ForAllValues:NotX on a non-empty set,
    /// and a positive multi-valued match is the ForAnyValue one.
    #[test]
    fn set_qualifiers_are_duals(policy in values(), req in prop::collection::vec("[ab]{0,3}", 1..4)) {
        let vals = serde_json::to_string(&policy).unwrap();
        let ctx = RequestContext::new().with("k", req.clone());
        let any = cond(&format!(r#"{{"ForAnyValue:StringLike":{{"k":{vals}}}}}"#), &ctx);
        let all_not = cond(&format!(r#"{{"ForAllValues:StringNotLike":{{"k":{vals}}}}}"#), &ctx);
        let plain = cond(&format!(r#"{{"StringLike":{{"k":{vals}}}}}"#), &ctx);
        prop_assert_eq!(any, !all_not);
        prop_assert_eq!(any, plain);
        // Reference: some request value is like some policy value.
        let reference = req.iter().any(|r| policy.iter().any(|p| glob_match(p, r)));
        prop_assert_eq!(any, Tri::from_bool(reference));
    }

    /// Adding an unconditional Deny for the action always yields ExplicitDeny;
    /// removing every Allow never yields Allow.
    #[test]
    fn deny_wins(grant_star in any::<bool>(), with_cond in any::<bool>(), action in "ecr:[A-Z][a-z]{1,6}") {
        let principal = if grant_star { r#""*""# } else { r#"{"AWS":"999988887777"}"# };
        let condition = if with_cond { r#","Condition":{"Bool":{"aws:SecureTransport":"true"}}"# } else { "" };
        let allow = format!(r#"{{"Effect":"Allow","Principal":{principal},"Action":"ecr:*"{condition}}}"#);
        let deny = format!(r#"{{"Effect":"Deny","Principal":"*","Action":"{action}"}}"#);
        let with_deny = parse(&format!(r#"{{"Statement":[{allow},{deny}]}}"#), PolicyKind::Resource).unwrap();
        let only_deny = parse(&format!(r#"{{"Statement":[{deny}]}}"#), PolicyKind::Resource).unwrap();
        let req = Request {
            principal: RequestPrincipal::from_arn("arn:aws:iam::999988887777:user/u").unwrap(),
            action: action.clone(),
            resource: "arn:aws:ecr:us-east-1:111122223333:repository/app".into(),
            context: RequestContext::new().with("aws:SecureTransport", ["true"]),
        };
        prop_assert_eq!(evaluate(&[&with_deny], &req), Decision::ExplicitDeny);
        prop_assert_eq!(evaluate(&[&only_deny], &req), Decision::ExplicitDeny);
    }
}
