//! Well-typed IAM policies for the structured fuzz target: `arbitrary` picks
//! the shape (statements, effects, principals, actions, resources, condition
//! operators, keys and values mostly from the vocabulary the analysis knows),
//! and `render` writes it as the JSON text a policy arrives as.

use arbitrary::Arbitrary;
use serde_json::{json, Map, Value};

const ACTIONS: &[&str] = &[
    "*",
    "ecr:*",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchCheckLayerAvailability",
    "ecr:PutImage",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:GetAuthorizationToken",
    "ecr:SetRepositoryPolicy",
    "ecr:DeleteRepository",
    "ecr:Get*",
    "ecr:*Image*",
    "ecr:List?mages",
    "s3:GetObject",
    "sts:AssumeRole",
    "sts:AssumeRoleWithWebIdentity",
    "sts:TagSession",
    "iam:PassRole",
];

const PRINCIPALS: &[&str] = &[
    "*",
    "111122223333",
    "999988887777",
    "123456789012",
    "arn:aws:iam::111122223333:root",
    "arn:aws:iam::444455556666:root",
    "arn:aws:iam::999988887777:role/ci",
    "arn:aws:iam::123456789012:user/bob",
    "arn:aws:sts::123456789012:assumed-role/r/s",
    "arn:aws:iam::*:root",
    "AIDAEXAMPLEUSERID",
];

const SERVICES: &[&str] = &[
    "codebuild.amazonaws.com",
    "lambda.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "*",
];

const FEDERATED: &[&str] = &[
    "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com",
    "accounts.google.com",
    "cognito-identity.amazonaws.com",
    "arn:aws:iam::111122223333:saml-provider/idp",
];

const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:ecr:us-east-1:111122223333:repository/app",
    "arn:aws:ecr:us-east-1:111122223333:repository/*",
    "arn:aws:ecr:*:*:repository/*",
    "arn:aws:ecr:us-east-1:111122223333:repository/${aws:username}",
    "arn:aws:iam::111122223333:role/pusher",
];

const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "NumericEquals",
    "NumericLessThan",
    "NumericGreaterThanEquals",
    "DateLessThan",
    "DateGreaterThan",
    "DateEquals",
    "Bool",
    "IpAddress",
    "NotIpAddress",
    "Null",
    "BinaryEquals",
    "StringEqualsIfNotThere",
];

const KEYS: &[&str] = &[
    "aws:PrincipalOrgID",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceVpce",
    "aws:SourceIp",
    "aws:userid",
    "aws:username",
    "aws:SecureTransport",
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:PrincipalTag/team",
    "aws:ResourceTag/team",
    "aws:RequestTag/team",
    "aws:TagKeys",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalIsAWSService",
    "aws:PrincipalServiceName",
    "aws:CalledVia",
    "aws:ViaAWSService",
    "ecr:ResourceTag/team",
    "sts:ExternalId",
    "token.actions.githubusercontent.com:sub",
    "token.actions.githubusercontent.com:aud",
    "accounts.google.com:aud",
    "kms:ViaService",
];

const VALUES: &[&str] = &[
    "*",
    "?",
    "",
    "o-a1b2c3d4e5",
    "o-*",
    "o-other",
    "111122223333",
    "999988887777",
    "1111222233*",
    "arn:aws:iam::111122223333:*",
    "arn:aws:iam::*:role/*",
    "vpce-0123456789abcdef0",
    "vpce-*",
    "10.0.0.0/8",
    "0.0.0.0/0",
    "::/0",
    "true",
    "false",
    "2025-01-01T00:00:00Z",
    "2027-06-30T12:00:00Z",
    "1767225600",
    "repo:org/app:ref:refs/heads/main",
    "repo:org/*",
    "sts.amazonaws.com",
    "${aws:username}",
    "${aws:PrincipalTag/team}",
    "${*}",
    "${?}",
    "${$}",
    "AIDA*:*",
    "ecr.amazonaws.com",
];

fn pick(list: &[&'static str], i: u8) -> &'static str {
    list[usize::from(i) % list.len()]
}

/// A string: mostly one of the known ones, sometimes any short text.
#[derive(Debug, Arbitrary)]
pub enum Text {
    Known(u8),
    Joined(u8, u8),
    Other(String),
}

impl Text {
    fn render(&self, list: &[&'static str]) -> String {
        match self {
            Text::Known(i) => pick(list, *i).to_string(),
            Text::Joined(a, b) => format!("{}{}", pick(list, *a), pick(VALUES, *b)),
            Text::Other(s) => s.chars().take(64).collect(),
        }
    }
}

/// One value or a list of them (IAM accepts both forms).
#[derive(Debug, Arbitrary)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

fn one_or_many<T>(v: &OneOrMany<T>, f: impl Fn(&T) -> Value) -> Value {
    match v {
        OneOrMany::One(x) => f(x),
        OneOrMany::Many(xs) => Value::Array(xs.iter().take(8).map(f).collect()),
    }
}

#[derive(Debug, Arbitrary)]
pub enum Effect {
    Allow,
    Deny,
    Other(Text),
}

#[derive(Debug, Arbitrary)]
pub enum PrincipalSpec {
    Star,
    Aws(OneOrMany<Text>),
    Service(OneOrMany<Text>),
    Federated(OneOrMany<Text>),
    CanonicalUser(Text),
    Mixed(OneOrMany<Text>, OneOrMany<Text>),
}

impl PrincipalSpec {
    fn render(&self) -> Value {
        let map = |pairs: Vec<(&str, Value)>| {
            Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
        };
        match self {
            PrincipalSpec::Star => json!("*"),
            PrincipalSpec::Aws(v) => map(vec![(
                "AWS",
                one_or_many(v, |t| json!(t.render(PRINCIPALS))),
            )]),
            PrincipalSpec::Service(v) => map(vec![(
                "Service",
                one_or_many(v, |t| json!(t.render(SERVICES))),
            )]),
            PrincipalSpec::Federated(v) => map(vec![(
                "Federated",
                one_or_many(v, |t| json!(t.render(FEDERATED))),
            )]),
            PrincipalSpec::CanonicalUser(t) => {
                map(vec![("CanonicalUser", json!(t.render(VALUES)))])
            }
            PrincipalSpec::Mixed(a, s) => map(vec![
                ("AWS", one_or_many(a, |t| json!(t.render(PRINCIPALS)))),
                ("Service", one_or_many(s, |t| json!(t.render(SERVICES)))),
            ]),
        }
    }
}

#[derive(Debug, Arbitrary)]
pub enum SetPrefix {
    None,
    ForAllValues,
    ForAnyValue,
}

#[derive(Debug, Arbitrary)]
pub enum CondValue {
    Str(Text),
    Bool(bool),
    Int(i64),
    Float(f64),
    Null,
}

impl CondValue {
    fn render(&self) -> Value {
        match self {
            CondValue::Str(t) => json!(t.render(VALUES)),
            CondValue::Bool(b) => json!(b),
            CondValue::Int(n) => json!(n),
            CondValue::Float(f) => json!(f),
            CondValue::Null => Value::Null,
        }
    }
}

#[derive(Debug, Arbitrary)]
pub struct Condition {
    pub prefix: SetPrefix,
    pub operator: Text,
    pub if_exists: bool,
    pub keys: Vec<(Text, OneOrMany<CondValue>)>,
}

#[derive(Debug, Arbitrary)]
pub struct Statement {
    pub sid: Option<Text>,
    pub effect: Option<Effect>,
    pub principal: Option<PrincipalSpec>,
    pub not_principal: bool,
    pub actions: Option<OneOrMany<Text>>,
    pub not_action: bool,
    pub resources: Option<OneOrMany<Text>>,
    pub not_resource: bool,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Arbitrary)]
pub struct Policy {
    /// Selects the policy kind and target, as the first byte of the byte
    /// target does.
    pub selector: u8,
    pub version: Option<bool>,
    pub id: Option<Text>,
    pub statement_as_object: bool,
    pub statements: Vec<Statement>,
}

impl Statement {
    fn render(&self) -> Value {
        let mut m = Map::new();
        if let Some(sid) = &self.sid {
            m.insert("Sid".into(), json!(sid.render(VALUES)));
        }
        if let Some(e) = &self.effect {
            m.insert(
                "Effect".into(),
                match e {
                    Effect::Allow => json!("Allow"),
                    Effect::Deny => json!("Deny"),
                    Effect::Other(t) => json!(t.render(VALUES)),
                },
            );
        }
        if let Some(p) = &self.principal {
            let name = if self.not_principal {
                "NotPrincipal"
            } else {
                "Principal"
            };
            m.insert(name.into(), p.render());
        }
        if let Some(a) = &self.actions {
            let name = if self.not_action {
                "NotAction"
            } else {
                "Action"
            };
            m.insert(name.into(), one_or_many(a, |t| json!(t.render(ACTIONS))));
        }
        if let Some(r) = &self.resources {
            let name = if self.not_resource {
                "NotResource"
            } else {
                "Resource"
            };
            m.insert(name.into(), one_or_many(r, |t| json!(t.render(RESOURCES))));
        }
        if !self.conditions.is_empty() {
            let mut block = Map::new();
            for c in self.conditions.iter().take(6) {
                let mut op = match c.prefix {
                    SetPrefix::None => String::new(),
                    SetPrefix::ForAllValues => "ForAllValues:".into(),
                    SetPrefix::ForAnyValue => "ForAnyValue:".into(),
                };
                op.push_str(&c.operator.render(OPERATORS));
                if c.if_exists {
                    op.push_str("IfExists");
                }
                let mut keys = Map::new();
                for (k, v) in c.keys.iter().take(6) {
                    keys.insert(k.render(KEYS), one_or_many(v, CondValue::render));
                }
                block.insert(op, Value::Object(keys));
            }
            m.insert("Condition".into(), Value::Object(block));
        }
        Value::Object(m)
    }
}

impl Policy {
    /// The policy as JSON text.
    pub fn render(&self) -> String {
        let mut m = Map::new();
        match self.version {
            Some(true) => {
                m.insert("Version".into(), json!("2012-10-17"));
            }
            Some(false) => {
                m.insert("Version".into(), json!("2008-10-17"));
            }
            None => {}
        }
        if let Some(id) = &self.id {
            m.insert("Id".into(), json!(id.render(VALUES)));
        }
        let statements: Vec<Value> = self
            .statements
            .iter()
            .take(12)
            .map(Statement::render)
            .collect();
        let statement = match (self.statement_as_object, statements.len()) {
            (true, 1) => statements.into_iter().next().unwrap_or(Value::Null),
            _ => Value::Array(statements),
        };
        m.insert("Statement".into(), statement);
        Value::Object(m).to_string()
    }
}

/// The code each target runs on one input, shared with the regression
/// replay in the main crate's tests.
#[path = "../harness.rs"]
pub mod harness;
