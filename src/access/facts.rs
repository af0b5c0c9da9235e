//! The facts the access analysis produces: what it could decide about a
//! policy, and who outside the zone of trust reaches a repository or
//! registry.

use std::collections::BTreeSet;

use serde::Serialize;

/// What the analysis could decide about a policy document or a set of them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyFacts {
    pub present: bool,
    pub analyzable: bool,
    pub problems: BTreeSet<String>,
}

impl PolicyFacts {
    pub fn absent() -> Self {
        PolicyFacts {
            present: false,
            analyzable: true,
            problems: BTreeSet::new(),
        }
    }
}

/// Effective access to a repository or registry (see the schema for meaning).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AccessFacts {
    pub public_read: bool,
    pub public_write: bool,
    pub external_read: BTreeSet<String>,
    pub external_write: BTreeSet<String>,
    pub conditions: BTreeSet<String>,
    pub unscoped_services: BTreeSet<String>,
    pub wildcard_actions_to: BTreeSet<String>,
    pub not_principal_statements: BTreeSet<String>,
    pub auth_token_statements: BTreeSet<String>,
    pub outside_registry_actions: BTreeSet<String>,
    pub outside_registry_principals: BTreeSet<String>,
    /// For each outside class with access: what, through which statements
    /// and conditions ("999988887777: read via statement 1 when ...").
    pub granted_by: BTreeSet<String>,
    /// Outside access a time condition opens after the reference time:
    /// "anyone from 2027-03-01T00:00:01Z (read)".
    pub future_access: BTreeSet<String>,
    /// With proofs: one "property verdict" per property.
    pub proofs: BTreeSet<String>,
    /// With proofs: replayed requests from outside, per property group.
    pub read_counterexamples: BTreeSet<String>,
    pub write_counterexamples: BTreeSet<String>,
    pub registry_counterexamples: BTreeSet<String>,
}
