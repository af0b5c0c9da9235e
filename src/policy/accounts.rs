//! The account ids a policy names: each is a party of its own to the access
//! analysis, never "anyone".

use std::collections::BTreeSet;

use super::PolicyDocument;

/// Maximal runs of exactly twelve digits in a text.
pub fn account_literals(text: &str, out: &mut BTreeSet<String>) {
    for span in account_literal_spans(text) {
        out.insert(text[span].to_string());
    }
}

/// Where the maximal runs of exactly twelve digits of a text are (byte
/// ranges, in order).
pub fn account_literal_spans(text: &str) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    digit_runs(text).filter(|run| run.len() == 12)
}

/// Where the maximal runs of ASCII digits of a text are (byte ranges, in
/// order).
pub fn digit_runs(text: &str) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let bytes = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() && !bytes[i].is_ascii_digit() {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        (start < i).then_some(start..i)
    })
}

/// The account ids a document names in its principals and conditions.
pub fn document_accounts(doc: &PolicyDocument) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for st in &doc.statements {
        if let Some(p) = &st.principal {
            for e in &p.entries {
                account_literals(&e.raw, &mut out);
            }
        }
        for c in &st.conditions {
            for v in &c.values {
                account_literals(&v.value, &mut out);
            }
        }
    }
    out
}
