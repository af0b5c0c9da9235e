//! Documents that differ only in which accounts they name have the same
//! verdicts, up to those names: each account of the zone plays the same
//! part as any other, each account outside it as any other outside, and the
//! owner as the owner. So a verdict is cached under the document with its
//! account ids replaced by their parts (`<<acct-O>>` the owner,
//! `<<acct-Z1>>` an account of the zone, `<<acct-X2>>` one outside, in
//! order of appearance), and a later document of the same shape takes it
//! with its own ids put back. Thousands of per-account templates (a
//! partner's pull, the owner's CodeBuild, the organization's read) are then
//! one question to the solver.
//!
//! The renaming is a permutation of account ids that keeps the zone, the
//! owner and everything outside in place, and it changes a verdict only
//! where the document compares ids other than as whole values: a wildcard
//! next to a digit (`"1111*"`), or a numeric operator. Such documents are
//! not canonicalized. A cached counterexample may also hold an id the
//! document never named (the outsider the search chose): if the new
//! document names that id, the cached verdict is not used.

use std::collections::BTreeMap;

use crate::access::Zone;
use crate::policy::account_literal_spans;

const MARK: &str = "<<acct-";

/// A document with its account ids replaced by their parts.
pub(super) struct Canonical {
    /// The document's text, canonical.
    pub text: String,
    /// The resource's ARN, canonical.
    pub arn: String,
    /// Actual id → placeholder, for this document.
    names: BTreeMap<String, String>,
}

/// The canonical form of `text` (and `arn`) in `zone`; `None` when the
/// document compares ids in a way a renaming could change.
pub(super) fn canonicalize(text: &str, arn: &str, zone: &Zone) -> Option<Canonical> {
    if text.contains(MARK) || text.to_ascii_lowercase().contains("numeric") {
        return None;
    }
    let chars: Vec<char> = text.chars().collect();
    let wildcard = |c: Option<&char>| matches!(c, Some('*') | Some('?'));
    for (i, c) in chars.iter().enumerate() {
        if c.is_ascii_digit()
            && (wildcard(i.checked_sub(1).and_then(|j| chars.get(j))) || wildcard(chars.get(i + 1)))
        {
            return None;
        }
    }
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    names.insert(zone.owner.clone(), format!("{MARK}O>>"));
    let (mut inside, mut outside) = (0, 0);
    let mut name_of = |id: &str| -> String {
        if let Some(p) = names.get(id) {
            return p.clone();
        }
        let placeholder = if zone.accounts.contains(id) {
            inside += 1;
            format!("{MARK}Z{inside}>>")
        } else {
            outside += 1;
            format!("{MARK}X{outside}>>")
        };
        names.insert(id.to_string(), placeholder.clone());
        placeholder
    };
    let text = replace_ids(text, &mut |id| Some(name_of(id)));
    let arn = replace_ids(arn, &mut |id| Some(name_of(id)));
    Some(Canonical { text, arn, names })
}

impl Canonical {
    /// A string (of a verdict) with this document's ids replaced by their
    /// parts.
    pub fn abstract_str(&self, s: &str) -> String {
        replace_ids(s, &mut |id| self.names.get(id).cloned())
    }

    /// A canonical string with this document's ids put back; `None` when it
    /// names an id this document also names outside its part.
    pub fn instantiate_str(&self, s: &str) -> Option<String> {
        if account_literal_spans(s).any(|span| self.names.contains_key(&s[span])) {
            return None;
        }
        let mut out = s.to_string();
        for (id, placeholder) in &self.names {
            out = out.replace(placeholder, id);
        }
        (!out.contains(MARK)).then_some(out)
    }
}

/// Replaces each account id (a run of exactly 12 digits) for which `f`
/// gives a value.
fn replace_ids(s: &str, f: &mut dyn FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    for span in account_literal_spans(s) {
        if let Some(replacement) = f(&s[span.clone()]) {
            out.push_str(&s[copied..span.start]);
            out.push_str(&replacement);
            copied = span.end;
        }
    }
    out.push_str(&s[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(owner: &str) -> Zone {
        Zone {
            owner: owner.into(),
            accounts: ["111111111111", "222222222222", "333333333333"]
                .map(String::from)
                .into(),
            org_id: Some("o-example".into()),
            time: None,
        }
    }

    fn partner_pull(partner: &str) -> String {
        format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{partner}:root"}},"Action":"ecr:BatchGetImage"}}]}}"#
        )
    }

    #[test]
    fn documents_naming_accounts_of_the_same_parts_share_a_form() {
        let a = canonicalize(&partner_pull("999988887777"), "", &zone("111111111111")).unwrap();
        let b = canonicalize(&partner_pull("444455556666"), "", &zone("222222222222")).unwrap();
        assert_eq!(a.text, b.text);
        // An account of the zone plays another part than an outsider.
        let inside =
            canonicalize(&partner_pull("333333333333"), "", &zone("111111111111")).unwrap();
        assert_ne!(a.text, inside.text);
        // The owner is its own part.
        let own = canonicalize(&partner_pull("111111111111"), "", &zone("111111111111")).unwrap();
        assert_ne!(own.text, inside.text);
    }

    #[test]
    fn documents_comparing_ids_otherwise_are_left_alone() {
        let z = zone("111111111111");
        assert!(canonicalize(&partner_pull("99998888*"), "", &z).is_none());
        assert!(canonicalize(
            r#"{"Condition":{"NumericLessThan":{"k":"123456789012"}}}"#,
            "",
            &z
        )
        .is_none());
    }

    #[test]
    fn a_cached_string_takes_the_new_documents_ids() {
        let a = canonicalize(&partner_pull("999988887777"), "", &zone("111111111111")).unwrap();
        let b = canonicalize(&partner_pull("444455556666"), "", &zone("222222222222")).unwrap();
        let cached = a.abstract_str(
            "arn:aws:iam::999988887777:root reads arn:aws:ecr:us-east-1:111111111111:repository/app",
        );
        assert_eq!(
            b.instantiate_str(&cached).unwrap(),
            "arn:aws:iam::444455556666:root reads arn:aws:ecr:us-east-1:222222222222:repository/app"
        );
        // An outsider the search chose, which the new document names: the
        // cached string is not used.
        let chosen = a.abstract_str("arn:aws:iam::444455556666:user/witness");
        assert!(b.instantiate_str(&chosen).is_none());
    }
}
