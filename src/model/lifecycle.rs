//! Lifecycle policy facts: does the policy expire untagged images by age?
//!
//! ECR applies lifecycle rules by priority: an image selected by a rule
//! cannot be expired by a lower-priority rule. So what happens to untagged
//! images is decided by the highest-priority (lowest `rulePriority`) rule
//! whose `tagStatus` is `untagged` or `any`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LifecycleFacts {
    pub present: bool,
    pub valid: bool,
    pub untagged_rule: String,
    pub untagged_days: i64,
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
}

#[derive(Deserialize)]
struct Action {
    #[serde(rename = "type")]
    kind: String,
}

impl LifecycleFacts {
    fn new(present: bool, valid: bool, rule: &str, days: i64, summary: String) -> Self {
        LifecycleFacts {
            present,
            valid,
            untagged_rule: rule.to_string(),
            untagged_days: days,
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
        status == "untagged" || status == "any"
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
    let expires = rule.action.kind.eq_ignore_ascii_case("expire");
    let by_age = s.count_type.eq_ignore_ascii_case("sinceImagePushed")
        && s.count_unit
            .as_deref()
            .is_none_or(|u| u.eq_ignore_ascii_case("days"));
    let prefix = format!("rule {} (tagStatus {})", rule.rule_priority, s.tag_status);
    if expires && by_age {
        LifecycleFacts::new(
            true,
            true,
            "age",
            s.count_number,
            format!("{prefix} expires images {} days after push", s.count_number),
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
                "{prefix} does not expire untagged images by push age (countType {}, action {})",
                s.count_type, rule.action.kind
            ),
        )
    }
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
    fn absent_and_invalid() {
        let f = lifecycle_facts(None);
        assert!(!f.present);
        let f = lifecycle_facts(Some("{not json"));
        assert!(f.present && !f.valid);
    }
}
