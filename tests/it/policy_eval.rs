//! The concrete evaluator: principal matching, NotPrincipal/NotAction/
//! NotResource, deny precedence, and identity + resource combination.

use ecr_audit::policy::eval::{evaluate, evaluate_access, statement_applies, Decision, Request};
use ecr_audit::policy::principal::element_matches;
use ecr_audit::policy::{
    parse, PolicyDocument, PolicyKind, Principal, PrincipalType, RequestContext, RequestPrincipal,
    Tri,
};

const OWNER: &str = "111122223333";
const OTHER: &str = "444455556666";
const REPO: &str = "arn:aws:ecr:us-east-1:111122223333:repository/app";

fn res(text: &str) -> PolicyDocument {
    parse(text, PolicyKind::Resource).unwrap()
}
fn idp(text: &str) -> PolicyDocument {
    parse(text, PolicyKind::Identity).unwrap()
}
fn p(arn: &str) -> RequestPrincipal {
    RequestPrincipal::from_arn(arn).unwrap()
}
fn req(principal: RequestPrincipal, action: &str) -> Request {
    Request {
        principal,
        action: action.into(),
        resource: REPO.into(),
        context: RequestContext::new(),
    }
}
fn stmt(body: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{body}]}}"#)
}

#[test]
fn principal_chain_matching() {
    let role = p("arn:aws:iam::444455556666:role/ci/Builder");
    let session = p("arn:aws:sts::444455556666:assumed-role/Builder/job-1");
    let user = p("arn:aws:iam::444455556666:user/alice");
    let root = p("444455556666");
    let other = p("arn:aws:iam::999988887777:role/Builder");
    let entry = |raw: &str| Principal::parse(PrincipalType::Aws, raw);
    let acct = entry("arn:aws:iam::444455556666:root");
    for who in [&role, &session, &user, &root] {
        assert_eq!(element_matches(false, [&acct], who), Tri::True, "{who:?}");
    }
    assert_eq!(element_matches(false, [&acct], &other), Tri::False);
    let role_entry = entry("arn:aws:iam::444455556666:role/ci/Builder");
    assert_eq!(element_matches(false, [&role_entry], &role), Tri::True);
    assert_eq!(
        element_matches(false, [&role_entry], &session),
        Tri::True,
        "sessions of the role"
    );
    assert_eq!(element_matches(false, [&role_entry], &user), Tri::False);
    assert_eq!(element_matches(false, [&role_entry], &root), Tri::False);
    let star = entry("*");
    for who in [
        &role,
        &RequestPrincipal::Anonymous,
        &RequestPrincipal::Service("ecs.amazonaws.com".into()),
    ] {
        assert_eq!(element_matches(false, [&star], who), Tri::True);
    }
    let svc = Principal::parse(PrincipalType::Service, "ECS.amazonaws.com");
    assert_eq!(
        element_matches(
            false,
            [&svc],
            &RequestPrincipal::Service("ecs.amazonaws.com".into())
        ),
        Tri::True
    );
    assert_eq!(element_matches(false, [&svc], &role), Tri::False);
    let bad = entry("arn:aws:iam::444455556666:role/*");
    assert_eq!(element_matches(false, [&bad], &role), Tri::Unknown);
    let gone = entry("AROAEXAMPLEEXAMPLE1234");
    assert_eq!(element_matches(false, [&gone], &role), Tri::False);

    // NotPrincipal: applies unless every identity of the chain is listed.
    assert_eq!(
        element_matches(true, [&role_entry], &role),
        Tri::True,
        "account not listed"
    );
    assert_eq!(
        element_matches(true, [&role_entry, &acct], &role),
        Tri::False
    );
    assert_eq!(
        element_matches(true, [&role_entry, &acct], &session),
        Tri::True,
        "session not listed"
    );
    let sess_entry = entry("arn:aws:sts::444455556666:assumed-role/Builder/job-1");
    assert_eq!(
        element_matches(true, [&role_entry, &acct, &sess_entry], &session),
        Tri::False
    );
    assert_eq!(
        element_matches(true, [&acct], &RequestPrincipal::Anonymous),
        Tri::True
    );
    assert_eq!(
        element_matches(true, [&star], &RequestPrincipal::Anonymous),
        Tri::False
    );
}

#[test]
fn public_read_and_deny_precedence() {
    let d = res(&stmt(
        r#"{"Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]},
           {"Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc"}}}"#,
    ));
    let outsider = p("arn:aws:iam::999988887777:user/mallory");
    assert_eq!(
        evaluate(&[&d], &req(outsider.clone(), "ecr:BatchGetImage")),
        Decision::ExplicitDeny
    );
    let mut inside = req(p("arn:aws:iam::444455556666:role/x"), "ecr:BatchGetImage");
    inside.context.insert("aws:PrincipalOrgID", ["o-abc"]);
    assert_eq!(evaluate(&[&d], &inside), Decision::Allow);
    inside.action = "ecr:PutImage".into();
    assert_eq!(evaluate(&[&d], &inside), Decision::ImplicitDeny);
    // Action names are case-insensitive.
    inside.action = "ECR:batchgetimage".into();
    assert_eq!(evaluate(&[&d], &inside), Decision::Allow);
}

#[test]
fn allow_with_not_principal_grants_everyone_else() {
    let d = res(&stmt(
        r#"{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"ecr:*"}"#,
    ));
    assert_eq!(
        evaluate(&[&d], &req(RequestPrincipal::Anonymous, "ecr:PutImage")),
        Decision::Allow
    );
    assert_eq!(
        evaluate(&[&d], &req(p("999988887777"), "ecr:PutImage")),
        Decision::Allow
    );
    assert_eq!(
        evaluate(&[&d], &req(p("444455556666"), "ecr:PutImage")),
        Decision::ImplicitDeny
    );
    // A user of the excluded account is not itself listed: still granted.
    assert_eq!(
        evaluate(
            &[&d],
            &req(p("arn:aws:iam::444455556666:user/u"), "ecr:PutImage")
        ),
        Decision::Allow
    );
}

#[test]
fn not_action_and_not_resource() {
    let d = idp(&stmt(
        r#"{"Effect":"Allow","NotAction":["iam:*","ecr:Delete*"],"NotResource":"arn:aws:ecr:*:*:repository/prod-*"}"#,
    ));
    let me = p("arn:aws:iam::111122223333:user/dev");
    assert_eq!(
        evaluate(&[&d], &req(me.clone(), "ecr:PutImage")),
        Decision::Allow
    );
    assert_eq!(
        evaluate(&[&d], &req(me.clone(), "ecr:DeleteRepository")),
        Decision::ImplicitDeny
    );
    assert_eq!(
        evaluate(&[&d], &req(me.clone(), "iam:PassRole")),
        Decision::ImplicitDeny
    );
    assert_eq!(
        evaluate(&[&d], &req(me.clone(), "sts:AssumeRole")),
        Decision::Allow
    );
    let mut prod = req(me, "ecr:PutImage");
    prod.resource = "arn:aws:ecr:us-east-1:111122223333:repository/prod-api".into();
    assert_eq!(evaluate(&[&d], &prod), Decision::ImplicitDeny);
}

#[test]
fn unknown_outcomes() {
    let d = res(&stmt(
        r#"{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEqualsSomehow":{"aws:SourceVpce":"vpce-1"}}}"#,
    ));
    let r = req(RequestPrincipal::Anonymous, "ecr:BatchGetImage");
    assert_eq!(statement_applies(&d.statements[0], &r), Tri::Unknown);
    assert_eq!(evaluate(&[&d], &r), Decision::Unknown);
    // A definite Deny wins over an unknown Allow.
    let deny = res(&stmt(
        r#"{"Effect":"Deny","Principal":"*","Action":"ecr:*"}"#,
    ));
    assert_eq!(evaluate(&[&d, &deny], &r), Decision::ExplicitDeny);
    // An unknown Deny with a definite Allow: undecided.
    let maybe_deny = res(&stmt(
        r#"{"Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"Weird":{"k":"v"}}}"#,
    ));
    let allow = res(&stmt(
        r#"{"Effect":"Allow","Principal":"*","Action":"ecr:*"}"#,
    ));
    assert_eq!(evaluate(&[&allow, &maybe_deny], &r), Decision::Unknown);
    // An unknown Deny with no Allow: refused either way.
    assert_eq!(evaluate(&[&maybe_deny], &r), Decision::ImplicitDeny);
    // Resource with an unresolvable policy variable.
    let v = idp(&stmt(
        r#"{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:*:repository/${aws:username}/*"}"#,
    ));
    assert_eq!(
        evaluate(
            &[&v],
            &req(p("arn:aws:iam::111122223333:user/a"), "ecr:PutImage")
        ),
        Decision::Unknown
    );
    let mut with_name = req(p("arn:aws:iam::111122223333:user/a"), "ecr:PutImage");
    with_name.context.insert("aws:username", ["a"]);
    with_name.resource = "arn:aws:ecr:us-east-1:111122223333:repository/a/app".into();
    assert_eq!(evaluate(&[&v], &with_name), Decision::Allow);
}

#[test]
fn identity_and_resource_combination() {
    let repo_policy = res(&stmt(
        r#"{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"ecr:BatchGetImage"}"#,
    ));
    let outsider_identity = idp(&stmt(
        r#"{"Effect":"Allow","Action":"ecr:*","Resource":"*"}"#,
    ));
    let builder = p("arn:aws:iam::444455556666:role/Builder");
    let r = req(builder, "ecr:BatchGetImage");
    // Cross account: both sides must allow.
    assert_eq!(
        evaluate_access(&[&outsider_identity], &[&repo_policy], OWNER, &r),
        Decision::Allow
    );
    assert_eq!(
        evaluate_access(&[], &[&repo_policy], OWNER, &r),
        Decision::ImplicitDeny
    );
    assert_eq!(
        evaluate_access(&[&outsider_identity], &[], OWNER, &r),
        Decision::ImplicitDeny
    );
    // Same account: either side suffices.
    let dev = req(p("arn:aws:iam::111122223333:user/dev"), "ecr:PutImage");
    assert_eq!(
        evaluate_access(&[&outsider_identity], &[], OWNER, &dev),
        Decision::Allow
    );
    let deny_all = res(&stmt(
        r#"{"Effect":"Deny","Principal":"*","Action":"ecr:PutImage"}"#,
    ));
    assert_eq!(
        evaluate_access(&[&outsider_identity], &[&deny_all], OWNER, &dev),
        Decision::ExplicitDeny
    );
    // Services and anonymous callers rely on the resource policy alone.
    let svc = res(&stmt(
        r#"{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"ecr:BatchGetImage"}"#,
    ));
    let cb = req(
        RequestPrincipal::Service("codebuild.amazonaws.com".into()),
        "ecr:BatchGetImage",
    );
    assert_eq!(evaluate_access(&[], &[&svc], OWNER, &cb), Decision::Allow);
    let _ = OTHER;
}

#[test]
fn trust_policy_web_identity() {
    let t = parse(
        &stmt(
            r#"{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity",
            "Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"},"StringLike":{"token.actions.githubusercontent.com:sub":"repo:acme/*:ref:refs/heads/main"}}}"#,
        ),
        PolicyKind::Trust,
    )
    .unwrap();
    let gh = RequestPrincipal::Federated(
        "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com".into(),
    );
    let mut r = Request {
        principal: gh,
        action: "sts:AssumeRoleWithWebIdentity".into(),
        resource: "arn:aws:iam::111122223333:role/deploy".into(),
        context: RequestContext::new()
            .with(
                "token.actions.githubusercontent.com:aud",
                ["sts.amazonaws.com"],
            )
            .with(
                "token.actions.githubusercontent.com:sub",
                ["repo:acme/app:ref:refs/heads/main"],
            ),
    };
    assert_eq!(evaluate(&[&t], &r), Decision::Allow);
    r.context.insert(
        "token.actions.githubusercontent.com:sub",
        ["repo:evil/app:ref:refs/heads/main"],
    );
    assert_eq!(evaluate(&[&t], &r), Decision::ImplicitDeny);
    r.action = "sts:AssumeRole".into();
    assert_eq!(evaluate(&[&t], &r), Decision::ImplicitDeny);
}

#[test]
fn request_principals_from_arns() {
    use ecr_audit::policy::IamKind;
    assert_eq!(
        p("111122223333"),
        RequestPrincipal::AccountRoot("111122223333".into())
    );
    assert_eq!(
        p("arn:aws:iam::111122223333:root"),
        RequestPrincipal::AccountRoot("111122223333".into())
    );
    match p("arn:aws-us-gov:sts::111122223333:assumed-role/Admin/alice@example.com") {
        RequestPrincipal::Iam(a) => {
            assert_eq!(a.partition, "aws-us-gov");
            assert_eq!(
                a.kind,
                IamKind::AssumedRole {
                    role: "Admin".into(),
                    session: "alice@example.com".into()
                }
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(p("arn:aws:sts::111122223333:federated-user/bob"), RequestPrincipal::Iam(a) if a.kind == IamKind::FederatedUser)
    );
    for bad in [
        "*",
        "arn:aws:iam::1:root",
        "arn:aws:s3:::bucket",
        "arn:aws:iam::111122223333:group/g",
        "arn:aws:iam::111122223333:role/",
        "",
        "arn:aws:iam:us-east-1:111122223333:role/x",
    ] {
        assert!(RequestPrincipal::from_arn(bad).is_none(), "{bad}");
    }
    assert_eq!(
        p("arn:aws:iam::111122223333:user/u").account(),
        Some("111122223333")
    );
    assert_eq!(RequestPrincipal::Anonymous.account(), None);
}

#[test]
fn tri_logic() {
    use Tri::*;
    assert_eq!(True.and(Unknown), Unknown);
    assert_eq!(False.and(Unknown), False);
    assert_eq!(True.or(Unknown), True);
    assert_eq!(False.or(Unknown), Unknown);
    assert_eq!(!Unknown, Unknown);
    assert_eq!(Tri::any([]), False);
    assert_eq!(Tri::all([]), True);
    assert!(Unknown.maybe() && !False.maybe());
}
