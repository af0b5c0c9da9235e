//! Concrete condition evaluation, operator by operator.

use ecr_audit::policy::{parse, PolicyKind, RequestContext, Tri};

/// Evaluate a one-statement Condition block (given as JSON) in a context.
fn cond(version: &str, block: &str, ctx: &RequestContext) -> Tri {
    let text = format!(
        r#"{{"Version":"{version}","Statement":[{{"Effect":"Allow","Principal":"*","Action":"*","Condition":{block}}}]}}"#
    );
    let d = parse(&text, PolicyKind::Resource).unwrap();
    let st = &d.statements[0];
    ecr_audit::policy::condition::evaluate_all(&st.conditions, ctx, st.variables_enabled)
}

fn c(block: &str, ctx: &RequestContext) -> Tri {
    cond("2012-10-17", block, ctx)
}

fn ctx(pairs: &[(&str, &[&str])]) -> RequestContext {
    let mut c = RequestContext::new();
    for (k, v) in pairs {
        c.insert(k, v.iter().copied());
    }
    c
}

use Tri::{False as F, True as T, Unknown as U};

#[test]
fn string_equals_family() {
    let org = ctx(&[("aws:PrincipalOrgID", &["o-abc"])]);
    let other = ctx(&[("aws:principalorgid", &["o-evil"])]);
    let none = RequestContext::new();
    let eq = r#"{"StringEquals":{"aws:PrincipalOrgID":["o-xyz","o-abc"]}}"#;
    assert_eq!(c(eq, &org), T);
    assert_eq!(c(eq, &other), F);
    assert_eq!(c(eq, &none), F);
    let ne = r#"{"StringNotEquals":{"aws:PrincipalOrgID":["o-xyz","o-abc"]}}"#;
    assert_eq!(c(ne, &org), F);
    assert_eq!(c(ne, &other), T);
    assert_eq!(c(ne, &none), T, "negated operator is true on a missing key");
    // Case-insensitive operator and key names; case-sensitive values.
    assert_eq!(
        c(r#"{"stringequals":{"AWS:PRINCIPALORGID":"o-abc"}}"#, &org),
        T
    );
    assert_eq!(
        c(r#"{"StringEquals":{"aws:PrincipalOrgID":"O-ABC"}}"#, &org),
        F
    );
    assert_eq!(
        c(
            r#"{"StringEqualsIgnoreCase":{"aws:PrincipalOrgID":"O-ABC"}}"#,
            &org
        ),
        T
    );
    assert_eq!(
        c(
            r#"{"StringNotEqualsIgnoreCase":{"aws:PrincipalOrgID":"O-ABC"}}"#,
            &org
        ),
        F
    );
    // StringEquals treats * literally.
    assert_eq!(c(r#"{"StringEquals":{"aws:PrincipalOrgID":"*"}}"#, &org), F);
}

#[test]
fn string_like_and_wildcards() {
    let org = ctx(&[("aws:PrincipalOrgID", &["o-abc"])]);
    assert_eq!(c(r#"{"StringLike":{"aws:PrincipalOrgID":"*"}}"#, &org), T);
    assert_eq!(c(r#"{"StringLike":{"aws:PrincipalOrgID":"o-*"}}"#, &org), T);
    assert_eq!(
        c(r#"{"StringLike":{"aws:PrincipalOrgID":"o-a?c"}}"#, &org),
        T
    );
    assert_eq!(
        c(
            r#"{"StringLike":{"aws:PrincipalOrgID":"*"}}"#,
            &RequestContext::new()
        ),
        F
    );
    assert_eq!(
        c(
            r#"{"StringNotLike":{"aws:PrincipalOrgID":["o-x*","o-a*"]}}"#,
            &org
        ),
        F
    );
    assert_eq!(
        c(r#"{"StringNotLike":{"aws:PrincipalOrgID":["o-x*"]}}"#, &org),
        T
    );
}

#[test]
fn if_exists_and_null() {
    let none = RequestContext::new();
    let vpc = ctx(&[("aws:SourceVpc", &["vpc-1"])]);
    let ie = r#"{"StringEqualsIfExists":{"aws:SourceVpc":"vpc-1"}}"#;
    assert_eq!(c(ie, &none), T);
    assert_eq!(c(ie, &vpc), T);
    assert_eq!(
        c(
            r#"{"StringEqualsIfExists":{"aws:SourceVpc":"vpc-2"}}"#,
            &vpc
        ),
        F
    );
    assert_eq!(c(r#"{"Null":{"aws:SourceVpc":"true"}}"#, &none), T);
    assert_eq!(c(r#"{"Null":{"aws:SourceVpc":"true"}}"#, &vpc), F);
    assert_eq!(c(r#"{"Null":{"aws:SourceVpc":false}}"#, &vpc), T);
    assert_eq!(c(r#"{"Null":{"aws:SourceVpc":"maybe"}}"#, &vpc), U);
    // An empty value list counts as absent.
    assert_eq!(
        c(
            r#"{"Null":{"aws:SourceVpc":"true"}}"#,
            &ctx(&[("aws:SourceVpc", &[])])
        ),
        T
    );
}

#[test]
fn set_qualifiers() {
    let tags = ctx(&[("aws:TagKeys", &["team", "env"])]);
    let one_bad = ctx(&[("aws:TagKeys", &["team", "owner"])]);
    let none = RequestContext::new();
    let all = r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}"#;
    assert_eq!(c(all, &tags), T);
    assert_eq!(c(all, &one_bad), F);
    assert_eq!(c(all, &none), T, "ForAllValues is true on a missing key");
    assert_eq!(c(all, &ctx(&[("aws:TagKeys", &[])])), T);
    let any = r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["owner"]}}"#;
    assert_eq!(c(any, &tags), F);
    assert_eq!(c(any, &one_bad), T);
    assert_eq!(c(any, &none), F, "ForAnyValue is false on a missing key");
    assert_eq!(
        c(
            r#"{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":"x"}}"#,
            &none
        ),
        T
    );
    // Negated with qualifiers: "matches none of the policy values".
    let all_not = r#"{"ForAllValues:StringNotEquals":{"aws:TagKeys":["owner"]}}"#;
    assert_eq!(c(all_not, &tags), T);
    assert_eq!(c(all_not, &one_bad), F);
    let any_not = r#"{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["team"]}}"#;
    assert_eq!(c(any_not, &tags), T);
    assert_eq!(c(any_not, &ctx(&[("aws:TagKeys", &["team"])])), F);
    assert_eq!(c(any_not, &none), F);
    // No qualifier, multi-valued key: some value matches / none matches.
    assert_eq!(c(r#"{"StringEquals":{"aws:TagKeys":"env"}}"#, &tags), T);
    assert_eq!(c(r#"{"StringNotEquals":{"aws:TagKeys":"env"}}"#, &tags), F);
    assert_eq!(
        c(
            r#"{"ForAllValues:StringLike":{"aws:TagKeys":["t*","e*"]}}"#,
            &tags
        ),
        T
    );
}

#[test]
fn several_keys_and_operators_are_anded() {
    let both = ctx(&[
        ("aws:SourceVpc", &["vpc-1"]),
        ("aws:SourceAccount", &["111122223333"]),
    ]);
    let block = r#"{"StringEquals":{"aws:SourceVpc":"vpc-1","aws:SourceAccount":"111122223333"},"Bool":{"aws:SecureTransport":"true"}}"#;
    assert_eq!(c(block, &both), F, "SecureTransport missing");
    let mut all = both.clone();
    all.insert("aws:SecureTransport", ["true"]);
    assert_eq!(c(block, &all), T);
}

#[test]
fn numeric() {
    let n = ctx(&[("ecr:n", &["5"])]);
    assert_eq!(c(r#"{"NumericEquals":{"ecr:n":5}}"#, &n), T);
    assert_eq!(c(r#"{"NumericEquals":{"ecr:n":"5.0"}}"#, &n), T);
    assert_eq!(c(r#"{"NumericNotEquals":{"ecr:n":["4","5"]}}"#, &n), F);
    assert_eq!(c(r#"{"NumericNotEquals":{"ecr:n":["4","6"]}}"#, &n), T);
    assert_eq!(c(r#"{"NumericLessThan":{"ecr:n":"6"}}"#, &n), T);
    assert_eq!(c(r#"{"NumericLessThan":{"ecr:n":"5"}}"#, &n), F);
    assert_eq!(c(r#"{"NumericLessThanEquals":{"ecr:n":"5"}}"#, &n), T);
    assert_eq!(c(r#"{"NumericGreaterThan":{"ecr:n":"4.5"}}"#, &n), T);
    assert_eq!(c(r#"{"NumericGreaterThanEquals":{"ecr:n":"6"}}"#, &n), F);
    assert_eq!(
        c(r#"{"NumericEquals":{"ecr:n":"five"}}"#, &n),
        U,
        "malformed policy value"
    );
    assert_eq!(
        c(
            r#"{"NumericEquals":{"ecr:n":"5"}}"#,
            &ctx(&[("ecr:n", &["x"])])
        ),
        F
    );
    assert_eq!(
        c(
            r#"{"NumericLessThan":{"ecr:n":"5"}}"#,
            &RequestContext::new()
        ),
        F
    );
}

#[test]
fn dates() {
    let t = ctx(&[("aws:CurrentTime", &["2024-06-01T12:00:00Z"])]);
    assert_eq!(
        c(
            r#"{"DateLessThan":{"aws:CurrentTime":"2025-01-01T00:00:00Z"}}"#,
            &t
        ),
        T
    );
    assert_eq!(
        c(r#"{"DateLessThan":{"aws:CurrentTime":"2024-01-01"}}"#, &t),
        F
    );
    assert_eq!(
        c(
            r#"{"DateGreaterThan":{"aws:CurrentTime":"1700000000"}}"#,
            &t
        ),
        T
    );
    assert_eq!(
        c(
            r#"{"DateGreaterThanEquals":{"aws:CurrentTime":1717243200}}"#,
            &t
        ),
        T
    );
    assert_eq!(
        c(
            r#"{"DateEquals":{"aws:CurrentTime":"2024-06-01T14:00:00+02:00"}}"#,
            &t
        ),
        T
    );
    assert_eq!(
        c(
            r#"{"DateNotEquals":{"aws:CurrentTime":"2024-06-01T12:00:00Z"}}"#,
            &t
        ),
        F
    );
    assert_eq!(
        c(
            r#"{"DateLessThanEquals":{"aws:CurrentTime":"2024-06-01T12:00:00.000Z"}}"#,
            &t
        ),
        T
    );
    assert_eq!(
        c(r#"{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}"#, &t),
        U
    );
    let epoch = ctx(&[("aws:EpochTime", &["1717243200"])]);
    assert_eq!(
        c(
            r#"{"DateEquals":{"aws:EpochTime":"2024-06-01T12:00:00Z"}}"#,
            &epoch
        ),
        T
    );
}

#[test]
fn bool_and_quoted_bool() {
    let secure = ctx(&[("aws:SecureTransport", &["true"])]);
    assert_eq!(c(r#"{"Bool":{"aws:SecureTransport":true}}"#, &secure), T);
    assert_eq!(c(r#"{"Bool":{"aws:SecureTransport":"true"}}"#, &secure), T);
    assert_eq!(c(r#"{"Bool":{"aws:SecureTransport":"TRUE"}}"#, &secure), T);
    assert_eq!(c(r#"{"Bool":{"aws:SecureTransport":"false"}}"#, &secure), F);
    assert_eq!(c(r#"{"Bool":{"aws:SecureTransport":"yes"}}"#, &secure), U);
    assert_eq!(
        c(
            r#"{"Bool":{"aws:SecureTransport":"false"}}"#,
            &RequestContext::new()
        ),
        F
    );
    assert_eq!(
        c(
            r#"{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}"#,
            &RequestContext::new()
        ),
        T
    );
}

#[test]
fn binary() {
    let b = ctx(&[("k", &["aGVsbG8="])]);
    assert_eq!(c(r#"{"BinaryEquals":{"k":"aGVsbG8="}}"#, &b), T);
    assert_eq!(
        c(r#"{"BinaryEquals":{"k":"aGVsbG8"}}"#, &b),
        T,
        "padding is optional"
    );
    assert_eq!(c(r#"{"BinaryEquals":{"k":"d29ybGQ="}}"#, &b), F);
    assert_eq!(c(r#"{"BinaryEquals":{"k":"!!"}}"#, &b), U);
}

#[test]
fn ip_addresses() {
    let ip = ctx(&[("aws:SourceIp", &["203.0.113.7"])]);
    let ip6 = ctx(&[("aws:SourceIp", &["2001:db8::1"])]);
    assert_eq!(
        c(r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#, &ip),
        T
    );
    assert_eq!(
        c(
            r#"{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","203.0.113.7"]}}"#,
            &ip
        ),
        T
    );
    assert_eq!(c(r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#, &ip), F);
    assert_eq!(c(r#"{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}"#, &ip), T);
    assert_eq!(
        c(r#"{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#, &ip),
        F
    );
    assert_eq!(
        c(r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#, &ip),
        T
    );
    assert_eq!(
        c(
            r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            &RequestContext::new()
        ),
        T
    );
    assert_eq!(
        c(r#"{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}"#, &ip6),
        T
    );
    assert_eq!(
        c(r#"{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}"#, &ip),
        F
    );
    assert_eq!(c(r#"{"IpAddress":{"aws:SourceIp":"::/0"}}"#, &ip6), T);
    assert_eq!(c(r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}"#, &ip), U);
    assert_eq!(c(r#"{"IpAddress":{"aws:SourceIp":"not-an-ip"}}"#, &ip), U);
}

#[test]
fn arns() {
    let a = ctx(&[(
        "aws:PrincipalArn",
        &["arn:aws:iam::111122223333:role/ci/Builder"],
    )]);
    assert_eq!(
        c(
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/*"}}"#,
            &a
        ),
        T
    );
    assert_eq!(
        c(
            r#"{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/*"}}"#,
            &a
        ),
        T
    );
    assert_eq!(
        c(
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"}}"#,
            &a
        ),
        T
    );
    assert_eq!(
        c(
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::444455556666:*"}}"#,
            &a
        ),
        F
    );
    assert_eq!(
        c(
            r#"{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::444455556666:*"}}"#,
            &a
        ),
        T
    );
    assert_eq!(
        c(
            r#"{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/ci/Builder"}}"#,
            &a
        ),
        F
    );
    assert_eq!(
        c(r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*"}}"#, &a),
        U,
        "not six parts"
    );
    assert_eq!(c(r#"{"ArnLike":{"aws:PrincipalArn":"*"}}"#, &a), T);
}

#[test]
fn unknown_operator_is_unknown_not_true_or_false() {
    let org = ctx(&[("aws:PrincipalOrgID", &["o-abc"])]);
    assert_eq!(
        c(
            r#"{"StringEqualsAnything":{"aws:PrincipalOrgID":"o-abc"}}"#,
            &org
        ),
        U
    );
    // AND with a definitely-false condition is false; with a true one, unknown.
    assert_eq!(
        c(
            r#"{"StringEqualsAnything":{"k":"v"},"StringEquals":{"aws:PrincipalOrgID":"o-x"}}"#,
            &org
        ),
        F
    );
    assert_eq!(
        c(
            r#"{"StringEqualsAnything":{"k":"v"},"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}"#,
            &org
        ),
        U
    );
}

#[test]
fn policy_variables() {
    let alice = ctx(&[
        ("aws:username", &["alice"]),
        ("aws:PrincipalTag/team", &["blue"]),
    ]);
    let like = r#"{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}"#;
    let mut req = alice.clone();
    req.insert("s3:prefix", ["home/alice/x"]);
    assert_eq!(c(like, &req), T);
    req.insert("s3:prefix", ["home/bob/x"]);
    assert_eq!(c(like, &req), F);
    // Variable key absent from the request: cannot decide.
    let mut anon = RequestContext::new();
    anon.insert("s3:prefix", ["home/bob/x"]);
    assert_eq!(c(like, &anon), U);
    // 2008-10-17: the variable is literal text.
    assert_eq!(cond("2008-10-17", like, &req), F);
    let mut lit = RequestContext::new();
    lit.insert("s3:prefix", ["home/${aws:username}/x"]);
    assert_eq!(cond("2008-10-17", like, &lit), T);
    // Tag variables and defaults.
    let mut t = alice.clone();
    t.insert("aws:ResourceTag/team", ["blue"]);
    assert_eq!(
        c(
            r#"{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}"#,
            &t
        ),
        T
    );
    assert_eq!(
        c(
            r#"{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/nope, 'blue'}"}}"#,
            &t
        ),
        T
    );
}

#[test]
fn value_parsers() {
    use ecr_audit::policy::condition::{base64_decode, parse_cidr, parse_date, parse_number};
    assert_eq!(parse_number(" 42 "), Some(42.0));
    assert_eq!(parse_number("-1.5"), Some(-1.5));
    for bad in ["", "NaN", "inf", "1,000", "0x10", "e"] {
        assert_eq!(parse_number(bad), None, "{bad}");
    }
    let noon = parse_date("2024-06-01T12:00:00Z").unwrap();
    assert_eq!(parse_date("2024-06-01T12:00:00.000Z"), Some(noon));
    assert_eq!(
        parse_date("2024-06-01T12:00:00"),
        Some(noon),
        "no offset means UTC"
    );
    assert_eq!(parse_date("2024-06-01T08:00:00-04:00"), Some(noon));
    assert_eq!(parse_date("1717243200"), Some(noon));
    assert_eq!(parse_date("2024-06-01"), parse_date("2024-06-01T00:00:00Z"));
    for bad in ["", "yesterday", "2024-13-01", "99999999999999999999999"] {
        assert_eq!(parse_date(bad), None, "{bad}");
    }
    let net = parse_cidr("10.1.2.3/8").unwrap();
    assert!(
        net.contains("10.200.0.1".parse().unwrap()),
        "host bits are masked"
    );
    assert_eq!(parse_cidr("10.0.0.1").unwrap().prefix_len(), 32);
    assert_eq!(parse_cidr("::1").unwrap().prefix_len(), 128);
    assert!(parse_cidr("10.0.0.0/").is_none() && parse_cidr("/8").is_none());
    assert_eq!(base64_decode("aGk=").unwrap(), b"hi");
    assert_eq!(base64_decode("").unwrap(), b"");
    assert!(base64_decode("a").is_none() && base64_decode("a$==").is_none());
}
