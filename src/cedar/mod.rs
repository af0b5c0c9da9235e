//! IAM policies normalized into Cedar (README, "How the policy analysis
//! works", step 2).
//!
//! - [`translate`] turns a parsed [`PolicyDocument`] into a [`Translation`]:
//!   one Cedar `permit`/`forbid` per statement, annotated with its origin
//!   (`@statement("2")`, `@sid("PublicPull")`), written against
//!   [`schema::schema_text`] (namespace `Iam`).
//! - What Cedar cannot state exactly becomes a boolean *flag*, an entity tag
//!   of `context.flags`, recorded in [`Translation::flags`]; the ones that
//!   stand for a construct of the policy are also listed in
//!   [`Translation::approximations`]. For a concrete request
//!   ([`Translation::request`]) the flags are computed exactly in Rust with
//!   the policy module's own matching; a solver leaves them free.
//! - Condition keys are lower-cased entity tags (`context.keys`,
//!   `context.sets`, and typed views `nums`, `bools`, `ips`, `dates`, `arns`),
//!   so any key (`aws:PrincipalTag/team`,
//!   `token.actions.githubusercontent.com:sub`) fits one schema.
//! - [`validate`] checks a translation in strict mode; [`explain`] prints it.

mod request;
pub mod schema;
mod translate;

pub use request::{ConcreteRequest, RequestError};
pub(crate) use translate::{cedar_datetime, cedar_long, like_lit, lit, uid};
pub use translate::{iam_principal_id, role_id_of_session, root_id};

use crate::policy::{Effect, PolicyDocument, PolicyKind, StatementRef};
use cedar_policy::{Policy, PolicyId, PolicySet, ValidationMode};
use std::fmt;

/// Which part of a statement a flag stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlagSource {
    /// The whole Principal/NotPrincipal element.
    Principal,
    /// The whole Resource/NotResource element.
    Resource,
    /// One condition (index into `Statement::conditions`).
    Condition(usize),
    /// The Condition element's shape (an empty block, an operator without
    /// keys, an empty value list): IAM documents no meaning for it, so the
    /// statement's applying is undecidable.
    Shape,
}

/// A boolean the caller supplies in `context.flags`: the truth of one part
/// of one statement for the request at hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// The tag name, e.g. `s2.c1`.
    pub name: String,
    /// Zero-based statement index.
    pub statement: usize,
    /// The statement's effect: an undecidable part is taken as applying in an
    /// Allow and not applying in a Deny (widen grants, narrow denials).
    pub effect: Effect,
    pub source: FlagSource,
}

/// A construct of the policy that Cedar does not state exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approximation {
    pub statement: StatementRef,
    /// What, as written: `StringEqualsIgnoreCase aws:username`.
    pub construct: String,
    /// Why Cedar cannot say it.
    pub why: String,
    /// The flag that stands for it.
    pub flag: String,
}

impl fmt::Display for Approximation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} ({}), as flag \"{}\"",
            self.statement, self.construct, self.why, self.flag
        )
    }
}

/// One generated Cedar policy.
#[derive(Debug, Clone)]
pub struct TranslatedStatement {
    pub statement: StatementRef,
    pub policy_id: PolicyId,
    /// The policy text with its annotations.
    pub text: String,
}

/// The Cedar form of one IAM policy document.
#[derive(Debug, Clone)]
pub struct Translation {
    pub kind: PolicyKind,
    pub policies: PolicySet,
    pub statements: Vec<TranslatedStatement>,
    pub flags: Vec<Flag>,
    pub approximations: Vec<Approximation>,
    /// Statements that produced no policy, and why (e.g. they cover no action
    /// of the schema: `s3:*` only).
    pub skipped: Vec<(StatementRef, String)>,
    /// Generated text Cedar refused: always a bug of the translation.
    pub errors: Vec<String>,
    /// Lower-case condition keys the policies read: only these become tags
    /// of a concrete request.
    pub keys: std::collections::BTreeSet<String>,
    /// The document, for computing flags of concrete requests.
    pub(crate) doc: PolicyDocument,
}

impl Translation {
    /// The Cedar text of every statement, one after the other.
    pub fn text(&self) -> String {
        self.statements
            .iter()
            .map(|s| format!("{}\n", s.text))
            .collect()
    }

    /// Does some statement test the resource (a Resource element)?
    pub fn reads_resource(&self) -> bool {
        self.statements.iter().any(|s| {
            s.text.contains("resource.")
                || s.text.contains("resource ==")
                || s.text.contains("resource in")
        })
    }

    /// Does some statement read the typed view `view` (`keys`, `arns`,
    /// `nums`...) of condition key `key`?
    pub fn reads_tag(&self, view: &str, key: &str) -> bool {
        let needle = format!("context.{view}.hasTag({})", lit(key));
        self.statements.iter().any(|s| s.text.contains(&needle))
    }

    /// The twelve-digit account ids the document writes (principals and
    /// condition values): each is a party of its own.
    pub fn document_accounts(&self) -> std::collections::BTreeSet<String> {
        crate::policy::document_accounts(&self.doc)
    }

    /// The translated document, for keys that must tell apart documents
    /// whose Cedar text is the same (flags hide what they stand for).
    pub fn doc_debug(&self) -> String {
        format!("{:?}", self.doc)
    }

    /// True when every statement is said exactly in Cedar (flags only for
    /// requests with several values for one key).
    pub fn is_exact(&self) -> bool {
        self.approximations.is_empty() && self.errors.is_empty()
    }
}

fn annotation(key: &str, value: &str) -> String {
    format!("@{key}({})", translate::lit(value))
}

/// Translate a parsed policy document into Cedar.
pub fn translate(doc: &PolicyDocument) -> Translation {
    let mut t = Translation {
        kind: doc.kind,
        policies: PolicySet::new(),
        statements: Vec::new(),
        flags: Vec::new(),
        approximations: Vec::new(),
        skipped: Vec::new(),
        errors: Vec::new(),
        keys: Default::default(),
        doc: doc.clone(),
    };
    for st in &doc.statements {
        let out = translate::statement(&mut translate::Ctx {
            st,
            flags: &mut t.flags,
            approximations: &mut t.approximations,
            keys: &mut t.keys,
        });
        if !out.covers_actions {
            t.skipped.push((
                st.reference(),
                "covers no ECR or STS action of the schema".to_owned(),
            ));
            continue;
        }
        let mut text = annotation("statement", &(st.index + 1).to_string());
        text.push('\n');
        if let Some(sid) = &st.sid {
            text.push_str(&annotation("sid", sid));
            text.push('\n');
        }
        text.push_str(&out.body);
        let id = PolicyId::new(format!("statement{}", st.index + 1));
        match Policy::parse(Some(id.clone()), &text) {
            Ok(p) => match t.policies.add(p) {
                Ok(()) => t.statements.push(TranslatedStatement {
                    statement: st.reference(),
                    policy_id: id,
                    text,
                }),
                Err(e) => t.errors.push(format!("{}: {e}", st.reference())),
            },
            Err(e) => t.errors.push(format!(
                "{}: generated Cedar does not parse: {e}\n{text}",
                st.reference()
            )),
        }
    }
    t
}

/// Strict validation of a translation against [`schema::schema`]. Every
/// translation should pass: a failure is a bug of this module.
pub fn validate(t: &Translation) -> Result<(), Vec<String>> {
    let mut errs = t.errors.clone();
    let res = schema::validator().validate(&t.policies, ValidationMode::Strict);
    errs.extend(res.validation_errors().map(|e| format!("{e}")));
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs)
    }
}

/// The Cedar text a person reads: each policy preceded by its annotations
/// and a comment listing what was approximated.
pub fn explain(doc: &PolicyDocument) -> String {
    explain_translation(doc, &translate(doc))
}

/// [`explain`] for a document already translated.
pub fn explain_translation(doc: &PolicyDocument, t: &Translation) -> String {
    let kind = match doc.kind {
        PolicyKind::Identity => "identity",
        PolicyKind::Resource => "resource",
        PolicyKind::Trust => "trust",
    };
    let mut out = format!(
        "// Cedar translation of a {kind} policy ({} statement{}), schema namespace Iam.\n\
         // Condition keys are lower-case tags of context.keys / context.sets and typed\n\
         // views; a key with several values is decided by the statement's flag.\n",
        doc.statements.len(),
        if doc.statements.len() == 1 { "" } else { "s" }
    );
    if doc.kind == PolicyKind::Identity {
        out.push_str("// Identity policy: `principal` is whoever the policy is attached to.\n");
    }
    for (r, why) in &t.skipped {
        out.push_str(&format!("\n// {r}: no policy, {why}.\n"));
    }
    for e in &t.errors {
        out.push_str(&format!("\n// ERROR (a bug, please report): {e}\n"));
    }
    for s in &t.statements {
        out.push('\n');
        let approx: Vec<&Approximation> = t
            .approximations
            .iter()
            .filter(|a| a.statement == s.statement)
            .collect();
        if approx.is_empty() {
            out.push_str("// exact\n");
        } else {
            out.push_str("// approximated (flag = computed outside Cedar):\n");
            for a in approx {
                out.push_str(&format!(
                    "//   {} — {} → context.flags \"{}\"\n",
                    a.construct, a.why, a.flag
                ));
            }
        }
        out.push_str(&s.text);
        out.push('\n');
    }
    out
}
