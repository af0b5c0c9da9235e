//! Rule loading: Cedar files with metadata annotations, validated against the
//! audit schema. Every error names the file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::str::FromStr;

use cedar_policy::{Policy, PolicySet, ResourceConstraint, Schema, ValidationMode, Validator};
use miette::Diagnostic;

use crate::finding::{ResourceKind, Severity};

/// The audit schema the rules are written against.
pub const SCHEMA_TEXT: &str = include_str!("../../rules/schema.cedarschema");

/// Built-in rules, embedded so that the binary works anywhere. A test checks
/// that every `.cedar` file in rules/ is listed here.
pub const BUILTIN_RULES: &[(&str, &str)] = &[
    (
        "rules/ECR001-unanalyzable-policy.cedar",
        include_str!("../../rules/ECR001-unanalyzable-policy.cedar"),
    ),
    (
        "rules/ECR002-rule-not-evaluated.cedar",
        include_str!("../../rules/ECR002-rule-not-evaluated.cedar"),
    ),
    (
        "rules/ECR101-public-read-access.cedar",
        include_str!("../../rules/ECR101-public-read-access.cedar"),
    ),
    (
        "rules/ECR102-public-write-access.cedar",
        include_str!("../../rules/ECR102-public-write-access.cedar"),
    ),
    (
        "rules/ECR103-external-account-read.cedar",
        include_str!("../../rules/ECR103-external-account-read.cedar"),
    ),
    (
        "rules/ECR104-external-account-write.cedar",
        include_str!("../../rules/ECR104-external-account-write.cedar"),
    ),
    (
        "rules/ECR105-service-principal-unscoped.cedar",
        include_str!("../../rules/ECR105-service-principal-unscoped.cedar"),
    ),
    (
        "rules/ECR106-wildcard-actions-granted.cedar",
        include_str!("../../rules/ECR106-wildcard-actions-granted.cedar"),
    ),
    (
        "rules/ECR107-allow-with-not-principal.cedar",
        include_str!("../../rules/ECR107-allow-with-not-principal.cedar"),
    ),
    (
        "rules/ECR108-auth-token-in-resource-policy.cedar",
        include_str!("../../rules/ECR108-auth-token-in-resource-policy.cedar"),
    ),
    (
        "rules/ECR109-time-activated-outside-access.cedar",
        include_str!("../../rules/ECR109-time-activated-outside-access.cedar"),
    ),
    (
        "rules/ECR111-registry-policy-outside-trust.cedar",
        include_str!("../../rules/ECR111-registry-policy-outside-trust.cedar"),
    ),
    (
        "rules/ECR112-replication-outside-trust.cedar",
        include_str!("../../rules/ECR112-replication-outside-trust.cedar"),
    ),
    (
        "rules/ECR113-pull-through-upstream-outside-trust.cedar",
        include_str!("../../rules/ECR113-pull-through-upstream-outside-trust.cedar"),
    ),
    (
        "rules/ECR114-creation-template-role-outside-trust.cedar",
        include_str!("../../rules/ECR114-creation-template-role-outside-trust.cedar"),
    ),
    (
        "rules/ECR201-auth-token-with-unscoped-repository-access.cedar",
        include_str!("../../rules/ECR201-auth-token-with-unscoped-repository-access.cedar"),
    ),
    (
        "rules/ECR202-repository-write-on-all-repositories.cedar",
        include_str!("../../rules/ECR202-repository-write-on-all-repositories.cedar"),
    ),
    (
        "rules/ECR203-ecr-role-assumable-from-outside.cedar",
        include_str!("../../rules/ECR203-ecr-role-assumable-from-outside.cedar"),
    ),
    (
        "rules/ECR204-ecr-role-web-identity-without-subject.cedar",
        include_str!("../../rules/ECR204-ecr-role-web-identity-without-subject.cedar"),
    ),
    (
        "rules/ECR205-auth-token-unrestricted-origin.cedar",
        include_str!("../../rules/ECR205-auth-token-unrestricted-origin.cedar"),
    ),
    (
        "rules/ECR301-scanning-not-configured.cedar",
        include_str!("../../rules/ECR301-scanning-not-configured.cedar"),
    ),
    (
        "rules/ECR302-mutable-image-tags.cedar",
        include_str!("../../rules/ECR302-mutable-image-tags.cedar"),
    ),
    (
        "rules/ECR303-no-lifecycle-policy.cedar",
        include_str!("../../rules/ECR303-no-lifecycle-policy.cedar"),
    ),
    (
        "rules/ECR304-lifecycle-keeps-untagged-images.cedar",
        include_str!("../../rules/ECR304-lifecycle-keeps-untagged-images.cedar"),
    ),
    (
        "rules/ECR305-not-encrypted-with-cmk.cedar",
        include_str!("../../rules/ECR305-not-encrypted-with-cmk.cedar"),
    ),
    (
        "rules/ECR306-retired-basic-scan-engine.cedar",
        include_str!("../../rules/ECR306-retired-basic-scan-engine.cedar"),
    ),
    (
        "rules/ECR307-enhanced-scanning-not-continuous.cedar",
        include_str!("../../rules/ECR307-enhanced-scanning-not-continuous.cedar"),
    ),
    (
        "rules/ECR401-stale-untagged-images.cedar",
        include_str!("../../rules/ECR401-stale-untagged-images.cedar"),
    ),
    (
        "rules/ECR402-unpulled-images.cedar",
        include_str!("../../rules/ECR402-unpulled-images.cedar"),
    ),
    (
        "rules/ECR403-vulnerable-image.cedar",
        include_str!("../../rules/ECR403-vulnerable-image.cedar"),
    ),
    (
        "rules/ECR404-unsigned-images.cedar",
        include_str!("../../rules/ECR404-unsigned-images.cedar"),
    ),
];

/// A rule: one Cedar `permit` policy and its metadata.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub severity: Severity,
    pub title: String,
    pub description: String,
    pub remediation: String,
    pub compliance: Option<String>,
    pub help_uri: Option<String>,
    /// Message template: `{attr.path}` is replaced by the resource's attribute.
    pub message: String,
    /// Attribute paths copied into a finding's details.
    pub details: Vec<String>,
    /// Off unless enabled in config (`@default("off")`).
    pub enabled_by_default: bool,
    /// File the rule came from and the line of its (first) policy.
    pub source: String,
    pub line: usize,
    /// One Cedar policy per resource type the rule applies to. Later
    /// policies with the same @id in the same file add resource types and
    /// may override @message.
    pub policies: Vec<RulePolicy>,
}

/// What a rule judges, from the family of its id (`ECR1xx` ...); a custom
/// rule's id outside these families is `Custom`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleFamily {
    /// ECR0xx: the analysis itself (a policy not analysed, a rule not
    /// evaluated).
    Analysis,
    /// ECR1xx: resource policies.
    ResourcePolicy,
    /// ECR2xx: IAM identities and trust.
    Identity,
    /// ECR3xx: repository and registry configuration.
    Configuration,
    /// ECR4xx: images.
    Images,
    Custom,
}

impl Rule {
    pub fn family(&self) -> RuleFamily {
        let digits = self.id.strip_prefix("ECR").unwrap_or("");
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return RuleFamily::Custom;
        }
        match digits.as_bytes()[0] {
            b'0' => RuleFamily::Analysis,
            b'1' => RuleFamily::ResourcePolicy,
            b'2' => RuleFamily::Identity,
            b'3' => RuleFamily::Configuration,
            b'4' => RuleFamily::Images,
            _ => RuleFamily::Custom,
        }
    }

    /// Does the rule judge what a policy document decides (and not the
    /// configuration or the images of a resource)?
    pub fn judges_policies(&self) -> bool {
        !matches!(
            self.family(),
            RuleFamily::Configuration | RuleFamily::Images
        )
    }
}

#[derive(Debug, Clone)]
pub struct RulePolicy {
    pub kind: ResourceKind,
    pub policy: Policy,
    pub message: Option<String>,
    /// This type's own @details, where the rule's paths do not all exist
    /// on it.
    pub details: Option<Vec<String>>,
}

/// The attributes of the resource a rule's policy reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reads {
    /// Only these attribute paths ("access.public_read", "images").
    Attributes(std::collections::BTreeSet<String>),
    /// The resource as a whole (or in a form not followed): everything.
    Everything,
}

impl Reads {
    /// Does the rule read any part of `attribute` (a path, "access" or
    /// "access.public_read")?
    pub fn includes(&self, attribute: &str) -> bool {
        match self {
            Reads::Attributes(a) => a.iter().any(|p| paths_overlap(p, attribute)),
            Reads::Everything => true,
        }
    }
}

/// Is one attribute path a part of the other, or the same
/// ("access" and "access.public_read" overlap; "access.public_read" and
/// "access.public_write" do not)?
pub fn paths_overlap(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    long.strip_prefix(short)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// Which attribute paths of `resource` a Cedar policy reads:
/// `resource.attr.sub`, `resource has attr`, `resource["attr"]`; any other
/// use of `resource` (beyond the scope's `resource is T`) reads everything.
pub fn attributes_read(policy: &Policy) -> Reads {
    match paths_read(policy) {
        Some(paths) => Reads::Attributes(paths.into_iter().map(|p| p.join(".")).collect()),
        None => Reads::Everything,
    }
}

/// The attribute paths of `resource` a Cedar policy reads, each as deep as
/// plain attribute access goes: `resource.images.count > 0` reads
/// `images.count`; `resource.images has x`, `resource.tags.contains(..)` or
/// `resource.images["x"]` read the value before the operator as a whole.
/// `None` when the policy uses `resource` in another way (reads everything).
pub fn paths_read(policy: &Policy) -> Option<std::collections::BTreeSet<Vec<String>>> {
    let text = policy.to_string();
    // The condition only: the scope names the type, not attributes, and
    // annotations come before the effect.
    let body = scope_end(&text).map_or(text.as_str(), |i| &text[i..]);
    let mut out = std::collections::BTreeSet::new();
    let bytes = body.as_bytes();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let ident = |t: &str| -> String {
        t.bytes()
            .take_while(|b| is_ident(*b))
            .map(char::from)
            .collect()
    };
    let mut i = 0;
    while let Some(pos) = body[i..].find("resource") {
        let start = i + pos;
        let end = start + "resource".len();
        i = end;
        let before_ok = start == 0 || !is_ident(bytes[start - 1]);
        let after_ok = end >= bytes.len() || !is_ident(bytes[end]);
        // `context.resource`, a string "resource" or `my_resource` are not it.
        if !before_ok || !after_ok || (start > 0 && bytes[start - 1] == b'.') {
            continue;
        }
        if in_string(body, start) {
            continue;
        }
        let rest = body[end..].trim_start();
        if let Some(r) = rest.strip_prefix('.') {
            let r = r.trim_start();
            let name = ident(r);
            // `resource.attr` or a method call such as `resource.getTag`:
            // anything but a plain attribute reads everything.
            let mut after = r[name.len()..].trim_start();
            if name.is_empty() || after.starts_with('(') {
                return None;
            }
            let mut path = vec![name];
            // Deeper plain attribute accesses, up to a method call or any
            // other operator, which reads the value so far as a whole.
            while let Some(r) = after.strip_prefix('.') {
                let r = r.trim_start();
                let name = ident(r);
                let next = r[name.len()..].trim_start();
                if name.is_empty() || next.starts_with('(') {
                    break;
                }
                path.push(name);
                after = next;
            }
            out.insert(path);
        } else if let Some(r) = rest.strip_prefix("has") {
            let r = r.trim_start();
            let name = match r.strip_prefix('"') {
                Some(q) => q.split('"').next().unwrap_or("").to_string(),
                None => ident(r),
            };
            if name.is_empty() {
                return None;
            }
            out.insert(vec![name]);
        } else if let Some(r) = rest.strip_prefix('[') {
            match r.trim_start().strip_prefix('"') {
                Some(q) => {
                    out.insert(vec![q.split('"').next().unwrap_or("").to_string()]);
                }
                None => return None,
            }
        } else {
            return None;
        }
    }
    Some(out)
}

/// Where the scope `permit (...)` / `forbid (...)` of a policy text ends.
fn scope_end(text: &str) -> Option<usize> {
    let effect = ["permit", "forbid"]
        .iter()
        .filter_map(|e| {
            let mut from = 0;
            while let Some(p) = text[from..].find(e) {
                let at = from + p;
                if !in_string(text, at) {
                    return Some(at);
                }
                from = at + e.len();
            }
            None
        })
        .min()?;
    let mut depth = 0usize;
    for (i, c) in text[effect..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(effect + i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Whether byte `at` of Cedar text lies inside a string literal.
fn in_string(text: &str, at: usize) -> bool {
    let mut inside = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if i >= at {
            break;
        }
        match c {
            '\\' if inside => escaped = !escaped,
            '"' if !escaped => inside = !inside,
            _ => escaped = false,
        }
    }
    inside
}

impl Rule {
    /// The attributes the rule reads on a kind of resource.
    pub fn reads(&self, kind: ResourceKind) -> Reads {
        let mut out = std::collections::BTreeSet::new();
        for p in self.policies.iter().filter(|p| p.kind == kind) {
            match attributes_read(&p.policy) {
                Reads::Everything => return Reads::Everything,
                Reads::Attributes(a) => out.extend(a),
            }
        }
        Reads::Attributes(out)
    }

    /// The resource types the rule applies to.
    pub fn resource_kinds(&self) -> Vec<ResourceKind> {
        self.policies.iter().map(|p| p.kind).collect()
    }

    /// The rule's policy for this kind of resource.
    fn policy_for(&self, kind: ResourceKind) -> Option<&RulePolicy> {
        self.policies.iter().find(|p| p.kind == kind)
    }

    /// The message template for findings on this kind of resource.
    pub fn message_for(&self, kind: ResourceKind) -> &str {
        self.policy_for(kind)
            .and_then(|p| p.message.as_deref())
            .unwrap_or(&self.message)
    }

    /// The attribute paths copied into the details of findings on this
    /// kind of resource.
    pub fn details_for(&self, kind: ResourceKind) -> &[String] {
        self.policy_for(kind)
            .and_then(|p| p.details.as_deref())
            .unwrap_or(&self.details)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub source: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.source, self.line, self.column, self.message
        )
    }
}

impl std::error::Error for RuleError {}

crate::files::user_diagnostic!(
    RuleError,
    "ecr_audit::rules",
    "a rule is a Cedar policy over rules/schema.cedarschema with @id, @severity, @title, @description and @remediation annotations (README: Custom rules)"
);

// PANIC SAFETY: the embedded schema is valid (tested).
#[allow(clippy::expect_used)]
pub fn schema() -> Schema {
    let (schema, _warnings) =
        Schema::from_cedarschema_str(SCHEMA_TEXT).expect("the embedded audit schema is valid");
    schema
}

const REQUIRED: &[&str] = &[
    "id",
    "name",
    "severity",
    "title",
    "description",
    "remediation",
    "message",
];
/// Annotations a rule may carry besides the required ones.
const OPTIONAL: &[&str] = &["compliance", "help_uri", "details", "default"];

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    crate::files::line_column(text, offset)
}

/// Turns a Cedar diagnostic into errors located in `text`.
fn diagnostic_errors(source: &str, text: &str, diag: &dyn Diagnostic) -> RuleError {
    let offset = diag
        .labels()
        .and_then(|mut labels| labels.next())
        .map(|l| l.offset())
        .unwrap_or(0);
    let (line, column) = line_col(text, offset);
    let mut message = diag.to_string();
    if let Some(help) = diag.help() {
        message.push_str(&format!(" (help: {help})"));
    }
    RuleError {
        source: source.to_string(),
        line,
        column,
        message,
    }
}

/// How deep `(`, `[` and `{` may nest in a rule file. Cedar's parser
/// recurses once per level (and more while building its tree), so very deep
/// nesting would overflow the stack; real rules nest a few levels.
pub const MAX_NESTING: usize = 64;

/// The byte offset of the first bracket nested deeper than [`MAX_NESTING`],
/// outside string literals and `//` comments.
fn too_deep(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Parses and validates the rules of one file.
pub fn parse_rule_file(
    source: &str,
    text: &str,
    schema: &Schema,
) -> Result<Vec<Rule>, Vec<RuleError>> {
    if let Some(offset) = too_deep(text) {
        let (line, column) = line_col(text, offset);
        return Err(vec![RuleError {
            source: source.to_string(),
            line,
            column,
            message: format!(
                "brackets nested more than {MAX_NESTING} deep: refused before parsing"
            ),
        }]);
    }
    let set = PolicySet::from_str(text).map_err(|errs| {
        errs.iter()
            .map(|e| diagnostic_errors(source, text, e))
            .collect::<Vec<_>>()
    })?;
    let validation = Validator::new(schema.clone()).validate(&set, ValidationMode::Strict);
    let mut errors: Vec<RuleError> = validation
        .validation_errors()
        .map(|e| diagnostic_errors(source, text, e))
        .collect();
    if set.templates().next().is_some() {
        errors.push(RuleError {
            source: source.to_string(),
            line: 1,
            column: 1,
            message: "rules cannot be templates (no ?principal / ?resource slots)".into(),
        });
    }
    let mut rules: Vec<Rule> = Vec::new();
    let mut policies: Vec<&Policy> = set.policies().collect();
    policies.sort_by_key(|p| policy_line(text, p));
    for policy in policies {
        let id = policy.annotation("id").unwrap_or_default();
        if let Some(rule) = rules.iter_mut().find(|r| r.id == id) {
            match continuation(source, text, policy, rule) {
                Ok(extra) => rule.policies.push(extra),
                Err(e) => errors.push(e),
            }
            continue;
        }
        match rule_from_policy(source, text, policy) {
            Ok(rule) => rules.push(rule),
            Err(e) => errors.push(e),
        }
    }
    if rules.is_empty() && errors.is_empty() {
        errors.push(RuleError {
            source: source.to_string(),
            line: 1,
            column: 1,
            message: "no rule in this file".into(),
        });
    }
    if errors.is_empty() {
        Ok(rules)
    } else {
        errors.sort_by_key(|e| (e.line, e.column));
        Err(errors)
    }
}

/// Where a policy starts: its first annotation or its effect keyword. Cedar
/// keeps the policy's own text, which we find in the file.
fn policy_line(text: &str, policy: &Policy) -> usize {
    let own = policy.to_string();
    let first_line = own.lines().next().unwrap_or("").trim();
    if let Some(id) = policy.annotation("id") {
        let needle = format!("@id(\"{id}\")");
        if let Some(pos) = text.find(&needle) {
            return line_col(text, pos).0;
        }
    }
    text.find(first_line)
        .map(|p| line_col(text, p).0)
        .unwrap_or(1)
}

/// Errors located at a policy's first line.
fn policy_error(source: &str, line: usize) -> impl Fn(String) -> RuleError + Copy + '_ {
    move |message| RuleError {
        source: source.to_string(),
        line,
        column: 1,
        message,
    }
}

fn resource_kind_of(
    policy: &Policy,
    err: impl Fn(String) -> RuleError,
) -> Result<ResourceKind, RuleError> {
    match policy.resource_constraint() {
        ResourceConstraint::Is(t) | ResourceConstraint::IsIn(t, _) => match t.to_string().as_str() {
            "EcrAudit::Repository" => Ok(ResourceKind::Repository),
            "EcrAudit::Registry" => Ok(ResourceKind::Registry),
            "EcrAudit::IamPrincipal" => Ok(ResourceKind::IamPrincipal),
            "EcrAudit::CreationTemplate" => Ok(ResourceKind::CreationTemplate),
            other => Err(err(format!("unknown resource type {other}"))),
        },
        _ => Err(err("the resource scope must name one type: `resource is EcrAudit::Repository` (or Registry, IamPrincipal, CreationTemplate)".into())),
    }
}

fn check_permit(policy: &Policy, err: impl Fn(String) -> RuleError) -> Result<(), RuleError> {
    if policy.effect() == cedar_policy::Effect::Permit {
        Ok(())
    } else {
        Err(err(
            "a rule must be a `permit` policy: the resources it permits are the findings".into(),
        ))
    }
}

/// A further policy of an already-defined rule: another resource type.
fn continuation(
    source: &str,
    text: &str,
    policy: &Policy,
    rule: &Rule,
) -> Result<RulePolicy, RuleError> {
    let err = policy_error(source, policy_line(text, policy));
    check_permit(policy, err)?;
    for (key, _) in policy.annotations() {
        if key != "id" && key != "message" && key != "details" {
            return Err(err(format!(
                "@{key}: a further policy of rule {} may only carry @id, @message and @details",
                rule.id
            )));
        }
    }
    let kind = resource_kind_of(policy, err)?;
    if rule.policies.iter().any(|p| p.kind == kind) {
        return Err(err(format!(
            "rule {} already has a policy for this resource type",
            rule.id
        )));
    }
    Ok(RulePolicy {
        kind,
        policy: policy.clone(),
        message: policy.annotation("message").map(str::to_string),
        details: policy.annotation("details").map(detail_paths),
    })
}

/// A @details annotation's comma-separated attribute paths.
fn detail_paths(annotation: &str) -> Vec<String> {
    annotation
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn rule_from_policy(source: &str, text: &str, policy: &Policy) -> Result<Rule, RuleError> {
    let line = policy_line(text, policy);
    let err = policy_error(source, line);
    check_permit(policy, err)?;
    let annotations: BTreeMap<&str, &str> = policy.annotations().collect();
    for key in annotations.keys() {
        if !REQUIRED.contains(key) && !OPTIONAL.contains(key) {
            return Err(err(format!(
                "unknown annotation @{key} (known: {}, {})",
                REQUIRED.join(", "),
                OPTIONAL.join(", ")
            )));
        }
    }
    for key in REQUIRED {
        if !annotations.contains_key(key) {
            return Err(err(format!("missing annotation @{key}")));
        }
    }
    let get = |k: &str| {
        annotations
            .get(k)
            .map(|s| s.to_string())
            .unwrap_or_default()
    };
    let severity =
        Severity::from_str(&get("severity")).map_err(|e| err(format!("@severity: {e}")))?;
    let resource_kind = resource_kind_of(policy, err)?;
    let enabled_by_default = match annotations.get("default") {
        None | Some(&"on") => true,
        Some(&"off") => false,
        Some(other) => {
            return Err(err(format!(
                "@default must be \"on\" or \"off\", not \"{other}\""
            )))
        }
    };
    let id = get("id");
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(err(format!(
            "@id \"{id}\" must be letters, digits, '-' or '_'"
        )));
    }
    Ok(Rule {
        id,
        name: get("name"),
        severity,
        title: get("title"),
        description: get("description"),
        remediation: get("remediation"),
        compliance: annotations.get("compliance").map(|s| s.to_string()),
        help_uri: annotations.get("help_uri").map(|s| s.to_string()),
        message: get("message"),
        details: detail_paths(&get("details")),
        enabled_by_default,
        source: source.to_string(),
        line,
        policies: vec![RulePolicy {
            kind: resource_kind,
            policy: policy.clone(),
            message: None,
            details: None,
        }],
    })
}

/// Loads the built-in rules and, optionally, every `.cedar` file of a
/// directory. Duplicate ids are errors naming both places.
pub fn load_rules(extra_dir: Option<&Path>) -> Result<Vec<Rule>, Vec<RuleError>> {
    let schema = schema();
    let mut files: Vec<(String, String)> = BUILTIN_RULES
        .iter()
        .map(|(name, text)| (name.to_string(), text.to_string()))
        .collect();
    if let Some(dir) = extra_dir {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            vec![RuleError {
                source: dir.display().to_string(),
                line: 0,
                column: 0,
                message: format!("cannot read rules directory: {e}"),
            }]
        })?;
        let mut paths: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "cedar"))
            .collect();
        paths.sort();
        for path in paths {
            let text =
                crate::files::read_text_file(&path, crate::files::MAX_FILE_BYTES).map_err(|e| {
                    let (line, column) = e.position.unwrap_or((0, 0));
                    vec![RuleError {
                        source: path.display().to_string(),
                        line,
                        column,
                        message: format!("cannot read rule file: {}", e.message),
                    }]
                })?;
            files.push((path.display().to_string(), text));
        }
    }
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for (source, text) in &files {
        match parse_rule_file(source, text, &schema) {
            Ok(mut r) => rules.append(&mut r),
            Err(mut e) => errors.append(&mut e),
        }
    }
    let mut seen: BTreeMap<String, (String, usize)> = BTreeMap::new();
    for rule in &rules {
        if let Some((src, line)) = seen.insert(rule.id.clone(), (rule.source.clone(), rule.line)) {
            errors.push(RuleError {
                source: rule.source.clone(),
                line: rule.line,
                column: 1,
                message: format!("rule id {} is already defined at {src}:{line}", rule.id),
            });
        }
    }
    if errors.is_empty() {
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(rules)
    } else {
        Err(errors)
    }
}

/// Ids of all rules, for config checks.
pub fn rule_ids(rules: &[Rule]) -> BTreeSet<String> {
    rules.iter().map(|r| r.id.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_paths_overlap_when_one_contains_the_other() {
        assert!(paths_overlap("access", "access.public_read"));
        assert!(paths_overlap("access.public_read", "access"));
        assert!(paths_overlap("images", "images"));
        assert!(!paths_overlap("access.public_read", "access.public_write"));
        assert!(!paths_overlap("access", "accessible"));
        let reads = Reads::Attributes(["access.public_read".to_string()].into());
        assert!(reads.includes("access"));
        assert!(reads.includes("access.public_read"));
        assert!(!reads.includes("access.granted_by"));
        assert!(Reads::Everything.includes("anything"));
    }
}
