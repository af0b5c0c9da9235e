//! Policy texts that differ only in the accounts they name.
//!
//! Organizations template their repository and identity policies per
//! account: the same statements name each account itself, its partners and
//! its CI accounts, so a large organization has thousands of texts but far
//! fewer shapes. The access analysis tells account ids apart only by their
//! class (the owner, an account of the zone of trust, an outsider, an
//! account it makes up as a witness), by which of them are equal and by
//! their order; so two texts that read the same once each id is replaced by
//! its class and its rank have analyses that read the same once the ids are
//! renamed. (A leading zero is part of the class: JSON reads a bare number
//! with one otherwise.)
//!
//! A text is given a shape only when nothing else in it could tell ids
//! apart: no escape (an id could be spelled in one), no `?` and no `*`
//! next to a digit (a pattern could match part of an id), no number, date
//! or time comparison (an id could be read as a value), no other digit run
//! where an id could stand, and no id the analysis makes up as a witness of
//! its own. An analysis is shared only when every id it mentions is one the
//! shape ranks, so that renaming reaches each of them; otherwise each text
//! is analysed on its own.

use std::ops::Range;

use crate::access;
use crate::policy::digit_runs;

/// A policy text, and the resource's ARN when the analysis reads it, with
/// each account id replaced by its rank: texts of one shape have the same
/// analysis up to renaming [`AccountShape::ids`].
pub(super) struct AccountShape {
    /// The text and ARN with ranks for ids, then each rank's class.
    pub key: String,
    /// The ids the key ranks, in order: the text's and the ARN's, the owner
    /// and the accounts the analysis makes up.
    pub ids: Vec<String>,
}

/// What a digit can stand next to in an id: the quotes of a string that is
/// the id, or the colons around an ARN's account field.
fn frames_an_id(b: Option<u8>) -> bool {
    matches!(b, Some(b'"' | b':'))
}

impl AccountShape {
    /// The shape of `text` (and `resource`, when the analysis reads it) for
    /// a resource of `owner`; `None` when something in them could tell ids
    /// apart otherwise than by class, equality and order.
    pub fn of(
        text: &str,
        resource: Option<&str>,
        owner: &str,
        in_zone: impl Fn(&str) -> bool,
    ) -> Option<AccountShape> {
        let pieces = [text, resource.unwrap_or("")];
        let is_id = owner.len() == 12 && owner.bytes().all(|b| b.is_ascii_digit());
        if !is_id || !pieces.iter().all(|p| free_of_other_readings(p)) {
            return None;
        }
        let spans = pieces.map(id_spans);
        let [Some(text_spans), Some(resource_spans)] = spans else {
            return None;
        };
        let spans = [text_spans, resource_spans];
        let mut named: Vec<&str> = std::iter::once(owner)
            .chain(
                pieces
                    .iter()
                    .zip(&spans)
                    .flat_map(|(piece, spans)| spans.iter().map(|s| &piece[s.clone()])),
            )
            .collect();
        if named.iter().any(|id| access::is_witness_account(id)) {
            return None;
        }
        let witnesses = access::witness_accounts(&in_zone);
        named.extend(witnesses.iter().map(String::as_str));
        named.sort_unstable();
        named.dedup();
        let rank = |id: &str| named.binary_search(&id).unwrap_or_default();

        let mut key = String::with_capacity(text.len() + resource.map_or(0, str::len) + 64);
        for (piece, spans) in pieces.iter().zip(&spans) {
            let mut from = 0;
            for span in spans {
                key.push_str(&piece[from..span.start]);
                key.push('\0');
                key.push_str(&rank(&piece[span.clone()]).to_string());
                key.push('\0');
                from = span.end;
            }
            key.push_str(&piece[from..]);
            key.push_str("\0\0");
        }
        for id in &named {
            key.push(if *id == owner {
                'O'
            } else if witnesses.iter().any(|w| w == id) {
                'W'
            } else if in_zone(id) {
                'Z'
            } else {
                'X'
            });
            // A leading zero changes how JSON reads a bare number.
            if id.starts_with('0') {
                key.push('0');
            }
        }
        Some(AccountShape {
            key,
            ids: named.into_iter().map(str::to_string).collect(),
        })
    }

    /// `s` with the ids of `from` (a text of the same shape) renamed to this
    /// shape's; `None` when it holds a run of twelve or more digits that is
    /// not one of `from`'s ids.
    pub fn renamed_from(&self, from: &AccountShape, s: &str) -> Option<String> {
        let mut out = String::with_capacity(s.len());
        let mut copied = 0;
        for run in digit_runs(s).filter(|run| run.len() >= 12) {
            let at = from
                .ids
                .binary_search_by(|id| id.as_str().cmp(&s[run.clone()]));
            let to = self.ids.get(at.ok()?)?;
            out.push_str(&s[copied..run.start]);
            out.push_str(to);
            copied = run.end;
        }
        out.push_str(&s[copied..]);
        Some(out)
    }
}

/// The maximal runs of twelve digits in `piece`, each framed as an id;
/// `None` when a run of digits stands where an id could but is not one, or
/// an id stands anywhere else.
fn id_spans(piece: &str) -> Option<Vec<Range<usize>>> {
    let bytes = piece.as_bytes();
    let mut spans = Vec::new();
    for run in digit_runs(piece) {
        let before = run.start.checked_sub(1).map(|b| bytes[b]);
        let framed = frames_an_id(before) && frames_an_id(bytes.get(run.end).copied());
        match (run.len() == 12, framed) {
            (true, true) => spans.push(run),
            (false, false) => {}
            _ => return None,
        }
    }
    Some(spans)
}

/// Nothing in `text` reads an id otherwise than as a name: no escapes, no
/// `?`, no `*` next to a digit, no number, date or time comparison.
fn free_of_other_readings(text: &str) -> bool {
    let bytes = text.as_bytes();
    let has = |needle: &[u8], at: usize| {
        bytes
            .get(at..at + needle.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(needle))
    };
    for (at, &b) in bytes.iter().enumerate() {
        let next_to_digit = || {
            at.checked_sub(1).is_some_and(|p| bytes[p].is_ascii_digit())
                || bytes.get(at + 1).is_some_and(u8::is_ascii_digit)
        };
        let reads_otherwise = match b {
            b'\\' | b'?' | b'\0' => true,
            b'*' => next_to_digit(),
            b'n' | b'N' => has(b"numeric", at),
            b't' | b'T' => has(b"time", at),
            b'a' | b'A' => has(b"authage", at),
            // Date conditions; "Update" in an action name is not one.
            b'd' | b'D' => has(b"date", at) && !(at >= 2 && has(b"up", at - 2)),
            _ => false,
        };
        if reads_otherwise {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(text: &str, owner: &str) -> Option<AccountShape> {
        AccountShape::of(text, None, owner, |a| a == "444455556666")
    }

    #[test]
    fn texts_differing_in_ids_of_one_class_and_order_share_a_shape() {
        let text = |partner: &str, owner: &str| {
            format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{partner}:root"}},"Action":"ecr:BatchGetImage","Condition":{{"StringEquals":{{"aws:SourceAccount":"{owner}"}}}}}}]}}"#
            )
        };
        let a = shape(&text("222233334444", "111122223333"), "111122223333").unwrap();
        let b = shape(&text("777788889999", "555566667777"), "555566667777").unwrap();
        assert_eq!(a.key, b.key);
        assert_eq!(
            b.renamed_from(&a, "222233334444: read; owner 111122223333; 999999999999")
                .as_deref(),
            Some("777788889999: read; owner 555566667777; 999999999999")
        );
        // Another order, another class, a leading zero: other shapes.
        for (partner, owner) in [
            ("011122223333", "111122223333"),
            ("444455556666", "111122223333"),
            ("022233334444", "011122223333"),
        ] {
            let other = shape(&text(partner, owner), owner).unwrap();
            assert_ne!(a.key, other.key, "{partner} {owner}");
        }
        // An id the shape does not rank cannot be renamed.
        assert_eq!(b.renamed_from(&a, "123412341234"), None);
        assert_eq!(b.renamed_from(&a, "2222333344445"), None);
    }

    #[test]
    fn texts_that_could_read_an_id_otherwise_have_no_shape() {
        let owner = "111122223333";
        let base = r#"{"Principal":{"AWS":"arn:aws:iam::222233334444:root"},"Action":"ecr:UpdatePullThroughCacheRule"}"#;
        assert!(shape(base, owner).is_some());
        for tell in [
            r#""\u0032""#,
            r#""arn:aws:iam::2222*:root""#,
            r#""*2""#,
            r#""22223333444?""#,
            r#"{"NumericLessThan":{"aws:SourceAccount":"5"}}"#,
            r#"{"DateLessThan":{"aws:CurrentTime":"2027-01-01T00:00:00Z"}}"#,
            r#""aws:EpochTime""#,
            r#""aws:MultiFactorAuthAge""#,
            r#""arn:aws:iam::1234:root""#,
            r#""Sid":"7""#,
            r#""team-222233334444""#,
            r#""2222333344445""#,
            r#""999999999999""#,
            r#""000000000001""#,
        ] {
            let text = format!("{base}{tell}");
            assert!(shape(&text, owner).is_none(), "{tell}");
        }
        assert!(shape(base, "999999999999").is_none());
        assert!(shape(base, "owner").is_none());
    }
}
