//! The IAM policy language: parsing, wildcards, principals, conditions, the
//! ECR action catalogue, and a small concrete evaluator.
//!
//! Entry points:
//! - [`parse`] text → [`PolicyDocument`] (or a [`PolicyError`] that names the
//!   statement, element and what was expected);
//! - [`PolicyDocument::unsupported`] lists constructs the analysis cannot
//!   decide (unknown operators, unrecognized principals);
//! - [`pattern`] wildcard, ARN and Resource matching; [`condition`] operators
//!   and concrete condition evaluation over a [`RequestContext`];
//! - [`principal`] typed principals and Principal/NotPrincipal matching;
//! - [`actions`] the `ecr:` action catalogue and Action/NotAction expansion;
//! - [`keys`] the identity, network and service-scope condition keys;
//! - [`eval`] a deliberately simple evaluator for concrete requests, the
//!   reference the Cedar translation is tested against.
//!
//! Undecidable outcomes are [`Tri::Unknown`], never a silent true or false.
//!
//! ```
//! use ecr_audit::policy::{self, eval, PolicyKind, RequestContext, RequestPrincipal};
//!
//! let doc = policy::parse(
//!     r#"{"Version":"2012-10-17","Statement":{"Sid":"OrgPull","Effect":"Allow",
//!         "Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],
//!         "Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}}"#,
//!     PolicyKind::Resource,
//! )
//! .unwrap();
//! assert!(doc.unsupported().is_empty());
//! let st = &doc.statements[0];
//! assert_eq!(st.reference().to_string(), "statement 1 (Sid OrgPull)");
//! assert_eq!(policy::actions::expand(&st.action).len(), 2);
//!
//! let request = eval::Request {
//!     principal: RequestPrincipal::from_arn("arn:aws:iam::444455556666:role/ci").unwrap(),
//!     action: "ecr:BatchGetImage".into(),
//!     resource: "arn:aws:ecr:us-east-1:111122223333:repository/app".into(),
//!     context: RequestContext::new().with("aws:PrincipalOrgID", ["o-a1b2c3d4e5"]),
//! };
//! assert_eq!(eval::evaluate(&[&doc], &request), eval::Decision::Allow);
//! ```

mod accounts;
pub mod actions;
mod ast;
pub mod condition;
mod context;
mod error;
pub mod eval;
mod json;
pub mod keys;
mod parse;
pub mod pattern;
pub mod presence;
pub mod principal;
mod tri;

pub use accounts::{account_literal_spans, account_literals, digit_runs, document_accounts};
pub use ast::{
    ActionElement, Effect, PolicyDocument, PolicyKind, PrincipalElement, PrincipalEntry,
    ResourceElement, Statement, StatementRef, Unsupported, Version,
};
pub use condition::{
    Condition, ConditionKey, ConditionValue, KnownOperator, Operator, OperatorFamily, OriginalType,
    SetQualifier, ValueType,
};
pub use context::RequestContext;
pub use error::{Location, PolicyError, PolicyErrorKind};
pub use parse::{parse, parse_value};
pub use principal::{IamArn, IamKind, Principal, PrincipalType, RequestPrincipal};
pub use tri::Tri;

/// Can the policy text name resources (a `Resource` or `NotResource`
/// element)? Caches keyed by policy text must then key by resource too.
/// Conservative: a JSON `\u` escape can spell an element name without its
/// letters appearing in the text.
pub fn may_name_resources(text: &str) -> bool {
    text.contains("Resource") || text.contains("\\u")
}
