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
//! - [`eval`] a deliberately simple evaluator for concrete requests, the
//!   reference the Cedar translation is tested against.
//!
//! Undecidable outcomes are [`Tri::Unknown`], never a silent true or false.

pub mod actions;
mod ast;
pub mod condition;
mod error;
pub mod eval;
mod json;
mod parse;
pub mod pattern;
pub mod principal;
mod tri;

pub use ast::{
    ActionElement, Effect, PolicyDocument, PolicyKind, PrincipalElement, PrincipalEntry,
    ResourceElement, Statement, StatementRef, Unsupported, Version,
};
pub use condition::{
    Condition, ConditionKey, ConditionValue, KnownOperator, Operator, OperatorFamily, OriginalType,
    RequestContext, SetQualifier, ValueType,
};
pub use error::{Location, PolicyError, PolicyErrorKind};
pub use parse::{parse, parse_value};
pub use principal::{IamArn, IamKind, Principal, PrincipalType, RequestPrincipal};
pub use tri::Tri;
