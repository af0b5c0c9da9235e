//! Proofs: symbolic verification of access properties with the Cedar
//! symbolic compiler (`cedar-policy-symcc`) and the cvc5 SMT solver.
//!
//! A property ("no principal outside the zone of trust can read this
//! repository") is proved when the policy's Cedar translation, together
//! with the world axioms ([`world`]), denies every request of every caller
//! outside the zone for every action of the property. The solver decides
//! that over all requests at once, not over examples. When it finds a
//! request the policy allows, the request is rebuilt concretely, checked
//! against the zone and replayed through the Cedar authorizer and the
//! reference evaluator ([`witness`]); only a confirmed request refutes the
//! property. A timeout, a solver error or a request that does not replay
//! is "unknown": never "proved".
//!
//! Questions are grouped: actions every statement treats alike are asked
//! once, and answers are cached by the exact text put to the solver
//! (policy translation plus axioms), so identical policies across
//! repositories and accounts cost one proof.

mod canon;
pub mod run;
pub mod witness;
pub mod world;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cedar_policy::{EntityTypeName, EntityUid, PolicySet, RequestEnv};
use cedar_policy_symcc::solver::LocalSolver;
use cedar_policy_symcc::{CedarSymCompiler, CompiledPolicySet};
use serde::Serialize;

use crate::access::identity::is_public_platform;
use crate::access::Zone;
use crate::cedar::{self, Translation};
use crate::policy::actions::{self, ActionClass, ResourceScope};
use crate::policy::{parse, Effect, PolicyDocument, PolicyKind, Principal};
pub use witness::Counterexample;
use world::Caller;

/// What a proof is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Subject {
    Repository,
    Registry,
    Role,
}

/// A property of one subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Property {
    /// No principal outside the zone can pull or read metadata.
    Read,
    /// ... can push, delete, or change settings or tags.
    Write,
    /// ... can change who has access (set or delete the policy).
    Permissions,
    /// ... can replicate into, create repositories in, or import into the
    /// registry (the registry policy's own actions).
    RegistryActions,
    /// No principal outside the zone can assume the role.
    Assume,
}

impl Property {
    pub fn name(self) -> &'static str {
        match self {
            Property::Read => "read",
            Property::Write => "write",
            Property::Permissions => "permissions",
            Property::RegistryActions => "registry-actions",
            Property::Assume => "assume",
        }
    }

    /// The property as a sentence about its subject.
    pub fn sentence(self) -> &'static str {
        match self {
            Property::Read => "no principal outside the zone of trust can read",
            Property::Write => "no principal outside the zone of trust can write",
            Property::Permissions => {
                "no principal outside the zone of trust can change permissions"
            }
            Property::RegistryActions => {
                "no principal outside the zone of trust can replicate, create or import"
            }
            Property::Assume => "no principal outside the zone of trust can assume the role",
        }
    }

    /// The properties of a subject.
    pub fn of(subject: Subject) -> &'static [Property] {
        match subject {
            Subject::Repository => &[Property::Read, Property::Write, Property::Permissions],
            Subject::Registry => &[
                Property::Read,
                Property::Write,
                Property::Permissions,
                Property::RegistryActions,
            ],
            Subject::Role => &[Property::Assume],
        }
    }

    /// The properties of a registry under `scope`: under V1 its policy
    /// governs only the registry's own actions.
    pub fn of_registry(scope: crate::access::RegistryScope) -> &'static [Property] {
        match scope {
            crate::access::RegistryScope::V1 => &[Property::RegistryActions],
            crate::access::RegistryScope::V2 => Property::of(Subject::Registry),
        }
    }

    /// The actions the property is about.
    pub fn actions(self, subject: Subject) -> Vec<&'static str> {
        let class = match self {
            Property::Read => ActionClass::Read,
            Property::Write => ActionClass::Write,
            Property::Permissions => ActionClass::Permissions,
            Property::RegistryActions => return actions::REGISTRY_POLICY_ACTIONS.to_vec(),
            Property::Assume => return crate::access::identity::ASSUME_ACTIONS.to_vec(),
        };
        actions::all()
            .iter()
            .filter(|a| a.scope == ResourceScope::Repository && a.class() == class)
            .filter(|a| {
                subject != Subject::Registry || !actions::REGISTRY_POLICY_ACTIONS.contains(&a.name)
            })
            .map(|a| a.name)
            .collect()
    }
}

/// The key a verdict is cached under, and the document's canonical form
/// when it has one: the same text in the same zone has the same verdict,
/// and so has a text naming other accounts of the same parts (`canon`);
/// the resource matters only when the policy names resources.
fn verdict_key(
    policy_text: &str,
    subject: Subject,
    arn: &str,
    zone: &Zone,
    property: &str,
) -> (String, Option<canon::Canonical>) {
    let resource_key = if crate::policy::may_name_resources(policy_text) {
        arn
    } else {
        ""
    };
    let canonical = canon::canonicalize(policy_text, resource_key, zone);
    let key = match &canonical {
        Some(c) => format!(
            "{subject:?}\n{property}\ncanonical {}\n{:?}\n{:?}\n{:?}\n{}\n{}",
            zone.accounts.contains(&zone.owner),
            zone.accounts,
            zone.org_id,
            zone.time,
            c.arn,
            c.text
        ),
        None => format!(
            "{subject:?}\n{property}\n{}\n{:?}\n{:?}\n{:?}\n{resource_key}\n{policy_text}",
            zone.owner, zone.accounts, zone.org_id, zone.time,
        ),
    };
    (key, canonical)
}

/// The verdict with every string mapped; `None` if a string's map is.
fn map_verdict(verdict: &Verdict, f: &mut dyn FnMut(&str) -> Option<String>) -> Option<Verdict> {
    Some(match verdict {
        Verdict::Proved => Verdict::Proved,
        Verdict::Unknown { reason } => Verdict::Unknown { reason: f(reason)? },
        Verdict::Refuted { counterexample: c } => {
            let mut context = Vec::with_capacity(c.context.len());
            for (k, values) in &c.context {
                let mut mapped = Vec::with_capacity(values.len());
                for v in values {
                    mapped.push(f(v)?);
                }
                context.push((f(k)?, mapped));
            }
            let mut absent = Vec::with_capacity(c.absent.len());
            for a in &c.absent {
                absent.push(f(a)?);
            }
            Verdict::Refuted {
                counterexample: Box::new(Counterexample {
                    principal: f(&c.principal)?,
                    outside: f(&c.outside)?,
                    action: f(&c.action)?,
                    resource: f(&c.resource)?,
                    context,
                    absent,
                }),
            }
        }
    })
}

/// The group of documents whose verdicts on these properties are shared.
pub(crate) fn verdict_group(
    policy_text: &str,
    subject: Subject,
    arn: &str,
    zone: &Zone,
    properties: &[Property],
) -> String {
    verdict_key(policy_text, subject, arn, zone, &format!("{properties:?}")).0
}

/// The outcome of one proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    Proved,
    Refuted { counterexample: Box<Counterexample> },
    Unknown { reason: String },
}

impl Verdict {
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Proved => "proved",
            Verdict::Refuted { .. } => "refuted",
            Verdict::Unknown { .. } => "unknown",
        }
    }
}

/// One property of one subject, decided.
#[derive(Debug, Clone, Serialize)]
pub struct Proof {
    pub subject: Subject,
    pub arn: String,
    pub account: String,
    pub property: Property,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// Solver settings.
#[derive(Debug, Clone)]
pub struct ProverOptions {
    /// Per-query limit given to cvc5 (`--tlimit-per`).
    pub timeout: Duration,
    /// Reuse answers for identical questions.
    pub cache: bool,
}

impl Default for ProverOptions {
    fn default() -> Self {
        ProverOptions {
            timeout: Duration::from_secs(10),
            cache: true,
        }
    }
}

/// How cvc5 is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Default,
    Extended,
}

/// Counters of one proof run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProverStats {
    /// Questions put to the solver.
    pub queries: u64,
    /// Questions answered from the cache.
    pub cache_hits: u64,
    /// Time spent waiting for the solver.
    pub solver_ms: u64,
    /// Solver processes started (one per worker, plus restarts).
    pub solvers_started: u64,
}

impl ProverStats {
    pub fn add(&mut self, o: &ProverStats) {
        self.queries += o.queries;
        self.cache_hits += o.cache_hits;
        self.solver_ms += o.solver_ms;
        self.solvers_started += o.solvers_started;
    }
}

/// What one question to the solver came to.
#[derive(Debug, Clone)]
enum Answer {
    /// No outside request is allowed.
    Unsat,
    /// A confirmed counterexample (its resource is filled in per subject).
    Refuted(Box<Counterexample>),
    /// The solver gave up, failed, or its request did not replay.
    Unknown(Unanswered),
}

/// Why a question has no answer; `reason` becomes the unknown verdict's.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Unanswered {
    kind: UnansweredKind,
    reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnansweredKind {
    /// The solver gave up within its time limit.
    GaveUp,
    /// cvc5's default mode refused a constraint only its extended string
    /// solver decides.
    NeedsExtendedStrings,
    /// The solver's request does not replay as an outside access.
    DoesNotReplay,
    /// The solver failed, or the question could not be put.
    Failed,
}

impl Unanswered {
    fn failed(reason: impl Into<String>) -> Unanswered {
        Unanswered {
            kind: UnansweredKind::Failed,
            reason: reason.into(),
        }
    }

    /// Worth a search with restrictions added: the solver gave up, or its
    /// request relied on something an outsider cannot do.
    fn searchable(&self) -> bool {
        matches!(
            self.kind,
            UnansweredKind::GaveUp | UnansweredKind::DoesNotReplay
        )
    }
}

/// The answers shared by every worker.
#[derive(Default)]
pub struct ProofCache {
    /// Per question put to the solver (policy translation and axioms).
    answers: Mutex<HashMap<String, Answer>>,
    /// Per property of a policy text in a zone: skips the translation too.
    verdicts: Mutex<HashMap<String, Verdict>>,
    /// Per Cedar translation: its validation (a document's properties
    /// share one translation; strict validation costs more than asking).
    validations: Mutex<HashMap<String, Result<(), Vec<String>>>>,
}

/// Why proofs could not run at all (a property the solver cannot decide is
/// an unknown verdict, not an error).
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    #[error("the SMT solver cvc5 was not found ({path}: {source}); install it (scripts/setup-solver) or set CVC5 to its path")]
    SolverMissing {
        path: String,
        source: std::io::Error,
    },
    #[error("the SMT solver {path} does not run: {stderr}")]
    SolverFails { path: String, stderr: String },
    #[error("cannot start the solver runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot start cvc5: {0}")]
    Start(String),
    #[error("cannot start a prover thread: {0}")]
    Thread(std::io::Error),
}

crate::files::user_diagnostic!(
    ProveError,
    "ecr_audit::prove",
    "only --prove and `ecr-audit prove` need the solver; a scan without them runs without it"
);

/// Is the solver there? The error says how to get it.
pub fn solver_available() -> Result<(), ProveError> {
    let path = std::env::var("CVC5").unwrap_or_else(|_| "cvc5".into());
    match std::process::Command::new(&path).arg("--version").output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(ProveError::SolverFails {
            stderr: String::from_utf8_lossy(&o.stderr).trim().to_string(),
            path,
        }),
        Err(source) => Err(ProveError::SolverMissing { path, source }),
    }
}

/// One worker: a cvc5 process and the runtime that talks to it.
pub struct Prover<'c> {
    runtime: tokio::runtime::Runtime,
    /// cvc5 in its default mode: most questions.
    compiler: Option<CedarSymCompiler<LocalSolver>>,
    /// cvc5 with its extended string solver, started on the first question
    /// the default mode refuses.
    extended: Option<CedarSymCompiler<LocalSolver>>,
    options: ProverOptions,
    cache: &'c ProofCache,
    pub stats: ProverStats,
    /// Questions the solver gave up on (time limit), this worker.
    gave_up: u64,
}

impl<'c> Prover<'c> {
    pub fn new(options: ProverOptions, cache: &'c ProofCache) -> Result<Prover<'c>, ProveError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(ProveError::Runtime)?;
        let mut p = Prover {
            runtime,
            compiler: None,
            extended: None,
            options,
            cache,
            stats: ProverStats::default(),
            gave_up: 0,
        };
        p.compiler = Some(p.start(Mode::Default)?);
        Ok(p)
    }

    fn start(&mut self, mode: Mode) -> Result<CedarSymCompiler<LocalSolver>, ProveError> {
        let limit = format!("--tlimit-per={}", self.options.timeout.as_millis().max(1));
        let mut args = vec![limit];
        if mode == Mode::Extended {
            // A `like` pattern with a wildcard on both sides of a literal
            // (`*deploy*`) becomes `str.contains`, and a negated pattern a
            // negative regular-expression membership: cvc5 decides those
            // only with its extended string solver. It is slower on every
            // other question, so only the questions that need it get it.
            args.extend(["--strings-exp".to_string(), "--strings-fmf".to_string()]);
        }
        // The process is spawned inside the runtime: its pipes belong to it.
        let solver = self
            .runtime
            .block_on(async { LocalSolver::cvc5_with_args(args) })
            .map_err(|e| ProveError::Start(e.to_string()))?;
        let compiler =
            CedarSymCompiler::new(solver).map_err(|e| ProveError::Start(e.to_string()))?;
        self.stats.solvers_started += 1;
        Ok(compiler)
    }

    /// Ask whether the policy set allows some request of `caller` doing
    /// `action`; the model when it does.
    fn ask(
        &mut self,
        pset: &PolicySet,
        caller: Caller,
        action: &str,
    ) -> Result<Option<cedar_policy_symcc::Env>, Unanswered> {
        let failed = |e: &dyn std::fmt::Display| Unanswered::failed(e.to_string());
        let principal = EntityTypeName::from_str(caller.entity_type()).map_err(|e| failed(&e))?;
        let resource = EntityTypeName::from_str("Iam::Resource").map_err(|e| failed(&e))?;
        let action = EntityUid::from_str(&format!("Iam::Action::{}", cedar::lit(action)))
            .map_err(|e| failed(&e))?;
        let env = RequestEnv::new(principal, action, resource);
        let compiled = CompiledPolicySet::compile(pset, &env, cedar::schema::schema())
            .map_err(|e| Unanswered::failed(format!("symbolic compilation failed: {e}")))?;
        match self.ask_in(Mode::Default, &compiled) {
            // The default mode refuses the question outright (in
            // milliseconds): it needs the extended string solver.
            Err(why) if why.kind == UnansweredKind::NeedsExtendedStrings => {
                self.ask_in(Mode::Extended, &compiled)
            }
            other => other,
        }
    }

    fn ask_in(
        &mut self,
        mode: Mode,
        compiled: &CompiledPolicySet,
    ) -> Result<Option<cedar_policy_symcc::Env>, Unanswered> {
        let slot_empty = match mode {
            Mode::Default => self.compiler.is_none(),
            Mode::Extended => self.extended.is_none(),
        };
        if slot_empty {
            // A solver that does not start leaves this question unknown.
            let c = self
                .start(mode)
                .map_err(|e| Unanswered::failed(e.to_string()))?;
            match mode {
                Mode::Default => self.compiler = Some(c),
                Mode::Extended => self.extended = Some(c),
            }
        }
        let slot = match mode {
            Mode::Default => &mut self.compiler,
            Mode::Extended => &mut self.extended,
        };
        let Some(compiler) = slot.as_mut() else {
            return Err(Unanswered::failed("the solver did not start"));
        };
        let started = Instant::now();
        let out = self
            .runtime
            .block_on(compiler.check_always_denies_with_counterexample_opt(compiled));
        self.stats.queries += 1;
        self.stats.solver_ms += started.elapsed().as_millis() as u64;
        match out {
            Ok(model) => Ok(model),
            Err(e) => {
                // After a timeout or a failure the process may be in any
                // state: the next question gets a fresh one.
                *slot = None;
                Err(match e {
                    cedar_policy_symcc::err::Error::SolverUnknown => {
                        self.gave_up += 1;
                        Unanswered {
                            kind: UnansweredKind::GaveUp,
                            reason: format!(
                                "the solver gave up (time limit {} ms per query)",
                                self.options.timeout.as_millis()
                            ),
                        }
                    }
                    e => {
                        let reason = format!("the solver failed: {e}");
                        // cvc5 names the option a question needs; its
                        // message is the only place that says so.
                        let kind = if reason.contains("--strings-exp") {
                            UnansweredKind::NeedsExtendedStrings
                        } else {
                            UnansweredKind::Failed
                        };
                        Unanswered { kind, reason }
                    }
                })
            }
        }
    }

    /// Decide one property of a policy attached to `arn`.
    pub fn prove(
        &mut self,
        policy_text: &str,
        subject: Subject,
        arn: &str,
        zone: &Zone,
        property: Property,
    ) -> Verdict {
        let names_resources = crate::policy::may_name_resources(policy_text);
        let (key, canonical) = if self.options.cache {
            verdict_key(policy_text, subject, arn, zone, &format!("{property:?}"))
        } else {
            (String::new(), None)
        };
        if self.options.cache {
            let cached = self
                .cache
                .verdicts
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&key)
                .cloned();
            let cached = match (&canonical, cached) {
                (Some(c), Some(v)) => map_verdict(&v, &mut |s| c.instantiate_str(s)),
                (None, v) => v,
                (Some(_), None) => None,
            };
            if let Some(mut v) = cached {
                self.stats.cache_hits += 1;
                if let Verdict::Refuted { counterexample } = &mut v {
                    if !names_resources {
                        counterexample.resource = arn.to_string();
                    }
                }
                return v;
            }
        }
        let verdict = self.prove_text(policy_text, subject, arn, zone, property, false);
        if self.options.cache {
            let stored = match &canonical {
                Some(c) => map_verdict(&verdict, &mut |s| Some(c.abstract_str(s)))
                    .unwrap_or_else(|| verdict.clone()),
                None => verdict.clone(),
            };
            self.cache
                .verdicts
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(key, stored);
        }
        verdict
    }

    /// The property of the policy text: of every caller, or (`only_unnamed`)
    /// of the callers it does not name ([`Prover::prove_unnamed`]).
    fn prove_text(
        &mut self,
        policy_text: &str,
        subject: Subject,
        arn: &str,
        zone: &Zone,
        property: Property,
        only_unnamed: bool,
    ) -> Verdict {
        match parse_subject_policy(policy_text, subject) {
            Ok(doc) => self.prove_restricted(&doc, subject, arn, zone, property, only_unnamed),
            Err(unknown) => unknown,
        }
    }

    pub fn prove_document(
        &mut self,
        doc: &PolicyDocument,
        subject: Subject,
        arn: &str,
        zone: &Zone,
        property: Property,
    ) -> Verdict {
        self.prove_restricted(doc, subject, arn, zone, property, false)
    }

    /// The property asked of callers the document does not name only: an
    /// IAM principal of an account it never names (the account the concrete
    /// analysis values "anyone" with, [`unnamed_account`]), a service acting
    /// for that account or for whoever asks it, an anonymous caller, a web
    /// identity. `Refuted`: "anyone" has the access, with a counterexample
    /// of such a caller; `Proved`: no such caller has it (named parties
    /// may).
    pub fn prove_unnamed(
        &mut self,
        policy_text: &str,
        subject: Subject,
        arn: &str,
        zone: &Zone,
        property: Property,
    ) -> Verdict {
        self.prove_text(policy_text, subject, arn, zone, property, true)
    }

    fn prove_restricted(
        &mut self,
        doc: &PolicyDocument,
        subject: Subject,
        arn: &str,
        zone: &Zone,
        property: Property,
        only_unnamed: bool,
    ) -> Verdict {
        let doc = resolve_resource_variables(doc, zone);
        let doc = &doc;
        let t = cedar::translate(doc);
        if let Err(errs) = self.validate(&t) {
            return Verdict::Unknown {
                reason: format!("the Cedar translation is invalid: {}", errs.join("; ")),
            };
        }
        let (public_providers, pinned_subjects) = web_identity_facts(doc);
        let pins_resource = t.reads_resource();
        let ctx = SweepContext {
            subject,
            property,
            arn,
            zone,
            public_providers: &public_providers,
            pinned_subjects: &pinned_subjects,
            replay: &t,
        };
        let unnamed = unnamed_search(&t, zone);
        let base = if only_unnamed { unnamed.as_str() } else { "" };
        let mut unknown = match self.sweep(&ctx, doc, &t, base) {
            Ok(None) => return Verdict::Proved,
            Ok(Some(cx)) => return refuted(cx, pins_resource, arn),
            Err(why) => why,
        };
        // The policy holds constructs the translation leaves as free flags,
        // and the solver's request relied on one. Search for a request that
        // does not: a candidate still has to replay on the policy as written,
        // so a search can only turn "unknown" into "refuted". Searches stop
        // when the property has had three query time limits, and at the
        // first search question the solver gives up on: every search is
        // the question asked above with restrictions added, and the
        // restrictions that matter after a time limit (negated patterns on
        // ARNs) are the hard part for the string solver; no search after a
        // time limit has refuted a property of the corpus.
        let started = Instant::now();
        let budget = self.options.timeout * 3;
        let mut searches: Vec<(Option<PolicyDocument>, String)> = Vec::new();
        // A `?` wildcard has no Cedar form: widen it to `*`.
        if let Some(widened) = widen_single_wildcards(doc) {
            searches.push((Some(widened), base.to_string()));
        }
        // A caller of an account the policy never names, whose principal
        // ARN says that account in so many letters: the solver's own
        // account field may be one the replay has to replace.
        if !only_unnamed {
            searches.push((None, unnamed.clone()));
        }
        if !t.flags.is_empty() {
            // Grants that hold without an undecidable part, against denials
            // taken as not applying, then as applying; each also for a
            // caller of an unnamed account.
            for deny_applies in [false, true] {
                let pinned = pin_flags(&t, deny_applies);
                if !only_unnamed {
                    searches.push((None, pinned.clone()));
                }
                searches.push((None, format!("{pinned}{unnamed}")));
            }
        }
        for (widened, search) in searches {
            if !unknown.searchable() || started.elapsed() > budget {
                break;
            }
            let gave_up = self.gave_up;
            let outcome = match &widened {
                Some(w) => self.sweep(&ctx, w, &cedar::translate(w), &search),
                None => self.sweep(&ctx, doc, &t, &search),
            };
            let timed_out = self.gave_up > gave_up;
            match outcome {
                Ok(Some(cx)) => return refuted(cx, pins_resource, arn),
                // Nothing without the flags: the answer stays unknown.
                Ok(None) => {}
                Err(why) if why.searchable() => {
                    if std::env::var_os("ECR_AUDIT_DEBUG_PROOF").is_some() {
                        eprintln!("SEARCH {search}\n=> {}", why.reason);
                    }
                }
                Err(why) => unknown = why,
            }
            if timed_out {
                break;
            }
        }
        Verdict::Unknown {
            reason: unknown.reason,
        }
    }

    /// [`cedar::validate`], once per translation.
    fn validate(&self, t: &Translation) -> Result<(), Vec<String>> {
        let key = format!("{}\n{}", t.errors.join("\n"), t.text());
        if let Some(v) = self
            .cache
            .validations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
        {
            return v.clone();
        }
        let v = cedar::validate(t);
        self.cache
            .validations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, v.clone());
        v
    }

    /// Ask every caller and action group of the property about `query`
    /// (the policy or a widened search form of it), replaying on
    /// `ctx.replay`. `Ok(None)`: nothing allowed from outside; `Ok(Some)`:
    /// a confirmed counterexample; `Err`: why the answer is unknown.
    fn sweep(
        &mut self,
        ctx: &SweepContext<'_>,
        query: &PolicyDocument,
        tq: &Translation,
        search: &str,
    ) -> Result<Option<Box<Counterexample>>, Unanswered> {
        let text = tq.text();
        // Flags hide what they stand for from the Cedar text: two policies
        // that differ only there share a question but not a counterexample's
        // replay, so the document is part of the key.
        let replayed_on = if ctx.replay.flags.is_empty() {
            String::new()
        } else {
            format!("{}\n", ctx.replay.doc_debug())
        };
        let mut unknown: Option<Unanswered> = None;
        for caller in callers(ctx.subject, ctx.public_providers) {
            for action in representatives(query, tq, &ctx.property.actions(ctx.subject), caller) {
                let input = world::WorldInput {
                    translation: tq,
                    zone: ctx.zone,
                    caller,
                    resource_arn: ctx.arn,
                    public_providers: ctx.public_providers,
                    pinned_subjects: ctx.pinned_subjects,
                    action,
                };
                let axioms = world::axioms(&input);
                let full = format!("{text}\n{axioms}{search}");
                let key = format!("{replayed_on}{caller:?}\n{action}\n{full}");
                match self.answer(ctx, &key, &full, caller, action) {
                    Answer::Unsat => {}
                    Answer::Refuted(cx) => return Ok(Some(cx)),
                    Answer::Unknown(why) => {
                        unknown.get_or_insert(Unanswered {
                            kind: why.kind,
                            reason: format!("{}, {action}: {}", caller.label(), why.reason),
                        });
                    }
                }
            }
        }
        match unknown {
            Some(why) => Err(why),
            None => Ok(None),
        }
    }

    /// One question: does `full` (policy, axioms, search restrictions)
    /// allow a request of `caller` doing `action`? Cached under `key`.
    fn answer(
        &mut self,
        ctx: &SweepContext<'_>,
        key: &str,
        full: &str,
        caller: Caller,
        action: &str,
    ) -> Answer {
        if self.options.cache {
            if let Some(a) = self
                .cache
                .answers
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(key)
            {
                self.stats.cache_hits += 1;
                return a.clone();
            }
        }
        let answer = match PolicySet::from_str(full) {
            Err(e) => Answer::Unknown(Unanswered::failed(format!(
                "the axioms do not parse (a bug): {e}"
            ))),
            Ok(pset) => match self.ask(&pset, caller, action) {
                Err(why) => Answer::Unknown(why),
                Ok(None) => Answer::Unsat,
                Ok(Some(env)) => {
                    let outsider = witness::Outsider {
                        zone: ctx.zone,
                        translation: ctx.replay,
                        public_providers: ctx.public_providers,
                        pinned_subjects: ctx.pinned_subjects,
                    };
                    match witness::confirm(&env, caller, action, ctx.arn, &outsider) {
                        Ok(cx) => Answer::Refuted(Box::new(cx)),
                        Err(why) => {
                            let mut reason = format!(
                                "the solver's request does not replay as an outside access: {why}"
                            );
                            // The model and the policy set, for whoever
                            // wants to see the solver's side of it.
                            if std::env::var_os("ECR_AUDIT_DEBUG_PROOF").is_some() {
                                reason.push_str(&format!("\nMODEL:\n{env}\nSET:\n{full}"));
                            }
                            Answer::Unknown(Unanswered {
                                kind: UnansweredKind::DoesNotReplay,
                                reason,
                            })
                        }
                    }
                }
            },
        };
        if self.options.cache {
            self.cache
                .answers
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(key.to_string(), answer.clone());
        }
        answer
    }
}

/// What a sweep needs besides the policy it asks about.
struct SweepContext<'a> {
    subject: Subject,
    property: Property,
    arn: &'a str,
    zone: &'a Zone,
    public_providers: &'a BTreeSet<String>,
    pinned_subjects: &'a [(String, String)],
    /// The translation counterexamples are replayed on (the policy as written).
    replay: &'a Translation,
}

fn refuted(mut cx: Box<Counterexample>, pins_resource: bool, arn: &str) -> Verdict {
    if !pins_resource {
        cx.resource = arn.to_string();
    }
    Verdict::Refuted { counterexample: cx }
}

/// An outside account the document never names (the one the concrete
/// analysis values "anyone" with).
pub fn unnamed_account(t: &Translation, zone: &Zone) -> String {
    let named = world::known_accounts(t, zone);
    crate::access::Frame::with_named(zone, named).outsiders[0].clone()
}

/// A subject's policy parsed as its kind; a text that does not parse is an
/// unknown verdict, never a proof.
fn parse_subject_policy(policy_text: &str, subject: Subject) -> Result<PolicyDocument, Verdict> {
    let kind = match subject {
        Subject::Role => PolicyKind::Trust,
        _ => PolicyKind::Resource,
    };
    parse(policy_text, kind).map_err(|e| Verdict::Unknown {
        reason: format!("the policy does not parse: {e}"),
    })
}

/// Search restriction (not an axiom): the caller, or the party a service
/// acts for, is in [`unnamed_account`], its ARNs say so, and its principal
/// ARN has six plain parts.
fn unnamed_search(t: &Translation, zone: &Zone) -> String {
    let acct = unnamed_account(t, zone);
    let mut conds = vec![format!(
        "(principal is Iam::Principal && principal.account != {})",
        cedar::lit(&acct)
    )];
    let keys = |k: &str| format!("context.keys.hasTag({})", cedar::lit(k));
    let get = |k: &str| format!("context.keys.getTag({})", cedar::lit(k));
    if t.keys.contains("aws:principalarn") {
        let k = "aws:principalarn";
        conds.push(format!(
            "({} && !({g} like \"arn:*:iam::{acct}:*\" || {g} like \"arn:*:sts::{acct}:*\"))",
            keys(k),
            g = get(k)
        ));
        // Plain six-part ARNs (no `:` in the path): a path may hold one,
        // but a caller needs none, and such ARNs replay simply.
        conds.push(format!(
            "({} && {} like \"*:*:*:*:*:*:*\")",
            keys(k),
            get(k)
        ));
    }
    for k in ["aws:sourceaccount", "aws:sourceowner"] {
        if t.keys.contains(k) {
            conds.push(format!(
                "({} && {} != {})",
                keys(k),
                get(k),
                cedar::lit(&acct)
            ));
        }
    }
    if t.keys.contains("aws:sourcearn") {
        let k = "aws:sourcearn";
        conds.push(format!(
            "({} && !({} like \"arn:*:*:*:{acct}:*\"))",
            keys(k),
            get(k)
        ));
    }
    format!(
        "@search(\"a caller of an account the policy never names\")\nforbid (principal, action, resource) when {{ {} }};\n",
        conds.join(" || ")
    )
}

/// Search restrictions (not axioms): every flag of an Allow statement false;
/// every flag of a Deny statement true when `deny_applies`.
fn pin_flags(t: &Translation, deny_applies: bool) -> String {
    let mut out = String::new();
    for f in &t.flags {
        let set = format!(
            "(context.flags.hasTag({n}) && context.flags.getTag({n}))",
            n = cedar::lit(&f.name)
        );
        match f.effect {
            Effect::Allow => out.push_str(&format!(
                "@search(\"grant without undecidable parts\")\nforbid (principal, action, resource) when {{ {set} }};\n"
            )),
            Effect::Deny if deny_applies => out.push_str(&format!(
                "@search(\"undecidable denial applies\")\nforbid (principal, action, resource) when {{ !{set} }};\n"
            )),
            Effect::Deny => {}
        }
    }
    out
}

/// The document with `?` in condition values widened to `*`, when it has any.
fn widen_single_wildcards(doc: &PolicyDocument) -> Option<PolicyDocument> {
    let mut out = doc.clone();
    let mut changed = false;
    for st in &mut out.statements {
        for c in &mut st.conditions {
            for v in &mut c.values {
                if v.value.contains('?') {
                    v.value = v.value.replace('?', "*");
                    changed = true;
                }
            }
        }
    }
    changed.then_some(out)
}

/// Policy variables whose value is a fact of the resource, not of the
/// request (`${aws:ResourceAccount}`, `${aws:ResourceOrgID}`), replaced by
/// that value: the translation can then say the condition exactly.
fn resolve_resource_variables(doc: &PolicyDocument, zone: &Zone) -> PolicyDocument {
    let mut out = doc.clone();
    let mut facts = vec![("${aws:resourceaccount}", zone.owner.clone())];
    if let Some(o) = &zone.org_id {
        facts.push(("${aws:resourceorgid}", o.clone()));
    }
    for st in out.statements.iter_mut().filter(|st| st.variables_enabled) {
        for c in &mut st.conditions {
            for v in &mut c.values {
                v.value = replace_facts(&v.value, &facts);
            }
        }
    }
    out
}

/// `${key}` and `${key, 'default'}` of the given keys replaced by their
/// values (a fact always has a value: the default is never used).
fn replace_facts(text: &str, facts: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let Some(end) = after.find('}') else {
            out.push_str(after);
            return out;
        };
        let inner = &after[2..end];
        let key = inner
            .split(',')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match facts.iter().find(|(var, _)| var[2..var.len() - 1] == key) {
            Some((_, value)) => out.push_str(value),
            None => out.push_str(&after[..=end]),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The callers outside the zone a subject is asked about.
fn callers(subject: Subject, public_providers: &BTreeSet<String>) -> Vec<Caller> {
    match subject {
        Subject::Repository | Subject::Registry => {
            vec![Caller::Iam, Caller::Anonymous, Caller::Service]
        }
        // A service assumes a role for the owner's own resources (it needs
        // iam:PassRole in the owner account): not an outside caller.
        Subject::Role => {
            let mut v = vec![Caller::Iam, Caller::Anonymous];
            if !public_providers.is_empty() {
                v.push(Caller::WebIdentity);
            }
            v
        }
    }
}

/// One action per group of actions every statement treats alike; actions
/// no statement names are denied without asking.
fn representatives(
    doc: &PolicyDocument,
    t: &Translation,
    actions: &[&'static str],
    caller: Caller,
) -> Vec<&'static str> {
    // Actions whose requests carry different keys are asked apart.
    let mut groups: BTreeMap<(Vec<usize>, Vec<bool>), &'static str> = BTreeMap::new();
    for a in actions {
        if caller == Caller::WebIdentity && *a != "sts:AssumeRoleWithWebIdentity" {
            continue;
        }
        let signature: Vec<usize> = doc
            .statements
            .iter()
            .enumerate()
            .filter(|(_, st)| actions::element_matches(&st.action, a))
            .map(|(i, _)| i)
            .collect();
        let allows = signature
            .iter()
            .any(|i| doc.statements[*i].effect == Effect::Allow);
        if allows {
            let absent: Vec<bool> = t
                .keys
                .iter()
                .map(|k| world::absent_key(caller, a, k))
                .collect();
            groups.entry((signature, absent)).or_insert(a);
        }
    }
    groups.into_values().collect()
}

/// Public web-identity providers a trust policy names, and per provider's
/// `sub` key the values that pin the subject (assumed the zone's own).
fn web_identity_facts(doc: &PolicyDocument) -> (BTreeSet<String>, Vec<(String, String)>) {
    let mut providers = BTreeSet::new();
    let mut pinned = Vec::new();
    for st in &doc.statements {
        let Some(p) = &st.principal else { continue };
        for e in &p.entries {
            let Principal::Federated(provider) = &e.principal else {
                continue;
            };
            let host = crate::access::identity::provider_host(provider);
            if !is_public_platform(&host) {
                continue;
            }
            providers.insert(provider.clone());
            let key = format!("{host}:sub");
            for c in &st.conditions {
                let Some(op) = c.operator.known() else {
                    continue;
                };
                if c.key.lower == key && !op.family.is_negated() {
                    for v in &c.values {
                        if crate::access::identity::subject_value_restricts(&v.value) {
                            pinned.push((key.clone(), v.value.clone()));
                        }
                    }
                }
            }
        }
    }
    (providers, pinned)
}
