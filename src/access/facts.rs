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

impl AccessFacts {
    /// The names of the facts that differ between two analyses of one
    /// policy (under registry policy scopes V1 and V2, say): what depends on
    /// the difference.
    pub fn differing_fields(&self, other: &AccessFacts) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut check = |name: &'static str, same: bool| {
            if !same {
                out.push(name);
            }
        };
        check("public_read", self.public_read == other.public_read);
        check("public_write", self.public_write == other.public_write);
        check("external_read", self.external_read == other.external_read);
        check(
            "external_write",
            self.external_write == other.external_write,
        );
        check("conditions", self.conditions == other.conditions);
        check(
            "unscoped_services",
            self.unscoped_services == other.unscoped_services,
        );
        check(
            "wildcard_actions_to",
            self.wildcard_actions_to == other.wildcard_actions_to,
        );
        check(
            "not_principal_statements",
            self.not_principal_statements == other.not_principal_statements,
        );
        check(
            "auth_token_statements",
            self.auth_token_statements == other.auth_token_statements,
        );
        check(
            "outside_registry_actions",
            self.outside_registry_actions == other.outside_registry_actions,
        );
        check(
            "outside_registry_principals",
            self.outside_registry_principals == other.outside_registry_principals,
        );
        check("granted_by", self.granted_by == other.granted_by);
        check("future_access", self.future_access == other.future_access);
        check("proofs", self.proofs == other.proofs);
        check(
            "read_counterexamples",
            self.read_counterexamples == other.read_counterexamples,
        );
        check(
            "write_counterexamples",
            self.write_counterexamples == other.write_counterexamples,
        );
        check(
            "registry_counterexamples",
            self.registry_counterexamples == other.registry_counterexamples,
        );
        out
    }
}
