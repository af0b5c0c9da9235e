//! The request context a condition is evaluated against: condition key →
//! values.

use std::collections::BTreeMap;

/// The request context: condition key (lower-cased) → values. A key that is
/// absent, or present with no values, counts as "not present".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    values: BTreeMap<String, Vec<String>>,
}

impl RequestContext {
    pub fn new() -> RequestContext {
        RequestContext::default()
    }

    /// Set a key's values (the key is lower-cased).
    pub fn insert<I, S>(&mut self, key: &str, values: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.values.insert(
            key.to_ascii_lowercase(),
            values.into_iter().map(Into::into).collect(),
        );
        self
    }

    /// Builder form of [`RequestContext::insert`].
    pub fn with<I, S>(mut self, key: &str, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.insert(key, values);
        self
    }

    /// A key's values (case-insensitive lookup).
    pub fn get(&self, key: &str) -> Option<&[String]> {
        match self.values.get(key) {
            Some(v) => Some(v),
            None => self
                .values
                .get(&key.to_ascii_lowercase())
                .map(|v| v.as_slice()),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }
}
