//! Which image tags of a repository can be moved to another image: its tag
//! mutability setting read together with its exclusion filters
//! (`IMMUTABLE_WITH_EXCLUSION`: every tag is immutable except those matching
//! a filter; `MUTABLE_WITH_EXCLUSION`: every tag is mutable except those
//! matching a filter), as the ECR API reference describes
//! `ImageTagMutabilityExclusionFilter`.

use std::collections::BTreeSet;

use crate::inventory::TagMutabilityExclusionFilter;

/// The one filter type the API defines: `*` matches any characters.
const WILDCARD: &str = "WILDCARD";

/// The tags that can be overwritten, in words ("" when none can), and the
/// exclusion filters as written.
pub fn overwritable_tags(
    mutability: &str,
    filters: &[TagMutabilityExclusionFilter],
) -> (String, BTreeSet<String>) {
    let listed: BTreeSet<String> = filters.iter().map(describe).collect();
    let matching = listed.iter().cloned().collect::<Vec<_>>().join(", ");
    // A filter `*` matches every tag.
    let every_tag_excepted = filters
        .iter()
        .any(|f| f.filter_type == WILDCARD && f.filter.chars().all(|c| c == '*'));
    let words = match mutability {
        "IMMUTABLE" => String::new(),
        "MUTABLE" => "every tag".to_string(),
        "IMMUTABLE_WITH_EXCLUSION" if listed.is_empty() => String::new(),
        "IMMUTABLE_WITH_EXCLUSION" if every_tag_excepted => "every tag".to_string(),
        "IMMUTABLE_WITH_EXCLUSION" => format!("tags matching {matching}"),
        "MUTABLE_WITH_EXCLUSION" if listed.is_empty() => "every tag".to_string(),
        "MUTABLE_WITH_EXCLUSION" if every_tag_excepted => String::new(),
        "MUTABLE_WITH_EXCLUSION" => format!("every tag except those matching {matching}"),
        // A setting this version does not know: never called immutable.
        other => format!("possibly every tag (tag mutability {other} is not understood)"),
    };
    (words, listed)
}

/// A filter as a person reads it: `latest`, `dev-*`; another filter type
/// is named.
fn describe(filter: &TagMutabilityExclusionFilter) -> String {
    if filter.filter_type == WILDCARD {
        format!("`{}`", filter.filter)
    } else {
        format!("`{}` ({} filter)", filter.filter, filter.filter_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wildcard(filter: &str) -> TagMutabilityExclusionFilter {
        TagMutabilityExclusionFilter {
            filter_type: WILDCARD.into(),
            filter: filter.into(),
        }
    }

    #[test]
    fn exclusions_name_the_overwritable_tags() {
        let words = |m: &str, f: &[TagMutabilityExclusionFilter]| overwritable_tags(m, f).0;
        assert_eq!(words("MUTABLE", &[]), "every tag");
        assert_eq!(words("IMMUTABLE", &[]), "");
        assert_eq!(
            words(
                "IMMUTABLE_WITH_EXCLUSION",
                &[wildcard("latest"), wildcard("dev-*")]
            ),
            "tags matching `dev-*`, `latest`"
        );
        assert_eq!(
            words("MUTABLE_WITH_EXCLUSION", &[wildcard("v*")]),
            "every tag except those matching `v*`"
        );
        assert_eq!(words("MUTABLE_WITH_EXCLUSION", &[wildcard("*")]), "");
        assert_eq!(
            words("IMMUTABLE_WITH_EXCLUSION", &[wildcard("**")]),
            "every tag"
        );
        assert_eq!(words("IMMUTABLE_WITH_EXCLUSION", &[]), "");
        assert_eq!(words("MUTABLE_WITH_EXCLUSION", &[]), "every tag");
        assert!(words("SOMETIMES", &[]).contains("not understood"));
        let other = TagMutabilityExclusionFilter {
            filter_type: "REGEX".into(),
            filter: "*".into(),
        };
        // Only a WILDCARD `*` is known to match every tag.
        assert_eq!(
            words("MUTABLE_WITH_EXCLUSION", &[other]),
            "every tag except those matching `*` (REGEX filter)"
        );
    }
}
