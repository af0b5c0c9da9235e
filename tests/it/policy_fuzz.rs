//! Robustness: no input makes the parser or the matchers panic.

use ecr_audit::policy::pattern::{
    arn_match, glob_match, glob_match_ignore_case, string_match, StringMode,
};
use ecr_audit::policy::{parse, PolicyKind, RequestContext};
use proptest::prelude::*;

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        any::<f64>().prop_map(|f| serde_json::json!(f)),
        prop_oneof![
            Just("*".to_string()),
            Just("Allow".to_string()),
            Just("Deny".to_string()),
            Just("ecr:*".to_string()),
            Just("arn:aws:iam::111122223333:root".to_string()),
            Just("${aws:username}".to_string()),
            Just("".to_string()),
            ".{0,12}",
        ]
        .prop_map(serde_json::Value::String),
    ];
    let key = prop_oneof![
        Just("Version".to_string()),
        Just("Statement".to_string()),
        Just("Effect".to_string()),
        Just("Principal".to_string()),
        Just("NotPrincipal".to_string()),
        Just("Action".to_string()),
        Just("NotAction".to_string()),
        Just("Resource".to_string()),
        Just("Condition".to_string()),
        Just("AWS".to_string()),
        Just("Service".to_string()),
        Just("StringLike".to_string()),
        Just("ForAllValues:StringEquals".to_string()),
        ".{0,6}",
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn kind() -> impl Strategy<Value = PolicyKind> {
    prop_oneof![
        Just(PolicyKind::Identity),
        Just(PolicyKind::Resource),
        Just(PolicyKind::Trust)
    ]
}

proptest! {
    #[test]
    fn parser_never_panics_on_json(v in json_value(), k in kind()) {
        let text = v.to_string();
        if let Ok(doc) = parse(&text, k) {
            // Exercise everything downstream too.
            let _ = doc.unsupported();
            let ctx = RequestContext::new().with("aws:username", ["a"]);
            let req = ecr_audit::policy::eval::Request {
                principal: ecr_audit::policy::RequestPrincipal::Anonymous,
                action: "ecr:BatchGetImage".into(),
                resource: "arn:aws:ecr:us-east-1:111122223333:repository/x".into(),
                context: ctx,
            };
            let _ = ecr_audit::policy::eval::evaluate(&[&doc], &req);
        }
    }

    #[test]
    fn parser_never_panics_on_text(s in ".{0,200}", k in kind()) {
        let _ = parse(&s, k);
    }

    #[test]
    fn matchers_never_panic(p in "[a-z*?:${}/,' ]{0,24}", v in ".{0,24}") {
        let _ = glob_match(&p, &v);
        let _ = glob_match_ignore_case(&p, &v);
        let ctx = RequestContext::new().with("aws:username", ["*"]);
        for mode in [StringMode::Exact, StringMode::IgnoreCase, StringMode::Like] {
            let _ = string_match(mode, &p, &v, true, Some(&ctx));
            let _ = string_match(mode, &p, &v, false, None);
        }
        let _ = arn_match(&p, &v, true, Some(&ctx));
        let _ = arn_match(&p, &v, true, None);
    }

    #[test]
    fn star_matches_everything(v in ".{0,40}") {
        prop_assert!(glob_match("*", &v));
        prop_assert!(glob_match_ignore_case("*", &v));
    }
}

#[test]
fn huge_arrays_and_patterns() {
    let actions: Vec<String> = (0..50_000).map(|i| format!("ecr:Action{i}")).collect();
    let text =
        serde_json::json!({"Statement":[{"Effect":"Allow","Principal":"*","Action":actions}]})
            .to_string();
    let d = parse(&text, PolicyKind::Resource).unwrap();
    assert_eq!(d.statements[0].action.patterns.len(), 50_000);
    let p = "*a".repeat(2_000);
    let v = "a".repeat(4_000) + "b";
    assert!(!glob_match(&p, &v));
}

#[test]
fn huge_object_duplicate_check_is_fast() {
    let members: Vec<String> = (0..200_000).map(|i| format!("\"k{i}\":\"v\"")).collect();
    let text = format!(
        r#"{{"Statement":[{{"Effect":"Allow","Principal":"*","Action":"*","Condition":{{"StringEquals":{{{}}}}}}}]}}"#,
        members.join(",")
    );
    let start = std::time::Instant::now();
    let d = parse(&text, PolicyKind::Resource).unwrap();
    assert_eq!(d.statements[0].conditions.len(), 200_000);
    assert!(start.elapsed().as_secs() < 20);
}
