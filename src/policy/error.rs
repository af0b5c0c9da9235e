//! Errors for documents IAM itself would reject or that we refuse to guess at.

use std::fmt;

/// Where in a document a problem was found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// Zero-based statement index, when the problem is inside a statement.
    pub statement: Option<usize>,
    /// The statement's Sid, when it has one.
    pub sid: Option<String>,
    /// The element (or path inside it, e.g. `Condition.StringEquals`).
    pub element: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(i) = self.statement {
            match &self.sid {
                Some(sid) => parts.push(format!("statement {} (Sid {sid})", i + 1)),
                None => parts.push(format!("statement {}", i + 1)),
            }
        }
        if let Some(e) = &self.element {
            parts.push(format!("element {e}"));
        }
        if parts.is_empty() {
            f.write_str("document")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// What kind of problem a [`PolicyError`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyErrorKind {
    /// The text is not JSON.
    InvalidJson { line: usize, column: usize },
    /// The top level is not a JSON object.
    NotAnObject,
    /// A required element is absent (Statement, Effect, Action/NotAction, ...).
    MissingElement,
    /// Two elements that exclude each other are both present
    /// (Action and NotAction, Principal and NotPrincipal, ...).
    ConflictingElements,
    /// An element that is not allowed here (Principal in an identity policy,
    /// an unknown element name).
    UnexpectedElement,
    /// A JSON value of the wrong type (a number where a string is expected, ...).
    WrongType,
    /// A value of the right type but not one IAM accepts (Effect "Permit",
    /// Version "2020-01-01", an empty Principal map ...).
    InvalidValue,
    /// The same member name appears twice in one JSON object.
    DuplicateKey,
}

/// A document that cannot be turned into a [`crate::policy::PolicyDocument`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub kind: PolicyErrorKind,
    pub location: Location,
    /// What was expected and what was found, in words.
    pub message: String,
}

impl PolicyError {
    pub(crate) fn new(
        kind: PolicyErrorKind,
        location: Location,
        message: impl Into<String>,
    ) -> Self {
        PolicyError {
            kind,
            location,
            message: message.into(),
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            PolicyErrorKind::InvalidJson { line, column } => {
                write!(
                    f,
                    "not valid JSON at line {line}, column {column}: {}",
                    self.message
                )
            }
            _ => write!(f, "{}: {}", self.location, self.message),
        }
    }
}

impl std::error::Error for PolicyError {}
