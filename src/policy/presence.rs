//! Which condition keys a request for an ECR action carries.
//!
//! A request does not carry every key: `aws:RequestTag/*` and `aws:TagKeys`
//! come only with the calls that set tags, `ecr:ResourceTag/*` and
//! `aws:ResourceTag/*` only with calls on a repository. The table is the
//! Service Authorization Reference's, kept as data with its source in
//! `data/ecr-condition-keys.tsv`. Keys it does not govern (global keys such
//! as `aws:PrincipalOrgID`) and actions it does not list are left to the
//! caller: presence unknown, never assumed absent.

use std::collections::BTreeMap;
use std::sync::OnceLock;

const TABLE: &str = include_str!("../../data/ecr-condition-keys.tsv");

struct Row {
    on_repository: bool,
    keys: Vec<String>,
}

struct Table {
    rows: BTreeMap<String, Row>,
    /// Keys every action on a repository carries (lower-case, `${TagKey}` cut).
    repository_keys: Vec<String>,
}

/// `aws:RequestTag/${TagKey}` → `aws:requesttag/`.
fn key_stem(key: &str) -> String {
    let lower = key.trim().to_ascii_lowercase();
    match lower.find("${") {
        Some(i) => lower[..i].to_string(),
        None => lower,
    }
}

fn table() -> &'static Table {
    static TABLE_CELL: OnceLock<Table> = OnceLock::new();
    TABLE_CELL.get_or_init(|| {
        let mut rows = BTreeMap::new();
        let mut repository_keys = Vec::new();
        for line in TABLE.lines() {
            let cols: Vec<&str> = line.split('\t').collect();
            if let Some(rest) = line.strip_prefix("#resource\t") {
                let mut it = rest.split('\t');
                if it.next() == Some("repository") {
                    repository_keys = it
                        .next()
                        .unwrap_or("")
                        .split(',')
                        .filter(|k| !k.is_empty())
                        .map(key_stem)
                        .collect();
                }
                continue;
            }
            if line.starts_with('#') || cols.len() < 3 {
                continue;
            }
            let keys = cols[2]
                .split(',')
                .filter(|k| !k.is_empty() && *k != "-")
                .map(key_stem)
                .collect();
            rows.insert(
                format!("ecr:{}", cols[0]).to_ascii_lowercase(),
                Row {
                    on_repository: cols[1].split(',').any(|t| t == "repository"),
                    keys,
                },
            );
        }
        Table {
            rows,
            repository_keys,
        }
    })
}

/// Keys whose presence depends on the action (lower-case stems; a stem
/// ending in `/` stands for every key under it).
const GOVERNED: [&str; 5] = [
    "aws:requesttag/",
    "aws:tagkeys",
    "aws:resourcetag/",
    "ecr:resourcetag/",
    "ecr:accountsetting",
];

fn stem_of(key: &str) -> Option<&'static str> {
    GOVERNED.iter().copied().find(|g| {
        if g.ends_with('/') {
            key.starts_with(g)
        } else {
            key == *g
        }
    })
}

/// True when the table governs the key's presence (so it may be absent for
/// some actions).
pub fn is_governed(key_lower: &str) -> bool {
    stem_of(key_lower).is_some()
}

/// True when a request for `action` never carries `key_lower`.
pub fn key_absent(action: &str, key_lower: &str) -> bool {
    let Some(stem) = stem_of(key_lower) else {
        return false;
    };
    let t = table();
    let Some(row) = t.rows.get(&action.to_ascii_lowercase()) else {
        return false;
    };
    let on_row = row.keys.iter().any(|k| k == stem);
    let from_resource = row.on_repository && t.repository_keys.iter().any(|k| k == stem);
    !(on_row || from_resource)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::actions;

    #[test]
    fn every_known_action_has_a_row() {
        for a in actions::all() {
            assert!(
                table().rows.contains_key(&a.name.to_ascii_lowercase()),
                "{} has no row in data/ecr-condition-keys.tsv",
                a.name
            );
        }
        assert_eq!(
            table().repository_keys,
            vec!["aws:resourcetag/", "ecr:resourcetag/"]
        );
    }

    #[test]
    fn tag_keys_come_only_with_tagging_calls() {
        assert!(key_absent("ecr:BatchGetImage", "aws:requesttag/team"));
        assert!(!key_absent("ecr:TagResource", "aws:requesttag/team"));
        assert!(!key_absent("ecr:CreateRepository", "aws:tagkeys"));
        assert!(!key_absent("ecr:UntagResource", "aws:tagkeys"));
        assert!(key_absent("ecr:UntagResource", "aws:requesttag/team"));
        assert!(!key_absent("ecr:BatchGetImage", "ecr:resourcetag/team"));
        assert!(key_absent(
            "ecr:GetAuthorizationToken",
            "ecr:resourcetag/team"
        ));
        // Keys the table does not govern, and actions it does not list.
        assert!(!key_absent("ecr:BatchGetImage", "aws:principalorgid"));
        assert!(!key_absent("sts:AssumeRole", "aws:requesttag/team"));
    }
}
