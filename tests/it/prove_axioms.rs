//! The world axioms of the proofs must hold in every real request: a false
//! axiom would let the solver "prove" a policy safe by excluding a real
//! attacker. Realistic requests from outside the zone (built the way AWS
//! fills the request context, including awkward ARNs whose paths contain
//! account-shaped pieces) are run against the axioms alone; none may be
//! denied.

use std::collections::BTreeSet;
use std::str::FromStr;

use cedar_policy::{Authorizer, Decision, PolicySet};

use ecr_audit::access::Zone;
use ecr_audit::cedar;
use ecr_audit::policy::eval::Request;
use ecr_audit::policy::{parse, PolicyKind, RequestContext, RequestPrincipal};
use ecr_audit::prove::world::{axioms, Caller, WorldInput};

/// A policy that reads every key the axioms speak about, with literals in
/// zone accounts, so that every axiom is generated.
const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:role/ci","444455556666"]},"Action":"ecr:BatchGetImage"},
 {"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Condition":{
   "StringEquals":{"aws:PrincipalAccount":"111122223333","aws:PrincipalOrgID":"o-a1b2c3d4e5","aws:PrincipalType":"User","aws:ResourceAccount":"111122223333","aws:SourceAccount":"111122223333","aws:SourceVpce":"vpce-1a2b3c4d","aws:SourceVpc":"vpc-11112222"},
   "StringLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/*","aws:userid":"AROA*:*","aws:PrincipalOrgPaths":"o-a1b2c3d4e5/*","aws:SourceArn":"arn:aws:lambda:*:111122223333:function:*"},
   "ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:*","aws:SourceArn":"arn:aws:s3:::bucket"},
   "IpAddress":{"aws:SourceIp":"203.0.113.0/24"},
   "Bool":{"aws:MultiFactorAuthPresent":"true","aws:SecureTransport":"true"},
   "NumericLessThan":{"aws:MultiFactorAuthAge":"3600"},
   "DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}]}"#;

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[(self.next() as usize) % v.len()]
    }
}

fn zone() -> Zone {
    Zone {
        owner: "111122223333".into(),
        accounts: ["111122223333".to_string(), "444455556666".to_string()].into(),
        org_id: Some("o-a1b2c3d4e5".into()),
        time: None,
    }
}

const OUTSIDE: [&str; 3] = ["999988887777", "000011112222", "123456789012"];
const RESOURCE: &str = "arn:aws:ecr:us-east-1:111122223333:repository/app";

/// A realistic outside request for a caller kind.
fn request(rng: &mut Lcg, caller: Caller) -> Request {
    let account = rng.pick(&OUTSIDE).to_string();
    let mut ctx = RequestContext::new();
    ctx.insert("aws:resourceaccount", ["111122223333"]);
    // Keys the caller chooses, realistic values. A service calling with its
    // own principal carries no network keys.
    let network = caller != Caller::Service;
    if network && rng.next().is_multiple_of(2) {
        ctx.insert(
            "aws:sourceip",
            [rng.pick(&["203.0.113.9", "198.51.100.7", "2001:db8::1"])],
        );
    }
    if rng.next().is_multiple_of(2) {
        ctx.insert("aws:multifactorauthpresent", [rng.pick(&["true", "false"])]);
        ctx.insert("aws:multifactorauthage", [rng.pick(&["0", "59", "86400"])]);
    }
    ctx.insert("aws:securetransport", [rng.pick(&["true", "false"])]);
    ctx.insert(
        "aws:currenttime",
        [rng.pick(&["2026-11-29T12:00:00Z", "2031-05-01T00:00:00Z"])],
    );
    if network && rng.next().is_multiple_of(3) {
        ctx.insert("aws:sourcevpce", ["vpce-0fff0000"]);
        ctx.insert("aws:sourcevpc", ["vpc-0fff0000"]);
    }
    let principal = match caller {
        Caller::Iam => {
            // Paths may hold account-shaped pieces, and colons: the IAM
            // API's `Path` pattern allows any character from `!` to DEL.
            let path = rng.pick(&[
                "/",
                "/team/",
                "/x-111122223333-/",
                "/111122223333/",
                "/x:111122223333:role/",
            ]);
            let (arn, principal_arn, kind, userid) = match rng.next() % 4 {
                0 => {
                    let a = format!("arn:aws:iam::{account}:root");
                    (a.clone(), a, "Account", account.clone())
                }
                1 => {
                    let a = format!("arn:aws:iam::{account}:user{path}alice");
                    (a.clone(), a, "User", "AIDAEXAMPLE".to_string())
                }
                2 => (
                    format!("arn:aws:sts::{account}:assumed-role/ci/s-1"),
                    format!("arn:aws:iam::{account}:role{path}ci"),
                    "AssumedRole",
                    "AROAEXAMPLE:s-1".to_string(),
                ),
                _ => (
                    format!("arn:aws:sts::{account}:federated-user/bob"),
                    format!("arn:aws:sts::{account}:federated-user/bob"),
                    "FederatedUser",
                    format!("{account}:bob"),
                ),
            };
            ctx.insert("aws:principalaccount", [account.clone()]);
            ctx.insert("aws:principalarn", [principal_arn]);
            ctx.insert("aws:principaltype", [kind]);
            ctx.insert("aws:userid", [userid]);
            if rng.next().is_multiple_of(2) {
                ctx.insert("aws:principalorgid", ["o-zzzz9999zz"]);
                ctx.insert(
                    "aws:principalorgpaths",
                    ["o-zzzz9999zz/r-ab12/ou-ab12-11111111/"],
                );
            }
            RequestPrincipal::from_arn(&arn).unwrap()
        }
        Caller::Service => {
            if !rng.next().is_multiple_of(3) {
                ctx.insert("aws:sourceaccount", [account.clone()]);
                ctx.insert(
                    "aws:sourcearn",
                    [rng.pick(&[
                        "arn:aws:s3:::someone-elses-bucket",
                        "arn:aws:logs:us-east-1:999988887777:log-group:111122223333:*",
                        "arn:aws:lambda:us-east-1:999988887777:function:f:111122223333",
                        // Names may be all digits (a zone account's, even).
                        "arn:aws:lambda:us-east-1:999988887777:function:111122223333:function",
                        "arn:aws:codebuild:us-east-1:999988887777:build/111122223333:function",
                    ])],
                );
                ctx.insert("aws:sourceorgid", ["o-zzzz9999zz"]);
            }
            RequestPrincipal::Service(
                rng.pick(&["lambda.amazonaws.com", "codebuild.amazonaws.com"])
                    .into(),
            )
        }
        Caller::Anonymous | Caller::WebIdentity => RequestPrincipal::Anonymous,
    };
    Request {
        principal,
        action: "ecr:BatchGetImage".into(),
        resource: RESOURCE.into(),
        context: ctx,
    }
}

#[test]
fn realistic_outside_requests_satisfy_every_axiom() {
    let doc = parse(POLICY, PolicyKind::Resource).unwrap();
    let t = cedar::translate(&doc);
    cedar::validate(&t).unwrap();
    let zone = zone();
    let mut rng = Lcg(7);
    let mut checked = 0;
    for caller in [Caller::Iam, Caller::Service, Caller::Anonymous] {
        let providers = BTreeSet::new();
        let w = WorldInput {
            translation: &t,
            zone: &zone,
            caller,
            resource_arn: RESOURCE,
            public_providers: &providers,
            pinned_subjects: &[],
            action: "ecr:BatchGetImage",
        };
        let world = axioms(&w);
        assert!(world.matches("@world").count() >= 10, "{world}");
        let set = PolicySet::from_str(&format!("permit (principal, action, resource);\n{world}"))
            .unwrap();
        for _ in 0..300 {
            let req = request(&mut rng, caller);
            let c = t.request(&req).unwrap();
            let resp = Authorizer::new().is_authorized(&c.request, &set, &c.entities);
            let broken: Vec<String> = resp
                .diagnostics()
                .reason()
                .map(|id| {
                    set.policy(id)
                        .unwrap()
                        .annotation("world")
                        .unwrap_or("")
                        .to_string()
                })
                .collect();
            assert_eq!(
                resp.decision(),
                Decision::Allow,
                "{caller:?} request {req:?} breaks axioms {broken:?}"
            );
            assert!(resp.diagnostics().errors().next().is_none());
            checked += 1;
        }
    }
    assert_eq!(checked, 900);
}

#[test]
fn an_inside_request_breaks_the_outsider_axiom() {
    // The check can fail: a zone account's principal is not an outsider.
    let doc = parse(POLICY, PolicyKind::Resource).unwrap();
    let t = cedar::translate(&doc);
    let zone = zone();
    let providers = BTreeSet::new();
    let world = axioms(&WorldInput {
        translation: &t,
        zone: &zone,
        caller: Caller::Iam,
        resource_arn: RESOURCE,
        public_providers: &providers,
        pinned_subjects: &[],
        action: "ecr:BatchGetImage",
    });
    let set =
        PolicySet::from_str(&format!("permit (principal, action, resource);\n{world}")).unwrap();
    let mut ctx = RequestContext::new();
    ctx.insert("aws:principalaccount", ["444455556666"]);
    ctx.insert("aws:principalarn", ["arn:aws:iam::444455556666:root"]);
    ctx.insert("aws:userid", ["444455556666"]);
    ctx.insert("aws:principaltype", ["Account"]);
    ctx.insert("aws:resourceaccount", ["111122223333"]);
    let req = Request {
        principal: RequestPrincipal::from_arn("444455556666").unwrap(),
        action: "ecr:BatchGetImage".into(),
        resource: RESOURCE.into(),
        context: ctx,
    };
    let c = t.request(&req).unwrap();
    let resp = Authorizer::new().is_authorized(&c.request, &set, &c.entities);
    assert_eq!(resp.decision(), Decision::Deny);
}
