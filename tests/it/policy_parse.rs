//! Parser tests: every shape IAM accepts, and precise errors for the rest.

use ecr_audit::policy::{
    parse, Effect, Operator, OperatorFamily, OriginalType, PolicyErrorKind, PolicyKind, Principal,
    PrincipalType, SetQualifier, Version,
};

const RES: PolicyKind = PolicyKind::Resource;
const ID: PolicyKind = PolicyKind::Identity;
const TRUST: PolicyKind = PolicyKind::Trust;

fn err(text: &str, kind: PolicyKind) -> ecr_audit::policy::PolicyError {
    parse(text, kind).expect_err("expected a parse error")
}

#[test]
fn single_object_statement_and_strings() {
    let d = parse(
        r#"{"Version":"2012-10-17","Statement":{"Sid":"PublicPull","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}}"#,
        RES,
    )
    .unwrap();
    assert!(!d.statement_was_array);
    assert_eq!(d.version, Some(Version::V2012_10_17));
    let s = &d.statements[0];
    assert_eq!(s.effect, Effect::Allow);
    assert_eq!(s.reference().to_string(), "statement 1 (Sid PublicPull)");
    let p = s.principal.as_ref().unwrap();
    assert!(p.bare_star && !p.negated);
    assert_eq!(p.entries[0].principal, Principal::AnyAws);
    assert_eq!(s.action.patterns, ["ecr:BatchGetImage"]);
    assert!(s.resource.is_none());
}

#[test]
fn principal_shapes() {
    let d = parse(
        r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":["123456789012","arn:aws:iam::444455556666:root","arn:aws:iam::444455556666:role/ci/Builder","arn:aws:sts::444455556666:assumed-role/Builder/s1","*","AROAEXAMPLEEXAMPLE123","arn:aws:iam::444455556666:role/*"],"Service":"Ecs-Tasks.amazonaws.com","Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com","CanonicalUser":"79a59df900b949e55d96a1e698fbaced"},"Action":["ecr:*"]}]}"#,
        RES,
    )
    .unwrap();
    assert_eq!(d.version, None);
    let e = &d.statements[0].principal.as_ref().unwrap().entries;
    assert_eq!(e[0].principal, Principal::Account("123456789012".into()));
    assert_eq!(e[1].principal, Principal::Account("444455556666".into()));
    match &e[2].principal {
        Principal::Iam(arn) => {
            assert_eq!(arn.name, "Builder");
            assert_eq!(arn.path, "/ci/");
            assert_eq!(arn.account, "444455556666");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(&e[3].principal, Principal::Iam(a) if a.name == "Builder"));
    assert_eq!(e[4].principal, Principal::AnyAws);
    assert!(matches!(e[5].principal, Principal::UniqueId(_)));
    assert!(matches!(e[6].principal, Principal::Unrecognized(_)));
    assert_eq!(
        e[7].principal,
        Principal::Service("ecs-tasks.amazonaws.com".into())
    );
    assert_eq!(e[7].principal_type, PrincipalType::Service);
    assert!(matches!(e[8].principal, Principal::Federated(_)));
    assert!(matches!(e[9].principal, Principal::CanonicalUser(_)));
    assert_eq!(d.unsupported().len(), 1);
}

#[test]
fn conditions_and_operators() {
    let d = parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","NotAction":"ecr:Get*","NotResource":["arn:aws:ecr:*:*:repository/x"],
        "Condition":{"stringnotequalsifexists":{"AWS:PrincipalOrgID":"o-abc"},
                     "ForAllValues:StringLike":{"aws:TagKeys":["a*","b"]},
                     "Bool":{"aws:SecureTransport":false},
                     "NumericLessThan":{"s3:max-keys":10},
                     "Null":{"aws:x":"true"},
                     "StringEqualsAnyCase":{"k":"v"}}}]}"#,
        RES,
    )
    .unwrap();
    let s = &d.statements[0];
    assert!(s.action.negated && s.resource.as_ref().unwrap().negated);
    let c = &s.conditions;
    assert_eq!(c.len(), 6);
    let k = c[0].operator.known().unwrap();
    assert_eq!(k.family, OperatorFamily::StringNotEquals);
    assert!(k.if_exists && k.set.is_none());
    assert_eq!(c[0].key.raw, "AWS:PrincipalOrgID");
    assert_eq!(c[0].key.lower, "aws:principalorgid");
    let k = c[1].operator.known().unwrap();
    assert_eq!(
        (k.family, k.set),
        (OperatorFamily::StringLike, Some(SetQualifier::ForAllValues))
    );
    assert_eq!(c[1].values.len(), 2);
    assert_eq!(c[2].values[0].value, "false");
    assert_eq!(c[2].values[0].original, OriginalType::Bool);
    assert_eq!(c[3].values[0].value, "10");
    assert_eq!(c[3].values[0].original, OriginalType::Number);
    assert_eq!(
        c[5].operator,
        Operator::Unknown("StringEqualsAnyCase".into())
    );
    let u = d.unsupported();
    assert_eq!(u.len(), 1);
    assert_eq!(
        u[0].to_string(),
        "unknown condition operator StringEqualsAnyCase in statement 1"
    );
    assert!(matches!(
        Operator::parse("NullIfExists"),
        Operator::Unknown(_)
    ));
    assert!(matches!(
        Operator::parse("ForAnyValue:Null"),
        Operator::Unknown(_)
    ));
    assert!(matches!(
        Operator::parse("ForAnyValue:StringEquals"),
        Operator::Known(_)
    ));
}

#[test]
fn versions() {
    let p = |v: &str| parse(&format!(r#"{{"Version":"{v}","Statement":[]}}"#), ID);
    assert!(p("2012-10-17").unwrap().variables_enabled());
    assert!(!p("2008-10-17").unwrap().variables_enabled());
    assert_eq!(
        p("2020-01-01").unwrap_err().kind,
        PolicyErrorKind::InvalidValue
    );
}

#[test]
fn invalid_json_has_position() {
    let e = err(
        "{\n  \"Statement\": [\n    {\"Effect\": \"Allow\",}\n  ]\n}",
        RES,
    );
    match e.kind {
        PolicyErrorKind::InvalidJson { line, column } => {
            assert_eq!(line, 3);
            assert!(column > 0);
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("line 3"));
    assert_eq!(
        err("", RES).kind,
        PolicyErrorKind::InvalidJson { line: 1, column: 0 }
    );
}

#[test]
fn structural_errors() {
    let cases: &[(&str, PolicyKind, PolicyErrorKind, &str)] = &[
        ("[]", RES, PolicyErrorKind::NotAnObject, "document"),
        (
            r#"{"Version":"2012-10-17"}"#,
            RES,
            PolicyErrorKind::MissingElement,
            "element Statement",
        ),
        (
            r#"{"Statement":[{"Sid":"A","Effect":"Permit","Principal":"*","Action":"*"}]}"#,
            RES,
            PolicyErrorKind::InvalidValue,
            "statement 1 (Sid A), element Effect",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","NotAction":"x"}]}"#,
            RES,
            PolicyErrorKind::ConflictingElements,
            "element Action",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*"}]}"#,
            RES,
            PolicyErrorKind::MissingElement,
            "element Action",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Action":"*"}]}"#,
            RES,
            PolicyErrorKind::MissingElement,
            "element Principal",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Action":"*"}]}"#,
            TRUST,
            PolicyErrorKind::MissingElement,
            "element Principal",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#,
            ID,
            PolicyErrorKind::UnexpectedElement,
            "statement 2, element Principal",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Action":"*"}]}"#,
            ID,
            PolicyErrorKind::MissingElement,
            "element Resource",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":5}]}"#,
            RES,
            PolicyErrorKind::WrongType,
            "element Action",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":["a",["b"]]}]}"#,
            RES,
            PolicyErrorKind::WrongType,
            "element Action",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":123456789012},"Action":"*"}]}"#,
            RES,
            PolicyErrorKind::WrongType,
            "element Principal.AWS",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":{"aws":"*"},"Action":"*"}]}"#,
            RES,
            PolicyErrorKind::UnexpectedElement,
            "Principal.aws",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":{},"Action":"*"}]}"#,
            RES,
            PolicyErrorKind::InvalidValue,
            "element Principal",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"arn:aws:iam::1:root","Action":"*"}]}"#,
            RES,
            PolicyErrorKind::InvalidValue,
            "element Principal",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"StringEquals":{"k":null}}}]}"#,
            RES,
            PolicyErrorKind::WrongType,
            "Condition.StringEquals.k",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"StringEquals":"x"}}]}"#,
            RES,
            PolicyErrorKind::WrongType,
            "Condition.StringEquals",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","condition":{}}]}"#,
            RES,
            PolicyErrorKind::UnexpectedElement,
            "element condition",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","NotResource":"*"}]}"#,
            RES,
            PolicyErrorKind::ConflictingElements,
            "element Resource",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"*"}]}"#,
            RES,
            PolicyErrorKind::ConflictingElements,
            "element Principal",
        ),
        (
            r#"{"Statement":"x"}"#,
            RES,
            PolicyErrorKind::WrongType,
            "element Statement",
        ),
        (
            r#"{"Statement":[1]}"#,
            RES,
            PolicyErrorKind::WrongType,
            "statement 1",
        ),
        (
            r#"{"Statement":[],"Extra":1}"#,
            RES,
            PolicyErrorKind::UnexpectedElement,
            "element Extra",
        ),
        (
            r#"{"Statement":[{"Sid":7,"Effect":"Allow","Principal":"*","Action":"*"}]}"#,
            RES,
            PolicyErrorKind::WrongType,
            "element Sid",
        ),
    ];
    for (text, kind, expected, loc) in cases {
        let e = err(text, *kind);
        assert_eq!(&e.kind, expected, "{text}: {e}");
        assert!(
            e.to_string().contains(loc),
            "{text}: '{e}' should name '{loc}'"
        );
    }
}

#[test]
fn duplicate_keys_are_rejected() {
    let e = err(
        r#"{"Statement":[{"Effect":"Deny","Effect":"Allow","Principal":"*","Action":"*"}]}"#,
        RES,
    );
    assert_eq!(e.kind, PolicyErrorKind::DuplicateKey);
    assert!(e.to_string().contains("statement 1, element Effect"), "{e}");
    let e = err(
        r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Action":"x"}}"#,
        RES,
    );
    assert!(e.to_string().contains("statement 1, element Action"), "{e}");
    let e = err(
        r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1","aws:PrincipalOrgID":"*"}}}]}"#,
        RES,
    );
    assert_eq!(e.kind, PolicyErrorKind::DuplicateKey);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(matches!(
        err(&deep, RES).kind,
        PolicyErrorKind::InvalidJson { .. }
    ));
    let deep_obj = format!(
        r#"{{"Statement":[{{"Effect":"Allow","Principal":"*","Action":"*","Condition":{}1{}}}]}}"#,
        r#"{"a":"#.repeat(200),
        "}".repeat(200)
    );
    assert!(parse(&deep_obj, RES).is_err());
}

#[test]
fn parse_value_matches_parse() {
    let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"ecr:*"}]}"#;
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(
        ecr_audit::policy::parse_value(&v, RES).unwrap(),
        parse(text, RES).unwrap()
    );
}
