//! Differential test: the Cedar authorizer on `cedar::translate(doc)` must
//! decide every concrete request exactly as the reference evaluator
//! `policy::eval::evaluate` does (Allow / ExplicitDeny / ImplicitDeny). The
//! reference's `Unknown` is skipped and counted.
//!
//! Documents come from a small grammar over principals (incl. NotPrincipal),
//! Action/NotAction wildcards, Resource/NotResource, and conditions of every
//! operator family with IfExists, set qualifiers and negation; requests hit
//! and miss the generated values on purpose. Policy variables with defaults
//! (`${aws:PrincipalTag/org, 'o-abc'}`) meet requests with the tag present
//! and absent; `aws:CurrentTime` / `aws:EpochTime` are compared (date and
//! numeric operators) with a reference time the request carries in both
//! keys; and keys an action's requests never carry (`aws:RequestTag/*`,
//! `aws:TagKeys` outside tagging and create calls) are absent, as
//! `policy::presence` says.
//!
//! `ECR_AUDIT_DIFF_CASES` (default 4000) sets the number of (document,
//! request) cases, `ECR_AUDIT_DIFF_SEED` the seed, and
//! `ECR_AUDIT_DIFF_VALIDATE=all` validates every generated translation
//! (default: one in ten). Long run:
//! `ECR_AUDIT_DIFF_CASES=1000000 cargo test --release --test it cedar_differential -- --nocapture`.
//!
//! Measured (release, 2 shared cores, seed 20261129): 1,000,000 cases over
//! 50,000 documents, 65,024 reference-Unknown skipped, 0 disagreements
//! (Allow 110,459 / ExplicitDeny 78,383 / ImplicitDeny 746,134), 171 s,
//! 5,851 cases/s. With variables with defaults, the reference time and key
//! presence in the generators (debug, seed 7): 30,000 cases over 1,500
//! documents, 2,016 reference-Unknown skipped, 0 disagreements (Allow 3,422
//! / ExplicitDeny 2,315 / ImplicitDeny 22,247).

use ecr_audit::cedar;
use ecr_audit::policy::eval::{evaluate, Decision, Request};
use ecr_audit::policy::{self, PolicyKind, RequestContext, RequestPrincipal};
use serde_json::{json, Value};
use std::time::Instant;

/// splitmix64: tiny, seedable, good enough to drive a grammar.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn some<T: Clone>(&mut self, items: &[T], max: usize) -> Vec<T> {
        let n = 1 + self.below(max);
        (0..n).map(|_| self.pick(items).clone()).collect()
    }
}

const POLICY_PRINCIPALS: [(&str, &str); 22] = [
    ("AWS", "*"),
    ("AWS", "111122223333"),
    ("AWS", "arn:aws:iam::111122223333:root"),
    ("AWS", "444455556666"),
    ("AWS", "arn:aws:iam::111122223333:user/alice"),
    ("AWS", "arn:aws:iam::111122223333:role/app"),
    ("AWS", "arn:aws:iam::111122223333:role/div/app"),
    ("AWS", "arn:aws:sts::111122223333:assumed-role/app/s1"),
    ("AWS", "arn:aws:iam::444455556666:role/app"),
    ("AWS", "arn:aws:sts::111122223333:federated-user/fed"),
    ("AWS", "arn:aws:iam::111122223333:role/ap*"),
    ("AWS", "AROAEXAMPLEEXAMPLE01"),
    ("AWS", "arn:aws:iam::111122223333:group/devs"),
    ("Service", "ecs-tasks.amazonaws.com"),
    ("Service", "EC2.amazonaws.com"),
    ("Service", "*.amazonaws.com"),
    ("Federated", "token.actions.githubusercontent.com"),
    ("Federated", "arn:aws:iam::111122223333:saml-provider/corp"),
    ("CanonicalUser", "79a59df900b949e55d96a1e698fbaced"),
    ("AWS", "arn:aws:iam::999988887777:root"),
    ("AWS", "arn:aws:sts::444455556666:assumed-role/app/s1"),
    ("AWS", "arn:aws:iam::111122223333:user/bob"),
];

const POLICY_ACTIONS: [&str; 17] = [
    "*",
    "ecr:*",
    "ecr:Get*",
    "ecr:BatchGetImage",
    "ECR:batchgetimage",
    "ecr:Put*",
    "ecr:?etAuthorizationToken",
    "ecr:*Layer*",
    "ecr:Describe*",
    "ecr:Batch*",
    "sts:AssumeRole",
    "sts:*",
    "sts:AssumeRole*",
    "s3:*",
    "iam:PassRole",
    "*:Get*",
    "ecr:SetRepositoryPolicy",
];

const POLICY_RESOURCES: [&str; 12] = [
    "*",
    "arn:aws:ecr:us-east-1:111122223333:repository/app",
    "arn:aws:ecr:*:111122223333:repository/*",
    "arn:aws:ecr:us-east-?:*:repository/app",
    "arn:aws:ecr:*:*:repository/team/*",
    "arn:aws:iam::111122223333:role/deploy",
    "arn:aws:ecr:us-east-2:111122223333:repository/${aws:username}",
    "arn:aws:ecr:*:repository/x",
    "arn:*:*:*:*:*",
    "arn:aws:ecr:*:444455556666:*",
    "arn:aws:ecr:us-east-1:111122223333:repository/*p*",
    "arn:aws:ecr:us-east-1:111122223333:repository/${*}",
];

/// Condition keys, the policy values they are compared with, and the request
/// values that hit and miss them.
struct Key {
    name: &'static str,
    policy: &'static [&'static str],
    request: &'static [&'static str],
    families: &'static [&'static str],
}

const STRING_OPS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringLike",
    "StringNotLike",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
];

/// Reference times a request carries as both `aws:CurrentTime` and
/// `aws:EpochTime` (the scan's `--as-of`): before, between and after the
/// policies' dates, and exactly on some.
const REFERENCE_TIMES: [i64; 5] = [
    1_700_000_000,
    1_704_067_200, // 2024-01-01T00:00:00Z
    1_709_251_200, // 2024-03-01T00:00:00Z
    1_710_000_000,
    1_800_000_000,
];

const KEYS: &[Key] = &[
    Key {
        name: "aws:PrincipalOrgID",
        policy: &[
            "o-abc",
            "o-*",
            "o-xyz",
            "O-ABC",
            "*",
            "${aws:PrincipalTag/org, 'o-abc'}",
            "${aws:PrincipalTag/org,'o-xyz'}",
            "${aws:PrincipalTag/org}",
        ],
        request: &["o-abc", "o-xyz", "o-other", "O-ABC"],
        families: STRING_OPS,
    },
    Key {
        name: "aws:username",
        policy: &[
            "alice",
            "bob",
            "al*",
            "a?ice",
            "${aws:PrincipalTag/team}",
            "${aws:PrincipalTag/team, 'alice'}",
            "${aws:RequestTag/team, 'bob'}",
        ],
        request: &["alice", "bob", "Alice", "al", "a*"],
        families: STRING_OPS,
    },
    Key {
        name: "aws:PrincipalTag/Team",
        policy: &["pay", "PAY", "pa*", "*y", "${aws:username}"],
        request: &["pay", "PAY", "payments", "alice", "x\"y"],
        families: STRING_OPS,
    },
    Key {
        name: "token.actions.githubusercontent.com:sub",
        policy: &[
            "repo:org/app:*",
            "repo:org/*",
            "repo:org/app:ref:refs/heads/main",
        ],
        request: &[
            "repo:org/app:ref:refs/heads/main",
            "repo:org/other:pull_request",
            "repo:evil/app:ref:refs/heads/main",
        ],
        families: &["StringEquals", "StringLike", "StringNotLike"],
    },
    Key {
        name: "aws:SourceIp",
        policy: &[
            "10.0.0.0/8",
            "192.168.1.1",
            "2001:db8::/32",
            "10.1.2.3/16",
            "0.0.0.0/0",
        ],
        request: &[
            "10.1.2.3",
            "192.168.1.1",
            "8.8.8.8",
            "2001:db8::1",
            "not-ip",
            "::ffff:10.0.0.1",
        ],
        families: &["IpAddress", "NotIpAddress"],
    },
    Key {
        name: "aws:MultiFactorAuthPresent",
        policy: &["true", "false", "True"],
        request: &["true", "false", "TRUE", "yes"],
        families: &["Bool"],
    },
    Key {
        name: "aws:MultiFactorAuthAge",
        policy: &["3600", "100", "-5", "3.5", "0"],
        request: &["100", "3600", "99.5", "abc", "1e3", "-5"],
        families: &[
            "NumericEquals",
            "NumericNotEquals",
            "NumericLessThan",
            "NumericLessThanEquals",
            "NumericGreaterThan",
            "NumericGreaterThanEquals",
        ],
    },
    Key {
        name: "aws:CurrentTime",
        policy: &[
            "2024-01-01T00:00:00Z",
            "2024-06-01",
            "1700000000",
            "2024-03-01T00:00:00.123Z",
        ],
        request: &[
            "2024-03-01T00:00:00Z",
            "2023-01-01",
            "1710000000",
            "2024-01-01T00:00:00.5Z",
            "2024-06-01T00:00:00+00:00",
            "garbage",
        ],
        families: &[
            "DateEquals",
            "DateNotEquals",
            "DateLessThan",
            "DateLessThanEquals",
            "DateGreaterThan",
            "DateGreaterThanEquals",
        ],
    },
    Key {
        name: "aws:SourceArn",
        policy: &[
            "arn:aws:ecr:*:111122223333:repository/*",
            "arn:aws:iam::111122223333:role/*",
            "*",
            "arn:aws:ecr:us-?ast-1:*:*",
            "arn:aws:iam::111122223333:role/app",
        ],
        request: &[
            "arn:aws:ecr:us-east-1:111122223333:repository/app",
            "arn:aws:iam::111122223333:role/app",
            "arn:aws:iam::444455556666:role/app",
            "arn:aws:ecr:us-east-1:1:111122223333:repository/x",
            "not-an-arn",
        ],
        families: &[
            "ArnEquals",
            "ArnLike",
            "ArnNotEquals",
            "ArnNotLike",
            "StringLike",
        ],
    },
    Key {
        name: "aws:TagKeys",
        policy: &["team", "env", "t*"],
        request: &["team", "env", "owner", "tier"],
        families: &[
            "StringEquals",
            "StringNotEquals",
            "StringLike",
            "StringNotLike",
        ],
    },
    Key {
        // Read by `${aws:PrincipalTag/org, 'default'}`: present or absent.
        name: "aws:PrincipalTag/org",
        policy: &["o-abc", "o-*"],
        request: &["o-abc", "o-xyz", "o-other"],
        families: STRING_OPS,
    },
    Key {
        name: "aws:EpochTime",
        policy: &[
            "1700000000",
            "1710000000",
            "1800000000",
            "2024-03-01T00:00:00Z",
        ],
        request: &["1700000000", "1710000000", "1799999999", "abc"],
        families: &[
            "NumericEquals",
            "NumericLessThan",
            "NumericGreaterThanEquals",
            "DateLessThan",
            "DateGreaterThan",
            "DateEquals",
        ],
    },
    Key {
        // Carried only by tagging and create calls (`policy::presence`).
        name: "aws:RequestTag/team",
        policy: &["pay", "pa*", "${aws:PrincipalTag/team, 'pay'}"],
        request: &["pay", "web"],
        families: STRING_OPS,
    },
    Key {
        name: "aws:SecureTransport",
        policy: &["false", "true"],
        request: &["false", "true"],
        families: &["Bool", "StringEquals"],
    },
    Key {
        name: "ecr:ResourceTag/Blob",
        policy: &["aGVsbG8=", "d29ybGQ="],
        request: &["aGVsbG8=", "aGVsbG8", "bad!"],
        families: &["BinaryEquals"],
    },
];

fn condition_block(rng: &mut Rng) -> Value {
    let mut block = serde_json::Map::new();
    for _ in 0..1 + rng.below(2) {
        let key = rng.pick(KEYS);
        let (op, values): (String, Vec<String>) = if rng.chance(8) {
            let v = if rng.chance(90) { "true" } else { "maybe" };
            ("Null".into(), vec![v.into()])
        } else if rng.chance(2) {
            ("StringFrobnicate".into(), vec!["x".into()])
        } else {
            // Mostly the key's own families, sometimes any family.
            let fam = if rng.chance(90) {
                (*rng.pick(key.families)).to_owned()
            } else {
                let k2 = rng.pick(KEYS);
                (*rng.pick(k2.families)).to_owned()
            };
            let mut op = String::new();
            match rng.below(6) {
                0 => op.push_str("ForAnyValue:"),
                1 => op.push_str("ForAllValues:"),
                _ => {}
            }
            op.push_str(&fam);
            if rng.chance(20) {
                op.push_str("IfExists");
            }
            if rng.chance(10) {
                op = op.to_ascii_lowercase();
            }
            let values = rng
                .some(key.policy, 3)
                .into_iter()
                .map(str::to_owned)
                .collect();
            (op, values)
        };
        let key_name = if rng.chance(15) {
            key.name.to_ascii_uppercase()
        } else {
            key.name.to_owned()
        };
        let entry = block
            .entry(op)
            .or_insert_with(|| Value::Object(Default::default()));
        let v = if values.len() == 1 && rng.chance(50) {
            json!(values[0])
        } else {
            json!(values)
        };
        if let Value::Object(m) = entry {
            m.insert(key_name, v);
        }
    }
    Value::Object(block)
}

fn principal_element(rng: &mut Rng) -> Value {
    if rng.chance(10) {
        return json!("*");
    }
    let mut m = serde_json::Map::new();
    for (ty, v) in rng.some(&POLICY_PRINCIPALS, 3) {
        let e = m.entry(ty).or_insert_with(|| json!([]));
        if let Value::Array(a) = e {
            a.push(json!(v));
        }
    }
    Value::Object(m)
}

fn document(rng: &mut Rng) -> (PolicyKind, String) {
    let kind = *rng.pick(&[
        PolicyKind::Resource,
        PolicyKind::Identity,
        PolicyKind::Trust,
    ]);
    let mut statements = Vec::new();
    for i in 0..1 + rng.below(3) {
        let mut st = serde_json::Map::new();
        if rng.chance(50) {
            st.insert("Sid".into(), json!(format!("S{i}")));
        }
        let effect = if rng.chance(60) { "Allow" } else { "Deny" };
        st.insert("Effect".into(), json!(effect));
        if kind != PolicyKind::Identity {
            let key = if rng.chance(20) {
                "NotPrincipal"
            } else {
                "Principal"
            };
            st.insert(key.into(), principal_element(rng));
        }
        let key = if rng.chance(20) {
            "NotAction"
        } else {
            "Action"
        };
        st.insert(key.into(), json!(rng.some(&POLICY_ACTIONS, 3)));
        if kind == PolicyKind::Identity || rng.chance(60) {
            let key = if rng.chance(20) {
                "NotResource"
            } else {
                "Resource"
            };
            st.insert(key.into(), json!(rng.some(&POLICY_RESOURCES, 2)));
        }
        if rng.chance(60) {
            st.insert("Condition".into(), condition_block(rng));
        }
        statements.push(Value::Object(st));
    }
    let mut doc = serde_json::Map::new();
    match rng.below(5) {
        0 => {}
        1 => {
            doc.insert("Version".into(), json!("2008-10-17"));
        }
        _ => {
            doc.insert("Version".into(), json!("2012-10-17"));
        }
    }
    doc.insert("Statement".into(), Value::Array(statements));
    (kind, Value::Object(doc).to_string())
}

const REQUEST_PRINCIPALS: [&str; 10] = [
    "111122223333",
    "444455556666",
    "arn:aws:iam::111122223333:user/alice",
    "arn:aws:iam::111122223333:role/app",
    "arn:aws:iam::111122223333:role/div/app",
    "arn:aws:sts::111122223333:assumed-role/app/s1",
    "arn:aws:sts::111122223333:assumed-role/app/s2",
    "arn:aws:iam::444455556666:role/app",
    "arn:aws:sts::444455556666:assumed-role/app/s1",
    "arn:aws:sts::111122223333:federated-user/fed",
];

const REQUEST_ACTIONS: [&str; 13] = [
    "ecr:BatchGetImage",
    "ecr:TagResource",
    "ecr:CreateRepository",
    "ecr:UntagResource",
    "ECR:batchGetImage",
    "ecr:PutImage",
    "ecr:GetAuthorizationToken",
    "ecr:SetRepositoryPolicy",
    "ecr:DescribeRepositories",
    "ecr:UploadLayerPart",
    "sts:AssumeRole",
    "sts:AssumeRoleWithWebIdentity",
    "sts:TagSession",
];

const REQUEST_RESOURCES: [&str; 6] = [
    "arn:aws:ecr:us-east-1:111122223333:repository/app",
    "arn:aws:ecr:eu-west-1:444455556666:repository/team/web",
    "arn:aws:ecr:us-east-2:111122223333:repository/alice",
    "arn:aws:iam::111122223333:role/deploy",
    "arn:aws:ecr:us-east-1:111122223333:repository/*",
    "arn:aws:ecr:us-east-1:111122223333:repository/${aws:username}",
];

/// (key, values) of every condition of the document: requests reuse them so
/// that conditions are satisfied often enough for Allow to be common.
fn policy_values(doc: &policy::PolicyDocument) -> Vec<(String, Vec<String>)> {
    doc.statements
        .iter()
        .flat_map(|s| s.conditions.iter())
        .map(|c| {
            (
                c.key.raw.clone(),
                c.values.iter().map(|v| v.value.clone()).collect(),
            )
        })
        .collect()
}

/// Schema actions some statement of the document covers.
fn policy_actions(doc: &policy::PolicyDocument) -> Vec<&'static str> {
    cedar::schema::all_actions()
        .iter()
        .copied()
        .filter(|a| {
            doc.statements
                .iter()
                .any(|s| policy::actions::element_matches(&s.action, a))
        })
        .collect()
}

fn request(rng: &mut Rng, hits: &[(String, Vec<String>)], actions: &[&str]) -> Request {
    let principal = match rng.below(14) {
        0 => RequestPrincipal::Service(
            rng.pick(&["ecs-tasks.amazonaws.com", "ec2.amazonaws.com"])
                .to_string(),
        ),
        1 => RequestPrincipal::Federated(
            rng.pick(&[
                "token.actions.githubusercontent.com",
                "arn:aws:iam::111122223333:saml-provider/corp",
            ])
            .to_string(),
        ),
        2 => RequestPrincipal::CanonicalUser("79a59df900b949e55d96a1e698fbaced".into()),
        3 => RequestPrincipal::Anonymous,
        _ => {
            let arn: &&str = rng.pick(&REQUEST_PRINCIPALS);
            RequestPrincipal::from_arn(arn).expect("principal")
        }
    };
    let action = if !actions.is_empty() && rng.chance(50) {
        rng.pick(actions).to_string()
    } else {
        rng.pick(&REQUEST_ACTIONS).to_string()
    };
    // Keys a request for this action never carries stay absent (tags come
    // only with tagging and create calls, resource tags only with calls on
    // a repository).
    let carried = |k: &str| !policy::presence::key_absent(&action, &k.to_ascii_lowercase());
    let mut context = RequestContext::new();
    for key in KEYS {
        if rng.chance(40) || !carried(key.name) {
            continue;
        }
        let n = match rng.below(10) {
            0 => 0,
            1 | 2 => 2 + rng.below(2),
            _ => 1,
        };
        let values: Vec<String> = (0..n).map(|_| rng.pick(key.request).to_string()).collect();
        context.insert(key.name, values);
    }
    for (key, values) in hits {
        if rng.chance(50) && carried(key) {
            let n = 1 + rng.below(2);
            let v: Vec<String> = (0..n).map(|_| rng.pick(values).clone()).collect();
            context.insert(key, v);
        }
    }
    // Mostly the clock is the reference time, in both keys.
    if rng.chance(70) {
        let t = *rng.pick(&REFERENCE_TIMES);
        let rfc = time::OffsetDateTime::from_unix_timestamp(t)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        context.insert("aws:CurrentTime", [rfc]);
        context.insert("aws:EpochTime", [t.to_string()]);
    }
    Request {
        principal,
        action,
        resource: rng.pick(&REQUEST_RESOURCES).to_string(),
        context,
    }
}

#[test]
fn cedar_agrees_with_reference_evaluator() {
    let cases: u64 = std::env::var("ECR_AUDIT_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4000);
    let seed: u64 = std::env::var("ECR_AUDIT_DIFF_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x00EC_4A0D_17ED);
    let validate_all = std::env::var("ECR_AUDIT_DIFF_VALIDATE").is_ok_and(|v| v == "all");
    let requests_per_doc = 20;
    let mut rng = Rng(seed);
    let (mut done, mut unknown, mut unparsed, mut docs) = (0u64, 0u64, 0u64, 0u64);
    let mut by_decision = [0u64; 3];
    let mut failures = Vec::new();
    let start = Instant::now();
    // translate, validate, reference, cedar (request + authorize)
    let mut timers = [std::time::Duration::ZERO; 4];
    while done < cases {
        let (kind, text) = document(&mut rng);
        let Ok(doc) = policy::parse(&text, kind) else {
            unparsed += 1;
            continue;
        };
        docs += 1;
        let t0 = Instant::now();
        let t = cedar::translate(&doc);
        let t1 = Instant::now();
        // Strict validation costs more than everything else here (a policy
        // over all actions is typechecked once per action and principal
        // type); the corpus test validates every shape, so sample it.
        let validated = if validate_all || docs % 10 == 1 {
            cedar::validate(&t)
        } else {
            Ok(())
        };
        timers[0] += t1 - t0;
        timers[1] += t1.elapsed();
        if let Err(e) = validated {
            failures.push(format!(
                "validation: {e:?}\n{text}\n{}",
                cedar::explain(&doc)
            ));
        }
        let hits = policy_values(&doc);
        let actions = policy_actions(&doc);
        for _ in 0..requests_per_doc {
            if done >= cases {
                break;
            }
            done += 1;
            let req = request(&mut rng, &hits, &actions);
            let t0 = Instant::now();
            let reference = evaluate(&[&doc], &req);
            timers[2] += t0.elapsed();
            if reference == Decision::Unknown {
                unknown += 1;
                continue;
            }
            let t0 = Instant::now();
            let got = t.authorize(&req);
            timers[3] += t0.elapsed();
            by_decision[match reference {
                Decision::Allow => 0,
                Decision::ExplicitDeny => 1,
                _ => 2,
            }] += 1;
            if got.as_ref() != Ok(&reference) && failures.len() < 5 {
                failures.push(format!(
                    "reference {reference:?}, cedar {got:?}\npolicy ({kind:?}): {text}\nrequest: {req:?}\n{}",
                    cedar::explain(&doc)
                ));
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "differential: {done} cases ({unknown} reference-Unknown skipped; Allow {}, ExplicitDeny {}, ImplicitDeny {}) over {docs} documents ({unparsed} generated documents did not parse), seed {seed}, {:.1} s, {:.0} cases/s",
        by_decision[0],
        by_decision[1],
        by_decision[2],
        secs,
        done as f64 / secs
    );
    eprintln!(
        "time: translate {:.1} s, validate {:.1} s, reference {:.1} s, cedar {:.1} s",
        timers[0].as_secs_f64(),
        timers[1].as_secs_f64(),
        timers[2].as_secs_f64(),
        timers[3].as_secs_f64()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n-----\n\n"));
}
