//! Lifecycle policy facts: does the policy expire (or archive) untagged
//! images by age?
//!
//! ECR applies lifecycle rules by priority: an image selected by a rule
//! cannot be expired by a lower-priority rule. So what happens to untagged
//! images is decided by the highest-priority (lowest `rulePriority`) rule
//! whose `tagStatus` is `untagged` or `any` and that selects images in
//! standard storage (`storageClass` absent or `standard`; a rule for
//! `archive` acts on images already archived). Its action may be `expire`
//! or `transition` to the archive storage class: either takes the image out
//! of standard storage ("Lifecycle policy properties in Amazon ECR",
//! Amazon ECR User Guide).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LifecycleFacts {
    pub present: bool,
    pub valid: bool,
    pub untagged_rule: String,
    pub untagged_days: i64,
    /// What that rule does: "expire", "transition" (to archive), or "" when
    /// no rule decides.
    pub untagged_action: String,
    pub summary: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PolicyDoc {
    rules: Vec<Rule>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    rule_priority: i64,
    selection: Selection,
    action: Action,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Selection {
    tag_status: String,
    count_type: String,
    #[serde(default)]
    count_unit: Option<String>,
    count_number: i64,
    /// `standard` (the default) or `archive`.
    #[serde(default)]
    storage_class: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Action {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    target_storage_class: Option<String>,
}

impl LifecycleFacts {
    fn new(present: bool, valid: bool, rule: &str, days: i64, summary: String) -> Self {
        LifecycleFacts {
            present,
            valid,
            untagged_rule: rule.to_string(),
            untagged_days: days,
            untagged_action: String::new(),
            summary,
        }
    }
}

pub fn lifecycle_facts(policy: Option<&str>) -> LifecycleFacts {
    let Some(text) = policy else {
        return LifecycleFacts::new(false, true, "none", -1, "no lifecycle policy".into());
    };
    let doc: PolicyDoc = match serde_json::from_str(text) {
        Ok(doc) => doc,
        Err(e) => {
            return LifecycleFacts::new(
                true,
                false,
                "other",
                -1,
                format!("lifecycle policy could not be read: {e}"),
            )
        }
    };
    let mut rules: Vec<&Rule> = doc.rules.iter().collect();
    rules.sort_by_key(|r| r.rule_priority);
    let first = rules.into_iter().find(|r| {
        let status = r.selection.tag_status.to_ascii_lowercase();
        let standard = r
            .selection
            .storage_class
            .as_deref()
            .is_none_or(|c| c.eq_ignore_ascii_case("standard"));
        (status == "untagged" || status == "any") && standard
    });
    let Some(rule) = first else {
        return LifecycleFacts::new(
            true,
            true,
            "none",
            -1,
            "no lifecycle rule selects untagged images".into(),
        );
    };
    let s = &rule.selection;
    let archives = rule.action.kind.eq_ignore_ascii_case("transition")
        && rule
            .action
            .target_storage_class
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case("archive"));
    // Either takes untagged images out of standard storage.
    let expires = rule.action.kind.eq_ignore_ascii_case("expire") || archives;
    let verb = if archives { "archives" } else { "expires" };
    let by_age = s.count_type.eq_ignore_ascii_case("sinceImagePushed")
        && s.count_unit
            .as_deref()
            .is_none_or(|u| u.eq_ignore_ascii_case("days"));
    let prefix = format!("rule {} (tagStatus {})", rule.rule_priority, s.tag_status);
    let mut facts = if expires && by_age {
        LifecycleFacts::new(
            true,
            true,
            "age",
            s.count_number,
            format!("{prefix} {verb} images {} days after push", s.count_number),
        )
    } else if expires && s.count_type.eq_ignore_ascii_case("imageCountMoreThan") {
        LifecycleFacts::new(
            true,
            true,
            "count",
            -1,
            format!(
                "{prefix} keeps the newest {} images whatever their age",
                s.count_number
            ),
        )
    } else {
        LifecycleFacts::new(
            true,
            true,
            "other",
            -1,
            format!(
                "{prefix} does not expire or archive untagged images by push age (countType {}, action {})",
                s.count_type, rule.action.kind
            ),
        )
    };
    facts.untagged_action = if archives {
        "transition".to_string()
    } else {
        rule.action.kind.to_ascii_lowercase()
    };
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(priority: i64, status: &str, count_type: &str, n: i64) -> String {
        let unit = if count_type == "sinceImagePushed" {
            r#""countUnit":"days","#
        } else {
            ""
        };
        format!(
            r#"{{"rulePriority":{priority},"selection":{{"tagStatus":"{status}",{unit}"countType":"{count_type}","countNumber":{n}}},"action":{{"type":"expire"}}}}"#
        )
    }

    fn policy(rules: &[String]) -> String {
        format!(r#"{{"rules":[{}]}}"#, rules.join(","))
    }

    #[test]
    fn untagged_by_age() {
        let f = lifecycle_facts(Some(&policy(&[rule(1, "untagged", "sinceImagePushed", 7)])));
        assert_eq!((f.untagged_rule.as_str(), f.untagged_days), ("age", 7));
    }

    #[test]
    fn count_rule_gives_no_age_bound() {
        let f = lifecycle_facts(Some(&policy(&[rule(
            1,
            "untagged",
            "imageCountMoreThan",
            5,
        )])));
        assert_eq!(f.untagged_rule, "count");
    }

    #[test]
    fn any_rule_at_higher_priority_wins() {
        let p = policy(&[
            rule(2, "untagged", "sinceImagePushed", 1),
            rule(1, "any", "imageCountMoreThan", 100),
        ]);
        assert_eq!(lifecycle_facts(Some(&p)).untagged_rule, "count");
    }

    #[test]
    fn tagged_only_rules_leave_untagged_alone() {
        let p = policy(&[rule(1, "tagged", "sinceImagePushed", 1)]);
        let p = p.replace(
            r#""tagStatus":"tagged","#,
            r#""tagStatus":"tagged","tagPrefixList":["v"],"#,
        );
        assert_eq!(lifecycle_facts(Some(&p)).untagged_rule, "none");
    }

    #[test]
    fn archiving_untagged_images_by_age_handles_them() {
        let archive = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":7},"action":{"type":"transition","targetStorageClass":"archive"}}]}"#;
        let f = lifecycle_facts(Some(archive));
        assert_eq!(
            (
                f.untagged_rule.as_str(),
                f.untagged_days,
                f.untagged_action.as_str()
            ),
            ("age", 7, "transition")
        );
        assert!(
            f.summary.contains("archives images 7 days after push"),
            "{}",
            f.summary
        );
        // A rule for archived images does not decide what happens to
        // untagged images in standard storage.
        let archived_only = r#"{"rules":[
            {"rulePriority":1,"selection":{"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":365},"action":{"type":"expire"}},
            {"rulePriority":2,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}"#;
        let f = lifecycle_facts(Some(archived_only));
        assert_eq!(
            (f.untagged_rule.as_str(), f.untagged_action.as_str()),
            ("count", "expire")
        );
    }

    #[test]
    fn absent_and_invalid() {
        let f = lifecycle_facts(None);
        assert!(!f.present);
        let f = lifecycle_facts(Some("{not json"));
        assert!(f.present && !f.valid);
    }
}
