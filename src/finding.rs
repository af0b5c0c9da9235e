//! The finding model shared by the engine and every report.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How bad a finding is. Ordered from least to most severe so that
/// `a >= b` reads as "a is at least as severe as b".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// GitHub code scanning's `security-severity` score for this level.
    pub fn security_severity(self) -> &'static str {
        match self {
            Severity::Critical => "9.5",
            Severity::High => "8.0",
            Severity::Medium => "5.5",
            Severity::Low => "2.0",
            Severity::Info => "0.0",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity \"{other}\" (expected critical, high, medium, low or info)"
            )),
        }
    }
}

pub use crate::model::ResourceKind;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    // Text a rule's findings, or a resource's, have in common is shared
    // rather than copied: a large organization has half a million findings.
    pub rule_id: Arc<str>,
    pub rule_name: Arc<str>,
    pub severity: Severity,
    pub title: Arc<str>,
    pub message: String,
    pub resource_kind: ResourceKind,
    pub resource_arn: Arc<str>,
    pub account: Arc<str>,
    /// `None` for global resources (IAM).
    pub region: Option<Arc<str>>,
    /// Relative, colon-free path used as the SARIF artifact location.
    pub location: Arc<str>,
    pub fingerprint: String,
    pub details: Details,
    /// With `--baseline`: whether the previous report had this finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_state: Option<BaselineState>,
}

/// A finding's details: the values of the attributes its rule names
/// (`@details`), in the rule's order, written as a JSON object. A list of
/// pairs rather than a map: a large organization has half a million
/// findings of two to five details each, and a map's table and hashing
/// were most of a finding's memory and time. Keys are shared: a rule's
/// findings all name the same details.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Details(Vec<(Arc<str>, serde_json::Value)>);

impl Details {
    /// Room for `n` details.
    pub fn with_capacity(n: usize) -> Details {
        Details(Vec::with_capacity(n))
    }

    /// Sets a detail; one already set keeps its place, as in a JSON map.
    pub fn insert(&mut self, key: &str, value: serde_json::Value) {
        self.set(key, value, || key.into());
    }

    /// [`Details::insert`] with a key already shared.
    pub fn insert_shared(&mut self, key: &Arc<str>, value: serde_json::Value) {
        self.set(key, value, || Arc::clone(key));
    }

    fn set(&mut self, key: &str, value: serde_json::Value, shared: impl FnOnce() -> Arc<str>) {
        match self.0.iter_mut().find(|(k, _)| &**k == key) {
            Some((_, old)) => *old = value,
            None => self.0.push((shared(), value)),
        }
    }

    pub fn get(&self, key: &str) -> Option<&serde_json::Value> {
        self.0.iter().find(|(k, _)| &**k == key).map(|(_, v)| v)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &serde_json::Value)> {
        self.0.iter().map(|(k, v)| (&**k, v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K: AsRef<str>> FromIterator<(K, serde_json::Value)> for Details {
    fn from_iter<I: IntoIterator<Item = (K, serde_json::Value)>>(pairs: I) -> Details {
        let mut details = Details::default();
        for (key, value) in pairs {
            details.insert(key.as_ref(), value);
        }
        details
    }
}

impl Serialize for Details {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Details {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        Ok(map.into_iter().collect())
    }
}

/// A finding compared with a baseline report (`--baseline`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BaselineState {
    /// Not in the baseline.
    New,
    /// In the baseline too (same fingerprint).
    Unchanged,
}

impl BaselineState {
    pub fn as_str(self) -> &'static str {
        match self {
            BaselineState::New => "new",
            BaselineState::Unchanged => "unchanged",
        }
    }
}

/// A stable identity for a finding across scans: rule id + resource ARN +
/// an optional sub-key (for rules that can fire more than once per resource).
pub fn fingerprint(rule_id: &str, resource_arn: &str, sub_key: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(rule_id.as_bytes());
    hasher.update([0]);
    hasher.update(resource_arn.as_bytes());
    hasher.update([0]);
    hasher.update(sub_key.as_bytes());
    let digest = hasher.finalize();
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(32);
    for b in &digest[..16] {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

/// Each finding's resource ARN as its rank among the distinct ARNs (equal
/// texts, equal ranks). A resource's findings sit together and share their
/// ARN's text, so texts are compared about once per resource, not once per
/// comparison of the sort.
fn arn_ranks(findings: &[Finding]) -> Vec<usize> {
    use rayon::slice::ParallelSliceMut;
    // Runs of neighbours with the same ARN, and each finding's run.
    let mut runs: Vec<&str> = Vec::new();
    let mut run_of: Vec<usize> = Vec::with_capacity(findings.len());
    for f in findings {
        let arn: &str = &f.resource_arn;
        let same = runs
            .last()
            .is_some_and(|last| std::ptr::eq(*last, arn) || *last == arn);
        if !same {
            runs.push(arn);
        }
        run_of.push(runs.len() - 1);
    }
    let mut by_text: Vec<usize> = (0..runs.len()).collect();
    by_text.par_sort_unstable_by(|a, b| runs[*a].cmp(runs[*b]));
    let mut rank_of_run = vec![0; runs.len()];
    let mut rank = 0;
    for (i, &run) in by_text.iter().enumerate() {
        if i > 0 && runs[by_text[i - 1]] != runs[run] {
            rank += 1;
        }
        rank_of_run[run] = rank;
    }
    run_of.into_iter().map(|run| rank_of_run[run]).collect()
}

/// Sorts findings for presentation: most severe first, then rule, then resource.
pub fn sort_findings(findings: &mut [Finding]) {
    // A large organization's half a million findings: both cores, and in
    // place. The keys are sorted (a merge sort of the findings themselves
    // would copy them all once more, and comparing them in place reads
    // hundreds of bytes apart), ties broken by position so that equal keys
    // keep the rules' order, as a stable sort would; then the findings are
    // moved to their places along the permutation's cycles.
    use rayon::slice::ParallelSliceMut;
    use std::cmp::Reverse;
    let rule_ids: std::collections::BTreeSet<&str> = findings.iter().map(|f| &*f.rule_id).collect();
    let rule_ids: Vec<&str> = rule_ids.into_iter().collect();
    let arn_ranks = arn_ranks(findings);
    let mut keys: Vec<(Reverse<Severity>, usize, usize, usize)> = findings
        .iter()
        .zip(arn_ranks)
        .enumerate()
        .map(|(position, (f, arn_rank))| {
            let rule = rule_ids.binary_search(&&*f.rule_id).unwrap_or(usize::MAX);
            (Reverse(f.severity), rule, arn_rank, position)
        })
        .collect();
    keys.par_sort_unstable();
    // `order[i]` is the position whose finding belongs at `i`; a place done
    // is marked by pointing at itself.
    let mut order: Vec<usize> = keys.into_iter().map(|key| key.3).collect();
    for start in 0..order.len() {
        let mut place = start;
        loop {
            let from = order[place];
            order[place] = place;
            if from == start || from == place {
                break;
            }
            findings.swap(place, from);
            place = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_stable_and_distinct() {
        let a = fingerprint("ECR101", "arn:aws:ecr:us-east-1:1:repository/a", "");
        assert_eq!(
            a,
            fingerprint("ECR101", "arn:aws:ecr:us-east-1:1:repository/a", "")
        );
        assert_eq!(a.len(), 32);
        assert_ne!(
            a,
            fingerprint("ECR102", "arn:aws:ecr:us-east-1:1:repository/a", "")
        );
        assert_ne!(
            a,
            fingerprint("ECR101", "arn:aws:ecr:us-east-1:1:repository/a", "x")
        );
        // The separator keeps ("ab","c") and ("a","bc") apart.
        assert_ne!(fingerprint("ab", "c", ""), fingerprint("a", "bc", ""));
    }

    #[test]
    fn severities_order_and_parse() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Low > Severity::Info);
        assert_eq!("HIGH".parse::<Severity>().unwrap(), Severity::High);
        assert!("severe".parse::<Severity>().is_err());
    }

    #[test]
    fn findings_sort_in_place_as_a_stable_sort_would() {
        let finding = |n: usize| Finding {
            rule_id: format!("ECR{}", 101 + n % 3).into(),
            rule_name: "".into(),
            severity: Severity::ALL[n % 5],
            title: "".into(),
            message: format!("{n}"),
            resource_kind: ResourceKind::Repository,
            resource_arn: format!("arn:aws:ecr:us-east-1:111122223333:repository/r{}", n % 7)
                .into(),
            account: "".into(),
            region: None,
            location: "".into(),
            fingerprint: String::new(),
            details: Details::default(),
            baseline_state: None,
        };
        // What the sort must do, as a stable sort by comparing findings.
        let presentation_order = |a: &Finding, b: &Finding| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.rule_id.cmp(&b.rule_id))
                .then_with(|| a.resource_arn.cmp(&b.resource_arn))
        };
        for len in [0, 1, 2, 3, 10, 200, 1000] {
            // A shuffled order with many equal keys (told apart by message).
            let mut findings: Vec<Finding> = (0..len).map(|n| finding((n * 7919) % 1009)).collect();
            let mut expected = findings.clone();
            expected.sort_by(presentation_order);
            sort_findings(&mut findings);
            assert_eq!(findings, expected, "{len} findings");
        }
        // As the engine makes them: each resource's findings together,
        // sharing its ARN's text; some texts equal in separate resources.
        let arns: Vec<Arc<str>> = (0..60)
            .map(|r| format!("arn:aws:ecr:us-east-1:1:repository/r{}", (r * 37) % 13).into())
            .collect();
        let mut findings = Vec::new();
        for (r, arn) in arns.iter().enumerate() {
            for k in 0..(r % 4 + 1) {
                let mut f = finding(r * 5 + k);
                f.resource_arn = Arc::clone(arn);
                findings.push(f);
            }
        }
        let mut expected = findings.clone();
        expected.sort_by(presentation_order);
        sort_findings(&mut findings);
        assert_eq!(findings, expected, "findings grouped by resource");
    }
}
