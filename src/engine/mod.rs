//! The rule engine: evaluates every enabled rule against every audit entity,
//! in parallel.
//!
//! Rules are grouped by the resource type they apply to and by the
//! attribute paths they read ([`groups`]): each group is one Cedar
//! authorization on the entity's projection, reused for entities whose
//! projection is equal. The authorizer's "reason" set (the permit policies
//! that were satisfied) is the list of rules that fire.

mod attributes;
mod groups;
pub mod rules;
pub mod template;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicyId,
    PolicySet, Request, RestrictedExpression,
};
use rayon::prelude::*;
use serde_json::Value;

pub use attributes::Attr;

use crate::finding::{fingerprint, Details, Finding, ResourceKind, Severity};
use crate::model::{AuditEntity, AuditModel};
use groups::RuleGroup;
pub use rules::{load_rules, Rule, RuleError};

/// The rule reported for another rule that could not be evaluated on a
/// resource because a read it depends on failed.
pub const NOT_EVALUATED: &str = "ECR002";

/// Thresholds visible to rules as `context.*`.
#[derive(Debug, Clone, Copy)]
pub struct AuditContext {
    pub stale_days: i64,
    pub unpulled_days: i64,
}

/// Which rules run and at what severity (from config and flags).
#[derive(Debug, Clone, Default)]
pub struct RuleSelection {
    pub disabled: HashSet<String>,
    pub enabled: HashSet<String>,
    pub severity: HashMap<String, Severity>,
}

impl RuleSelection {
    /// Does the rule run: on by default unless disabled, off by default
    /// unless enabled.
    pub fn is_on(&self, rule: &Rule) -> bool {
        if rule.enabled_by_default {
            !self.disabled.contains(&rule.id)
        } else {
            self.enabled.contains(&rule.id)
        }
    }

    /// The rule's severity, as configured or as the rule says.
    pub fn severity_of(&self, rule: &Rule) -> Severity {
        self.severity
            .get(&rule.id)
            .copied()
            .unwrap_or(rule.severity)
    }
}

pub struct Engine {
    /// The rules that run, sorted by id; decisions name them by position.
    rules: Vec<Rule>,
    /// Per rule (in the same order) and resource type, its message and
    /// details, parsed once.
    prepared: Vec<Vec<(ResourceKind, Prepared)>>,
    /// Per resource type, its rules grouped by the attributes they read.
    groups: HashMap<ResourceKind, Vec<RuleGroup>>,
    /// Per resource type, the rules that apply and the attributes each
    /// reads (found once from their Cedar text).
    reads: HashMap<ResourceKind, Vec<(String, rules::Reads)>>,
    context: Context,
    context_attributes: Attr,
}

/// A rule's message and details for one resource type, parsed once, and
/// the text every one of its findings carries.
struct Prepared {
    rule_id: Arc<str>,
    rule_name: Arc<str>,
    title: Arc<str>,
    message: template::Template,
    /// Each detail's path as the rule writes it, its key (the last part)
    /// and the path parsed.
    details: Vec<(String, Arc<str>, template::Path)>,
}

impl Prepared {
    fn of(rule: &Rule, kind: ResourceKind) -> Prepared {
        Prepared {
            rule_id: rule.id.as_str().into(),
            rule_name: rule.name.as_str().into(),
            title: rule.title.as_str().into(),
            message: template::Template::parse(rule.message_for(kind)),
            details: rule
                .details_for(kind)
                .iter()
                .map(|path| {
                    let key = path.rsplit('.').next().unwrap_or(path);
                    (path.clone(), key.into(), template::Path::parse(path))
                })
                .collect(),
        }
    }
}

/// The text an entity's findings all carry, shared by them.
struct EntityText {
    arn: Arc<str>,
    account: Arc<str>,
    region: Option<Arc<str>>,
    location: Arc<str>,
}

impl EntityText {
    fn of(entity: &AuditEntity) -> EntityText {
        EntityText {
            arn: entity.arn.as_str().into(),
            account: entity.account.as_str().into(),
            region: entity.region.as_deref().map(Arc::from),
            location: entity.location.as_str().into(),
        }
    }
}

/// An error evaluating a rule on a resource: a bug in a (custom) rule, never
/// silently dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluationError {
    pub rule_id: String,
    pub resource_arn: String,
    pub message: String,
}

impl std::fmt::Display for EvaluationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "rule {} on {}: {}",
            self.rule_id, self.resource_arn, self.message
        )
    }
}

/// A static Cedar name parsed once: Cedar parses names with its full
/// grammar, too slow to do once per entity.
// PANIC SAFETY: called with static, valid Cedar names only.
#[allow(clippy::expect_used)]
fn parsed_once<T: FromStr + Clone>(cell: &'static OnceLock<T>, text: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    cell.get_or_init(|| T::from_str(text).expect("a static, valid Cedar name"))
        .clone()
}

fn entity_type(kind: ResourceKind) -> EntityTypeName {
    static REGISTRY: OnceLock<EntityTypeName> = OnceLock::new();
    static REPOSITORY: OnceLock<EntityTypeName> = OnceLock::new();
    static PRINCIPAL: OnceLock<EntityTypeName> = OnceLock::new();
    static TEMPLATE: OnceLock<EntityTypeName> = OnceLock::new();
    match kind {
        ResourceKind::Registry => parsed_once(&REGISTRY, "EcrAudit::Registry"),
        ResourceKind::Repository => parsed_once(&REPOSITORY, "EcrAudit::Repository"),
        ResourceKind::IamPrincipal => parsed_once(&PRINCIPAL, "EcrAudit::IamPrincipal"),
        ResourceKind::CreationTemplate => parsed_once(&TEMPLATE, "EcrAudit::CreationTemplate"),
    }
}

fn uid(kind: ResourceKind, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(entity_type(kind), EntityId::new(id))
}

fn scanner() -> EntityUid {
    static SCANNER: OnceLock<EntityUid> = OnceLock::new();
    parsed_once(&SCANNER, r#"EcrAudit::Scanner::"ecr-audit""#)
}

fn audit_action() -> EntityUid {
    static AUDIT: OnceLock<EntityUid> = OnceLock::new();
    parsed_once(&AUDIT, r#"EcrAudit::Action::"audit""#)
}

/// An attribute → Cedar value. Numbers are whole; sets and records nest.
// PANIC SAFETY: a record built from facts has unique keys.
#[allow(clippy::expect_used)]
fn to_restricted(value: &Attr) -> RestrictedExpression {
    match value {
        Attr::Bool(b) => RestrictedExpression::new_bool(*b),
        Attr::Number(n) => RestrictedExpression::new_long(n.as_i64().unwrap_or(i64::MAX)),
        Attr::String(s) => RestrictedExpression::new_string(s.clone()),
        Attr::Set(items) => RestrictedExpression::new_set(items.iter().map(to_restricted)),
        Attr::Record(fields) => RestrictedExpression::new_record(
            fields
                .iter()
                .map(|(k, v)| (k.to_string(), to_restricted(v))),
        )
        .expect("record keys are unique"),
        Attr::Null => RestrictedExpression::new_string(String::new()),
    }
}

/// An entity's typed facts as the attributes the audit schema declares: the
/// one place facts become untyped, for its Cedar entity and its messages.
// PANIC SAFETY: facts have string keys only, so they have a view.
#[allow(clippy::expect_used)]
pub fn attributes(entity: &AuditEntity) -> Attr {
    Attr::of(&entity.facts).expect("facts have a view")
}

/// The Cedar entity for an audit entity.
pub fn cedar_entity(entity: &AuditEntity) -> Entity {
    let attributes = attributes(entity);
    let all: Vec<(&str, &Attr)> = attributes
        .as_record()
        .unwrap_or(&[])
        .iter()
        .map(|(k, v)| (&**k, v))
        .collect();
    cedar_entity_with(entity, &all)
}

/// The Cedar entity for an audit entity with just these attributes.
// PANIC SAFETY: attribute values are literals, never expressions that can fail.
#[allow(clippy::expect_used)]
fn cedar_entity_with(entity: &AuditEntity, attributes: &[(&str, &Attr)]) -> Entity {
    let attrs: HashMap<String, RestrictedExpression> = attributes
        .iter()
        .map(|(k, v)| ((*k).to_string(), to_restricted(v)))
        .collect();
    Entity::new(uid(entity.kind, &entity.arn), attrs, HashSet::new())
        .expect("attribute values are literals")
}

impl Engine {
    // PANIC SAFETY: rule ids are unique (checked when rules load), so policy ids are.
    // PANIC SAFETY: the context is two longs.
    #[allow(clippy::expect_used)]
    pub fn new(all_rules: Vec<Rule>, selection: &RuleSelection, ctx: AuditContext) -> Engine {
        let mut rules = BTreeMap::new();
        let mut reads: HashMap<ResourceKind, Vec<(String, rules::Reads)>> = HashMap::new();
        type GroupKey = (ResourceKind, Option<BTreeSet<Vec<String>>>);
        let mut sets: BTreeMap<GroupKey, PolicySet> = BTreeMap::new();
        for mut rule in all_rules {
            if !selection.is_on(&rule) {
                continue;
            }
            rule.severity = selection.severity_of(&rule);
            for part in &rule.policies {
                let policy = part.policy.new_id(PolicyId::new(&rule.id));
                sets.entry((part.kind, groups::needs(&part.policy)))
                    .or_default()
                    .add(policy)
                    .expect("rule ids are unique");
            }
            for kind in rule.resource_kinds() {
                reads
                    .entry(kind)
                    .or_default()
                    .push((rule.id.clone(), rule.reads(kind)));
            }
            rules.insert(rule.id.clone(), rule);
        }
        let rules: Vec<Rule> = rules.into_values().collect();
        let prepared = rules
            .iter()
            .map(|rule| {
                let kinds = rule.resource_kinds();
                kinds.iter().map(|&k| (k, Prepared::of(rule, k))).collect()
            })
            .collect();
        let context_attributes = Attr::Record(vec![
            ("stale_days".into(), Attr::Number(ctx.stale_days.into())),
            (
                "unpulled_days".into(),
                Attr::Number(ctx.unpulled_days.into()),
            ),
        ]);
        let context = Context::from_pairs([
            (
                "stale_days".to_string(),
                RestrictedExpression::new_long(ctx.stale_days),
            ),
            (
                "unpulled_days".to_string(),
                RestrictedExpression::new_long(ctx.unpulled_days),
            ),
        ])
        .expect("static context");
        let mut groups: HashMap<ResourceKind, Vec<RuleGroup>> = HashMap::new();
        for ((kind, attributes), set) in sets {
            groups
                .entry(kind)
                .or_default()
                .push(RuleGroup::new(set, attributes));
        }
        Engine {
            rules,
            prepared,
            groups,
            reads,
            context,
            context_attributes,
        }
    }

    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter()
    }

    /// A running rule's position in `rules`.
    fn position(&self, id: &str) -> Option<usize> {
        self.rules
            .binary_search_by(|rule| rule.id.as_str().cmp(id))
            .ok()
    }

    fn rule(&self, id: &str) -> Option<&Rule> {
        self.position(id).and_then(|at| self.rules.get(at))
    }

    /// Evaluates every rule on every entity. Findings come back unsorted.
    pub fn evaluate(&self, model: &AuditModel) -> (Vec<Finding>, Vec<EvaluationError>) {
        let results: Vec<(Vec<Finding>, Vec<EvaluationError>)> = model
            .entities
            .par_iter()
            .map(|entity| self.evaluate_entity(entity))
            .collect();
        // Sized once: half a million findings grown by doubling would hold
        // up to twice their room, and two buffers at once while copying.
        let mut findings = Vec::with_capacity(results.iter().map(|(f, _)| f.len()).sum());
        let mut errors = Vec::new();
        for (f, e) in results {
            findings.extend(f);
            errors.extend(e);
        }
        (findings, errors)
    }

    /// Evaluates one entity's rules, group by group; see [`groups`].
    fn evaluate_entity(&self, entity: &AuditEntity) -> (Vec<Finding>, Vec<EvaluationError>) {
        let Some(groups) = self.groups.get(&entity.kind) else {
            return (vec![], vec![]);
        };
        let attrs = attributes(entity);
        let all = attrs.as_record().unwrap_or(&[]);
        let mut fired: Vec<usize> = Vec::new();
        let mut errors: Vec<EvaluationError> = Vec::new();
        // One buffer for every group's key: copied only when a decision
        // is kept.
        let mut key = Vec::with_capacity(512);
        for group in groups {
            let keyed = group.key_into(all, &mut key);
            if keyed && group.cached(&key, &mut fired) {
                continue;
            }
            let whole = || {
                all.iter()
                    .map(|(k, v)| (&**k, v))
                    .collect::<Vec<(&str, &Attr)>>()
            };
            let projection = group.project(all);
            let (mut ids, mut failed) = match &projection {
                Some(part) => {
                    let part: Vec<(&str, &Attr)> = part.iter().map(|(k, v)| (&**k, v)).collect();
                    self.authorize(entity, &group.set, &part)
                }
                None => self.authorize(entity, &group.set, &whole()),
            };
            if !failed.is_empty() && projection.is_some() {
                // Errors are reported as the whole entity would give them.
                (ids, failed) = self.authorize(entity, &group.set, &whole());
            }
            let decision: groups::Decision =
                ids.iter().filter_map(|id| self.position(id)).collect();
            fired.extend_from_slice(&decision);
            if failed.is_empty() && keyed {
                group.keep(key.clone(), decision);
            }
            errors.extend(failed);
        }
        let text = EntityText::of(entity);
        let mut findings: Vec<Finding> = fired
            .iter()
            .filter_map(|&at| Some((self.rules.get(at)?, self.prepared.get(at)?)))
            .map(|(rule, prepared)| self.finding_with(rule, prepared, entity, &text, &attrs))
            .collect();
        if !entity.unread.is_empty() {
            // A rule that reads a fact no one could read neither fires nor
            // passes: it is reported as not evaluated, once per failed read.
            let mut unevaluated = Vec::new();
            for (id, reads) in self.reads.get(&entity.kind).into_iter().flatten() {
                let Some(rule) = self.rule(id) else {
                    continue;
                };
                let failed: BTreeSet<&String> = entity
                    .unread
                    .iter()
                    .filter(|(attr, _)| reads.includes(attr))
                    .flat_map(|(_, reads)| reads.iter())
                    .collect();
                if failed.is_empty() {
                    continue;
                }
                findings.retain(|f| *f.rule_id != *rule.id);
                errors.retain(|e| e.rule_id != rule.id);
                for read in failed {
                    unevaluated.push((rule, read.clone()));
                }
            }
            if let Some(marker) = self.rule(NOT_EVALUATED) {
                findings.retain(|f| &*f.rule_id != NOT_EVALUATED);
                for (rule, read) in unevaluated {
                    findings.push(self.not_evaluated(marker, rule, &read, entity, &text));
                }
            }
        }
        (findings, errors)
    }

    /// One Cedar authorization of a set of rules on an entity with these
    /// attributes: the rules that fire, and evaluation errors.
    // PANIC SAFETY: one entity has no duplicates; the request uses static names.
    #[allow(clippy::expect_used)]
    fn authorize(
        &self,
        entity: &AuditEntity,
        set: &PolicySet,
        attributes: &[(&str, &Attr)],
    ) -> (Vec<String>, Vec<EvaluationError>) {
        let entities = Entities::from_entities([cedar_entity_with(entity, attributes)], None)
            .expect("a single entity has no duplicates");
        let request = Request::new(
            scanner(),
            audit_action(),
            uid(entity.kind, &entity.arn),
            self.context.clone(),
            None,
        )
        .expect("no schema: request always builds");
        let response = Authorizer::new().is_authorized(&request, set, &entities);
        let fired = response
            .diagnostics()
            .reason()
            .map(|id| id.to_string())
            .collect();
        let errors = response
            .diagnostics()
            .errors()
            .map(|e| EvaluationError {
                rule_id: match e {
                    cedar_policy::AuthorizationError::PolicyEvaluationError(p) => {
                        p.policy_id().to_string()
                    }
                },
                resource_arn: entity.arn.clone(),
                message: e.to_string(),
            })
            .collect();
        (fired, errors)
    }

    /// The finding for a rule that could not be evaluated on an entity
    /// because a read it depends on failed.
    fn not_evaluated(
        &self,
        marker: &Rule,
        rule: &Rule,
        read: &str,
        entity: &AuditEntity,
        text: &EntityText,
    ) -> Finding {
        let what = match entity.kind {
            ResourceKind::Registry => format!(
                "the registry in {} {}",
                entity.account,
                entity.region.as_deref().unwrap_or("")
            ),
            _ => entity.arn.clone(),
        };
        Finding {
            rule_id: marker.id.as_str().into(),
            rule_name: marker.name.as_str().into(),
            severity: marker.severity,
            title: marker.title.as_str().into(),
            message: format!(
                "Rule {} ({}) could not be evaluated on {what}: {read}. It neither fires nor passes until the read succeeds.",
                rule.id, rule.name
            ),
            resource_kind: entity.kind,
            resource_arn: Arc::clone(&text.arn),
            account: Arc::clone(&text.account),
            region: text.region.clone(),
            location: Arc::clone(&text.location),
            fingerprint: fingerprint(&marker.id, &entity.arn, &format!("{} {read}", rule.id)),
            details: [
                ("rule", Value::String(rule.id.clone())),
                ("failed_read", Value::String(read.to_string())),
            ]
            .into_iter()
            .collect(),
            baseline_state: None,
        }
    }

    /// A rule's finding on an entity, its message and details prepared
    /// when the rule was found by id.
    #[cfg(test)]
    fn finding(
        &self,
        rule: &Rule,
        entity: &AuditEntity,
        text: &EntityText,
        attrs: &Attr,
    ) -> Finding {
        let prepared = self
            .position(&rule.id)
            .and_then(|at| self.prepared.get(at))
            .map_or(&[][..], Vec::as_slice);
        self.finding_with(rule, prepared, entity, text, attrs)
    }

    /// A rule's finding on an entity, with the rule's messages and details
    /// prepared for each resource type.
    fn finding_with(
        &self,
        rule: &Rule,
        prepared: &[(ResourceKind, Prepared)],
        entity: &AuditEntity,
        text: &EntityText,
        attrs: &Attr,
    ) -> Finding {
        let scope = template::Scope {
            resource: attrs,
            context: &self.context_attributes,
        };
        let unread = |path: &str| {
            entity
                .unread
                .keys()
                .any(|attribute| rules::paths_overlap(attribute, path))
        };
        let fallback;
        let prepared = match prepared.iter().find(|(k, _)| *k == entity.kind) {
            Some((_, prepared)) => prepared,
            // A rule on a type it does not name (never from `evaluate`).
            None => {
                fallback = Prepared::of(rule, entity.kind);
                &fallback
            }
        };
        let mut details = Details::with_capacity(prepared.details.len());
        for (path, key, parsed) in &prepared.details {
            if unread(path) {
                continue;
            }
            if let Some(v) = parsed.lookup(&scope) {
                details.insert_shared(key, v.to_json());
            }
        }
        let mut message = prepared.message.render(&scope, &unread);
        // A proof's replayed counterexample is the strongest evidence a
        // finding can carry: say it in the message too.
        let counterexamples = details
            .iter()
            .filter(|(k, _)| k.ends_with("counterexamples"))
            .find_map(|(_, v)| v.as_array().filter(|a| !a.is_empty()));
        if let Some(cx) = counterexamples {
            if let Some(first) = cx.first().and_then(Value::as_str) {
                message.push_str(&format!(" Proof counterexample: {first}."));
                if cx.len() > 1 {
                    message.push_str(&format!(" ({} more in details.)", cx.len() - 1));
                }
            }
        }
        Finding {
            rule_id: Arc::clone(&prepared.rule_id),
            rule_name: Arc::clone(&prepared.rule_name),
            severity: rule.severity,
            title: Arc::clone(&prepared.title),
            message,
            resource_kind: entity.kind,
            resource_arn: Arc::clone(&text.arn),
            account: Arc::clone(&text.account),
            region: text.region.clone(),
            location: Arc::clone(&text.location),
            fingerprint: fingerprint(&rule.id, &entity.arn, ""),
            details,
            baseline_state: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Inventory;
    use crate::model::{build, ModelOptions};

    fn demo_model() -> AuditModel {
        model_of(include_str!("../../fixtures/demo-org.json"))
    }

    /// The model of an inventory, with the default thresholds.
    fn model_of(text: &str) -> AuditModel {
        let inv = Inventory::from_json(text, "test").unwrap();
        build(
            &inv,
            &ModelOptions {
                as_of: inv.collected_at.unwrap(),
                stale_days: 14,
                unpulled_days: 90,
                trusted_accounts: Default::default(),
            },
        )
    }

    /// Every built-in rule, with the default thresholds.
    fn builtin_engine() -> Engine {
        Engine::new(
            load_rules(None).unwrap(),
            &RuleSelection::default(),
            AuditContext {
                stale_days: 14,
                unpulled_days: 90,
            },
        )
    }

    #[test]
    fn every_rule_file_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".cedar") {
                let listed = format!("rules/{name}");
                assert!(
                    rules::BUILTIN_RULES.iter().any(|(n, _)| *n == listed),
                    "{name} is not embedded"
                );
            }
        }
    }

    #[test]
    fn model_entities_conform_to_the_schema() {
        let schema = rules::schema();
        let model = demo_model();
        assert!(model.entities.len() > 30);
        let entities: Vec<Entity> = model.entities.iter().map(cedar_entity).collect();
        Entities::from_entities(entities, Some(&schema)).expect("entities match the schema");
    }

    #[test]
    fn builtin_messages_resolve_every_path() {
        let model = demo_model();
        let engine = builtin_engine();
        for rule in engine.rules() {
            for kind in rule.resource_kinds() {
                let entity = model.entities.iter().find(|e| e.kind == kind).unwrap();
                let finding =
                    engine.finding(rule, entity, &EntityText::of(entity), &attributes(entity));
                assert!(
                    !finding.message.contains("{?"),
                    "{}: {}",
                    rule.id,
                    finding.message
                );
                assert_eq!(
                    finding.details.len(),
                    rule.details_for(kind).len(),
                    "{}: a @details path does not resolve",
                    rule.id
                );
            }
        }
    }

    #[test]
    fn rules_evaluate_without_errors_on_the_demo() {
        let engine = builtin_engine();
        let (findings, errors) = engine.evaluate(&demo_model());
        assert!(errors.is_empty(), "{errors:?}");
        assert!(!findings.is_empty());
    }

    /// The rules that fire on each entity when every rule of its type is
    /// authorized at once on the whole entity: what grouping must not change.
    fn fired_on_whole_entities(engine: &Engine, model: &AuditModel) -> Vec<BTreeSet<String>> {
        model
            .entities
            .iter()
            .map(|entity| {
                let mut set = PolicySet::new();
                for rule in engine.rules() {
                    for part in rule.policies.iter().filter(|p| p.kind == entity.kind) {
                        set.add(part.policy.new_id(PolicyId::new(&rule.id)))
                            .unwrap();
                    }
                }
                let attrs = attributes(entity);
                let whole: Vec<(&str, &Attr)> = attrs
                    .as_record()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (&**k, v))
                    .collect();
                let (fired, errors) = engine.authorize(entity, &set, &whole);
                assert!(errors.is_empty(), "{errors:?}");
                fired.into_iter().collect()
            })
            .collect()
    }

    #[test]
    fn grouped_and_reused_decisions_equal_whole_entity_decisions() {
        let engine = builtin_engine();
        let mut inventories = vec![include_str!("../../fixtures/demo-org.json").to_string()];
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/inventories");
        for dir in [fixtures.to_string(), format!("{fixtures}/registry")] {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "json") {
                    inventories.push(std::fs::read_to_string(path).unwrap());
                }
            }
        }
        let mut compared = 0;
        for text in inventories {
            let model = model_of(&text);
            let expected = fired_on_whole_entities(&engine, &model);
            // Twice: the second pass answers from the reused decisions.
            for _ in 0..2 {
                for (entity, expected) in model.entities.iter().zip(&expected) {
                    if !entity.unread.is_empty() {
                        continue;
                    }
                    let (findings, errors) = engine.evaluate_entity(entity);
                    assert!(errors.is_empty(), "{errors:?}");
                    let fired: BTreeSet<String> = findings
                        .into_iter()
                        .map(|f| f.rule_id.to_string())
                        .collect();
                    assert_eq!(&fired, expected, "{}", entity.arn);
                    compared += 1;
                }
            }
        }
        assert!(compared > 200, "{compared}");
    }

    #[test]
    fn paths_read_follow_plain_attribute_access() {
        use rules::paths_read;
        let paths = |condition: &str| {
            let text = format!(
                "permit (principal, action, resource is EcrAudit::Repository) when {{ {condition} }};"
            );
            paths_read(&text.parse().unwrap())
                .map(|p| p.into_iter().map(|path| path.join(".")).collect::<Vec<_>>())
        };
        let some = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            paths("resource.images.stale_untagged_count > context.stale_days"),
            some(&["images.stale_untagged_count"])
        );
        assert_eq!(
            paths(r#"resource.tags.contains("a") && resource.images has count"#),
            some(&["images", "tags"])
        );
        assert_eq!(
            paths(r#"resource.access["public_read"] && resource has name"#),
            some(&["access", "name"])
        );
        assert_eq!(
            paths(r#"resource.lifecycle.summary like "*resource.images*""#),
            some(&["lifecycle.summary"])
        );
        assert_eq!(paths(r#"resource.getTag("a") == "b""#), None);
        assert_eq!(paths("resource in EcrAudit::Repository::\"x\""), None);
        assert_eq!(paths("resource == resource"), None);
    }

    #[test]
    fn disabled_and_off_by_default_rules_do_not_run() {
        let mut selection = RuleSelection::default();
        selection.disabled.insert("ECR302".into());
        let engine = Engine::new(
            load_rules(None).unwrap(),
            &selection,
            AuditContext {
                stale_days: 14,
                unpulled_days: 90,
            },
        );
        let (findings, _) = engine.evaluate(&demo_model());
        assert!(!findings.iter().any(|f| &*f.rule_id == "ECR302"));
        assert!(findings.iter().any(|f| &*f.rule_id == "ECR303"));
    }
}
