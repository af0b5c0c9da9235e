//! `ecr-audit.toml`: what to scan, whom to trust, thresholds, per-rule
//! changes and suppressions. Unknown keys are errors that name the line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use time::Date;

use crate::files::{line_column, read_text_file, MAX_FILE_BYTES};
use crate::finding::{Finding, Severity};
use crate::inventory::AccountId;

pub const FILE_NAME: &str = "ecr-audit.toml";
pub const DEFAULT_STALE_DAYS: i64 = 14;
pub const DEFAULT_UNPULLED_DAYS: i64 = 90;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub scan: ScanConfig,
    #[serde(default)]
    pub thresholds: Thresholds,
    /// Per-rule changes, keyed by rule id.
    #[serde(default)]
    pub rules: BTreeMap<String, RuleConfig>,
    /// A directory of custom `.cedar` rules.
    #[serde(default)]
    pub rules_dir: Option<PathBuf>,
    #[serde(default)]
    pub ignore: Vec<Ignore>,
    /// Where the config came from (not a key of the file).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanConfig {
    #[serde(default)]
    pub accounts: Vec<AccountId>,
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    pub all_regions: bool,
    #[serde(default)]
    pub org: bool,
    pub role_name: Option<String>,
    pub external_id: Option<String>,
    /// Accounts trusted in addition to the scanned ones and the organization.
    #[serde(default)]
    pub trusted_accounts: Vec<AccountId>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    #[serde(default = "default_stale")]
    pub stale_days: i64,
    #[serde(default = "default_unpulled")]
    pub unpulled_days: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            stale_days: DEFAULT_STALE_DAYS,
            unpulled_days: DEFAULT_UNPULLED_DAYS,
        }
    }
}

fn default_stale() -> i64 {
    DEFAULT_STALE_DAYS
}
fn default_unpulled() -> i64 {
    DEFAULT_UNPULLED_DAYS
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// `false` turns a rule off; `true` turns on a rule that is off by default.
    pub enabled: Option<bool>,
    pub severity: Option<Severity>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ignore {
    /// Rule id, or `*` for every rule.
    pub rule: String,
    /// Resource ARN glob: `*` matches any run of characters.
    pub resource: String,
    pub reason: String,
    /// Last day the suppression applies (YYYY-MM-DD).
    #[serde(default, deserialize_with = "date_opt")]
    pub expires: Option<Date>,
}

fn date_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    match s {
        None => Ok(None),
        Some(s) => parse_date(&s).map(Some).map_err(serde::de::Error::custom),
    }
}

/// A date that is not `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid date \"{text}\" (expected YYYY-MM-DD): {reason}")]
pub struct DateError {
    pub text: String,
    pub reason: String,
}

pub fn parse_date(s: &str) -> Result<Date, DateError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &format).map_err(|e| DateError {
        text: s.to_string(),
        reason: e.to_string(),
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub source: String,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.source, self.message)
    }
}

impl std::error::Error for ConfigError {}

crate::files::user_diagnostic!(
    ConfigError,
    "ecr_audit::config",
    "the configuration file's keys are in the README (Configuration: `ecr-audit.toml`)"
);
crate::files::user_diagnostic!(
    DateError,
    "ecr_audit::date",
    "write a date as YYYY-MM-DD (or, for --as-of, RFC 3339)"
);

impl Config {
    pub fn parse(text: &str, source: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let position = e
                .span()
                .map(|span| {
                    let (line, column) = line_column(text, span.start);
                    format!("line {line}, column {column}: ")
                })
                .unwrap_or_default();
            ConfigError {
                source: source.to_string(),
                message: format!("{position}{}", e.message()),
            }
        })?;
        let err = |message: String| ConfigError {
            source: source.to_string(),
            message,
        };
        if config.thresholds.stale_days < 0 || config.thresholds.unpulled_days < 0 {
            return Err(err("thresholds must not be negative".into()));
        }
        for ignore in &config.ignore {
            if ignore.reason.trim().is_empty() {
                return Err(err(format!(
                    "[[ignore]] for rule {} on {} needs a reason",
                    ignore.rule, ignore.resource
                )));
            }
        }
        Ok(config)
    }

    /// `--config`, then `ECR_AUDIT_CONFIG`, then `./ecr-audit.toml`; none is fine.
    pub fn discover(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        let path = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => match std::env::var_os("ECR_AUDIT_CONFIG") {
                Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
                _ => {
                    let local = PathBuf::from(FILE_NAME);
                    local.is_file().then_some(local)
                }
            },
        };
        let Some(path) = path else {
            return Ok(Config::default());
        };
        let text = read_text_file(&path, MAX_FILE_BYTES).map_err(|e| ConfigError {
            source: path.display().to_string(),
            message: format!("cannot read config: {e}"),
        })?;
        let mut config = Config::parse(&text, &path.display().to_string())?;
        config.source = Some(path);
        Ok(config)
    }

    /// Checks rule ids against the loaded rules.
    pub fn check_rule_ids(&self, known: &BTreeSet<String>) -> Result<(), ConfigError> {
        let source = self
            .source
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| FILE_NAME.to_string());
        for id in self.rules.keys() {
            if !known.contains(id) {
                return Err(ConfigError {
                    source,
                    message: format!("[rules.{id}]: no rule has this id"),
                });
            }
        }
        for ignore in &self.ignore {
            if ignore.rule != "*" && !known.contains(&ignore.rule) {
                return Err(ConfigError {
                    source,
                    message: format!("[[ignore]] names rule {} which does not exist", ignore.rule),
                });
            }
        }
        Ok(())
    }
}

/// `*` matches any run of characters (ARNs contain ':' and '/', both plain).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    crate::model::scanning::wildcard_match(pattern, text)
}

/// The outcome of applying suppressions.
#[derive(Debug, Default)]
pub struct Suppressed {
    pub kept: Vec<Finding>,
    pub suppressed: usize,
    pub warnings: Vec<String>,
}

/// Drops findings matched by a live `[[ignore]]`; warns about expired ones
/// and ones that matched nothing.
pub fn apply_ignores(findings: Vec<Finding>, ignores: &[Ignore], today: Date) -> Suppressed {
    let mut used = vec![false; ignores.len()];
    let mut out = Suppressed::default();
    for (i, ig) in ignores.iter().enumerate() {
        if let Some(exp) = ig.expires {
            if exp < today {
                out.warnings.push(format!(
                    "ignore for rule {} on {} expired on {exp}: it no longer applies",
                    ig.rule, ig.resource
                ));
                used[i] = true;
            }
        }
    }
    // In place: a large organization's findings are hundreds of megabytes.
    let mut kept = findings;
    kept.retain(|finding| {
        let hit = ignores.iter().enumerate().find(|(_, ig)| {
            ig.expires.is_none_or(|d| d >= today)
                && (ig.rule == "*" || *ig.rule == *finding.rule_id)
                && glob_match(&ig.resource, &finding.resource_arn)
        });
        match hit {
            Some((i, _)) => {
                used[i] = true;
                out.suppressed += 1;
                false
            }
            None => true,
        }
    });
    out.kept = kept;
    for (i, ig) in ignores.iter().enumerate() {
        if !used[i] {
            out.warnings.push(format!(
                "ignore for rule {} on {} matched no finding",
                ig.rule, ig.resource
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_name_the_line() {
        let err =
            Config::parse("[thresholds]\nstale_days = 3\nstale_dayz = 4\n", "c.toml").unwrap_err();
        assert!(err.message.starts_with("line 3, column 1:"), "{err}");
        assert!(err.message.contains("stale_dayz"), "{err}");
    }

    #[test]
    fn parses_everything() {
        let text = r#"
rules_dir = "my-rules"
[scan]
accounts = ["111122223333"]
trusted_accounts = ["999988887777"]
role_name = "auditor"
[thresholds]
stale_days = 7
[rules.ECR302]
enabled = false
[rules.ECR403]
severity = "critical"
[[ignore]]
rule = "ECR303"
resource = "arn:aws:ecr:*:111122223333:repository/legacy/*"
reason = "legacy images are frozen"
expires = "2027-01-31"
"#;
        let c = Config::parse(text, "c.toml").unwrap();
        assert_eq!(c.thresholds.stale_days, 7);
        assert_eq!(c.thresholds.unpulled_days, 90);
        assert_eq!(c.rules["ECR403"].severity, Some(Severity::Critical));
        assert_eq!(c.ignore[0].expires.unwrap().to_string(), "2027-01-31");
    }

    #[test]
    fn rejects_bad_values() {
        assert!(Config::parse("[scan]\naccounts = [\"12\"]\n", "c").is_err());
        let e = Config::parse(
            "[[ignore]]\nrule=\"X\"\nresource=\"*\"\nreason=\"r\"\nexpires=\"soon\"\n",
            "c",
        )
        .unwrap_err();
        assert!(e.message.contains("YYYY-MM-DD"), "{e}");
        assert!(Config::parse("[rules.ECR302]\nseverity = \"severe\"\n", "c").is_err());
    }
}
