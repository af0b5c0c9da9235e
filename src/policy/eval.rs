//! A deliberately simple evaluator for concrete requests.
//!
//! It is the independent reference the Cedar translation is tested against,
//! so it follows IAM's evaluation logic literally:
//!
//! 1. a statement applies when its principal, action, resource and every
//!    condition match (three-valued: any `Unknown` part makes it `Unknown`
//!    unless another part is definitely false);
//! 2. an applicable Deny wins over everything (ExplicitDeny);
//! 3. otherwise an applicable Allow allows; otherwise ImplicitDeny;
//! 4. `Unknown` is returned only when the allow/deny outcome itself is
//!    undecided. A Deny that might apply when no Allow can apply is
//!    ImplicitDeny (the request is refused either way).
//!
//! Identity-policy statements have no Principal: they apply to the principal
//! the policy is attached to, i.e. the request principal. A statement without
//! Resource (resource and trust policies) applies to the resource the policy
//! is attached to, i.e. the request resource.
//!
//! [`evaluate_access`] combines identity and resource policies the way IAM
//! does for one account boundary: same account, identity allow OR resource
//! allow; cross account, both must allow; callers that are not IAM principals
//! (services, web-identity providers, anonymous) have no identity policies
//! and rely on the resource policy alone. One simplification, conservative for
//! access questions: a resource policy naming the owner's own account
//! (`arn:aws:iam::OWNER:root`) is treated as granting that account's
//! principals directly, although IAM then defers to their identity policies.

use super::ast::{Effect, PolicyDocument, Statement};
use super::condition::evaluate_all;
use super::context::RequestContext;
use super::principal::RequestPrincipal;
use super::tri::Tri;

/// One concrete request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub principal: RequestPrincipal,
    /// `service:Action`, any case.
    pub action: String,
    /// The resource ARN (for registry-level ECR actions, use `*`-free
    /// registry ARN of your choice or any ARN: statements with Resource `*`
    /// match everything).
    pub resource: String,
    pub context: RequestContext,
}

/// The outcome of an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
    /// Allowed or not depends on a construct that cannot be decided.
    Unknown,
}

/// Does this statement apply to the request (ignoring its effect)?
pub fn statement_applies(st: &Statement, req: &Request) -> Tri {
    let principal = match &st.principal {
        None => Tri::True,
        Some(p) => p.matches(&req.principal),
    };
    if principal.is_false() {
        return Tri::False;
    }
    if !st.action.matches(&req.action) {
        return Tri::False;
    }
    let resource = match &st.resource {
        None => Tri::True,
        Some(r) => r.matches(&req.resource, st.variables_enabled, Some(&req.context)),
    };
    if resource.is_false() {
        return Tri::False;
    }
    principal.and(resource).and(evaluate_all(
        &st.conditions,
        &req.context,
        st.variables_enabled,
    ))
}

/// (any Deny applies, any Allow applies) over a set of policies.
fn scan(policies: &[&PolicyDocument], req: &Request) -> (Tri, Tri) {
    let mut deny = Tri::False;
    let mut allow = Tri::False;
    for st in policies.iter().flat_map(|p| p.statements.iter()) {
        let applies = statement_applies(st, req);
        match st.effect {
            Effect::Deny => deny = deny.or(applies),
            Effect::Allow => allow = allow.or(applies),
        }
    }
    (deny, allow)
}

fn decide(deny: Tri, allowed: Tri) -> Decision {
    match (deny, allowed) {
        (Tri::True, _) => Decision::ExplicitDeny,
        (_, Tri::False) => Decision::ImplicitDeny,
        (Tri::False, Tri::True) => Decision::Allow,
        _ => Decision::Unknown,
    }
}

/// Evaluate a request against a set of policies that all apply to it
/// (e.g. all identity policies of the principal, or one resource policy).
pub fn evaluate(policies: &[&PolicyDocument], req: &Request) -> Decision {
    let (deny, allow) = scan(policies, req);
    decide(deny, allow)
}

/// Evaluate a request against the principal's identity policies and the
/// resource's policies, for a resource owned by `resource_account`.
pub fn evaluate_access(
    identity: &[&PolicyDocument],
    resource: &[&PolicyDocument],
    resource_account: &str,
    req: &Request,
) -> Decision {
    let (rdeny, rallow) = scan(resource, req);
    let (ideny, iallow, same_account) = match req.principal.account() {
        Some(acct) => {
            let (d, a) = scan(identity, req);
            (d, a, acct == resource_account)
        }
        // Services, providers and anonymous callers have no identity policies.
        None => (Tri::False, Tri::False, false),
    };
    let allowed = if req.principal.account().is_none() {
        rallow
    } else if same_account {
        iallow.or(rallow)
    } else {
        iallow.and(rallow)
    };
    decide(ideny.or(rdeny), allowed)
}
