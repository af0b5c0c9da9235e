//! Concrete requests: a `policy::eval::Request` as a Cedar request plus the
//! entities it needs, with every flag of a translation computed exactly by
//! the policy module.

use super::schema::{self, all_actions};
use super::translate::{cedar_cidr, cedar_datetime, cedar_long, iam_principal_id, root_id};
use super::{FlagSource, Translation};
use crate::policy::condition::{parse_cidr, parse_date};
use crate::policy::eval::{Decision, Request};
use crate::policy::principal::element_matches;
use crate::policy::{Effect, IamKind, RequestPrincipal, Tri};
use cedar_policy::{
    Authorizer, Context, Decision as CedarDecision, Entities, Entity, EntityId, EntityTypeName,
    EntityUid, Request as CedarRequest, RestrictedExpression,
};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

/// A Cedar request and the entities it refers to.
#[derive(Debug, Clone)]
pub struct ConcreteRequest {
    pub request: CedarRequest,
    pub entities: Entities,
}

/// Why a request cannot be put to Cedar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// The action is not in the schema (neither `ecr:` nor a trust STS action).
    UnknownAction(String),
    /// Cedar refused what we built: a bug of this module.
    Cedar(String),
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::UnknownAction(a) => write!(f, "action {a} is not in the Cedar schema"),
            RequestError::Cedar(e) => write!(f, "Cedar refused the request: {e}"),
        }
    }
}

impl std::error::Error for RequestError {}

fn bug<E: fmt::Display>(e: E) -> RequestError {
    RequestError::Cedar(e.to_string())
}

const TYPES: [&str; 16] = [
    "Account",
    "Principal",
    "Service",
    "WebIdentity",
    "CanonicalUser",
    "Anonymous",
    "Resource",
    "Keys",
    "KeySets",
    "Nums",
    "Bools",
    "Ips",
    "Dates",
    "Arns",
    "Flags",
    "Action",
];

/// Entity type names, parsed once: parsing dominates request building
/// otherwise.
fn type_name(ty: &str) -> Result<EntityTypeName, RequestError> {
    static NAMES: OnceLock<Vec<Option<EntityTypeName>>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        TYPES
            .iter()
            .map(|t| EntityTypeName::from_str(&format!("{}::{t}", schema::NAMESPACE)).ok())
            .collect()
    });
    TYPES
        .iter()
        .position(|t| *t == ty)
        .and_then(|i| names[i].clone())
        .ok_or_else(|| RequestError::Cedar(format!("no entity type {ty}")))
}

fn euid(ty: &str, id: &str) -> Result<EntityUid, RequestError> {
    Ok(EntityUid::from_type_name_and_id(
        type_name(ty)?,
        EntityId::new(id),
    ))
}

/// The action entity with its groups as parents, per schema action. That
/// is all `action in <group>` needs, and far cheaper than putting every
/// action entity of the schema in each request's store.
fn action_entity(index: usize) -> Result<(EntityUid, Entity), RequestError> {
    static ACTIONS: OnceLock<Vec<Result<(EntityUid, Entity), RequestError>>> = OnceLock::new();
    let all = ACTIONS.get_or_init(|| {
        all_actions()
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let uid = euid("Action", a)?;
                let groups = schema::groups()
                    .iter()
                    .filter(|g| g.members & (1u128 << i) != 0)
                    .map(|g| euid("Action", &g.name))
                    .collect::<Result<Vec<_>, _>>()?;
                let e = Entity::new_no_attrs(uid.clone(), groups.into_iter().collect());
                Ok((uid, e))
            })
            .collect()
    });
    all.get(index)
        .cloned()
        .unwrap_or_else(|| Err(RequestError::Cedar(format!("no action {index}"))))
}

fn s(v: &str) -> RestrictedExpression {
    RestrictedExpression::new_string(v.to_owned())
}

/// Entities for the request principal (with its parents).
fn principal_entities(p: &RequestPrincipal) -> Result<(EntityUid, Vec<Entity>), RequestError> {
    let mut out = Vec::new();
    let iam = |id: &str,
               arn: &str,
               account: &str,
               kind: &str,
               parents: Vec<EntityUid>|
     -> Result<Entity, RequestError> {
        Entity::new(
            euid("Principal", id)?,
            HashMap::from([
                ("arn".to_owned(), s(arn)),
                ("account".to_owned(), s(account)),
                ("kind".to_owned(), s(kind)),
            ]),
            parents.into_iter().collect(),
        )
        .map_err(bug)
    };
    let uid = match p {
        RequestPrincipal::AccountRoot(a) => {
            let acct = euid("Account", a)?;
            out.push(Entity::with_uid(acct.clone()));
            let id = root_id(a);
            out.push(iam(&id, &id, a, "root", vec![acct])?);
            euid("Principal", &id)?
        }
        RequestPrincipal::Iam(arn) => {
            let acct = euid("Account", &arn.account)?;
            out.push(Entity::with_uid(acct.clone()));
            let id = iam_principal_id(arn);
            let kind = match &arn.kind {
                IamKind::User => "user",
                IamKind::Role => "role",
                IamKind::AssumedRole { .. } => "session",
                IamKind::FederatedUser => "federated-user",
            };
            let mut parents = vec![acct.clone()];
            if let Some(role) = super::role_id_of_session(arn) {
                // The role is an entity of its own so that `principal in
                // <role>` holds for its sessions.
                let role_arn = role.clone();
                out.push(iam(&role, &role_arn, &arn.account, "role", vec![acct])?);
                parents.push(euid("Principal", &role)?);
            }
            out.push(iam(&id, &arn.arn, &arn.account, kind, parents)?);
            euid("Principal", &id)?
        }
        RequestPrincipal::Service(name) => euid("Service", &name.to_ascii_lowercase())?,
        RequestPrincipal::Federated(f) => euid("WebIdentity", f)?,
        RequestPrincipal::CanonicalUser(c) => euid("CanonicalUser", c)?,
        RequestPrincipal::Anonymous => euid("Anonymous", "anonymous")?,
    };
    Ok((uid, out))
}

fn arn_parts(arn: &str) -> Option<[&str; 5]> {
    let p: Vec<&str> = arn.splitn(6, ':').collect();
    (p.len() == 6).then(|| [p[1], p[2], p[3], p[4], p[5]])
}

const PART_NAMES: [&str; 5] = ["partition", "service", "region", "account", "path"];

fn resource_entity(arn: &str) -> Result<(EntityUid, Entity), RequestError> {
    let uid = euid("Resource", arn)?;
    let parts = arn_parts(arn);
    let mut attrs = vec![
        ("arn".to_owned(), s(arn)),
        (
            "is_arn".to_owned(),
            RestrictedExpression::new_bool(parts.is_some()),
        ),
    ];
    let parts = parts.unwrap_or([""; 5]);
    for (n, v) in PART_NAMES.iter().zip(parts) {
        attrs.push(((*n).to_owned(), s(v)));
    }
    let e =
        Entity::new(uid.clone(), attrs.into_iter().collect(), Default::default()).map_err(bug)?;
    Ok((uid, e))
}

/// Tag sets of the key entities, built from the request context.
#[derive(Default)]
struct KeyTags {
    keys: Vec<(String, RestrictedExpression)>,
    sets: Vec<(String, RestrictedExpression)>,
    nums: Vec<(String, RestrictedExpression)>,
    bools: Vec<(String, RestrictedExpression)>,
    ips: Vec<(String, RestrictedExpression)>,
    dates: Vec<(String, RestrictedExpression)>,
    arns: Vec<(String, RestrictedExpression)>,
}

fn key_tags(req: &Request, wanted: &std::collections::BTreeSet<String>) -> KeyTags {
    let mut t = KeyTags::default();
    for (k, values) in req.context.iter() {
        if values.is_empty() {
            continue; // a key with no value is absent (policy::condition)
        }
        let k = k.to_ascii_lowercase();
        if !wanted.contains(&k) {
            continue; // no policy reads it: building it would be wasted
        }
        t.sets.push((
            k.clone(),
            RestrictedExpression::new_set(values.iter().map(|v| s(v))),
        ));
        let [v] = values else { continue };
        t.keys.push((k.clone(), s(v)));
        if let Some(n) = cedar_long(v) {
            t.nums.push((k.clone(), RestrictedExpression::new_long(n)));
        }
        match v.to_ascii_lowercase().as_str() {
            "true" => t
                .bools
                .push((k.clone(), RestrictedExpression::new_bool(true))),
            "false" => t
                .bools
                .push((k.clone(), RestrictedExpression::new_bool(false))),
            _ => {}
        }
        if let Ok(ip) = v.trim().parse::<std::net::IpAddr>() {
            let cidr = match ip {
                std::net::IpAddr::V4(a) => parse_cidr(&a.to_string()),
                std::net::IpAddr::V6(a) => parse_cidr(&a.to_string()),
            };
            // A bare address as a /32 or /128 range: what isInRange compares.
            if let Some(text) = cidr.and_then(cedar_cidr) {
                t.ips.push((k.clone(), RestrictedExpression::new_ip(text)));
            }
        }
        if let Some(d) = parse_date(v).and_then(cedar_datetime) {
            t.dates
                .push((k.clone(), RestrictedExpression::new_datetime(d)));
        }
        if let Some(parts) = arn_parts(v) {
            let fields = PART_NAMES
                .iter()
                .zip(parts)
                .map(|(n, p)| ((*n).to_owned(), s(p)));
            if let Ok(rec) = RestrictedExpression::new_record(fields) {
                t.arns.push((k.clone(), rec));
            }
        }
    }
    t
}

fn tri_flag(t: Tri, effect: Effect, certain: bool) -> bool {
    match t {
        Tri::True => true,
        Tri::False => false,
        // Undecidable: widen an Allow, narrow a Deny; for the
        // certain decision, the other way round.
        Tri::Unknown => (effect == Effect::Allow) != certain,
    }
}

impl Translation {
    /// The Cedar request and entities for a concrete request, with every
    /// flag of this translation computed by the policy module.
    pub fn request(&self, req: &Request) -> Result<ConcreteRequest, RequestError> {
        self.request_with(req, false)
    }

    /// [`Translation::request`]; with `certain`, undecidable parts are
    /// settled against the request (an Allow's do not apply, a Deny's do).
    pub fn request_with(
        &self,
        req: &Request,
        certain: bool,
    ) -> Result<ConcreteRequest, RequestError> {
        let index = schema::action_index(&req.action)
            .ok_or_else(|| RequestError::UnknownAction(req.action.clone()))?;
        let (action, action_entity) = action_entity(index)?;
        let (principal, mut entities) = principal_entities(&req.principal)?;
        let (resource, res_entity) = resource_entity(&req.resource)?;
        entities.push(res_entity);
        entities.push(action_entity);

        let mut flags = Vec::with_capacity(self.flags.len());
        for f in &self.flags {
            let Some(st) = self.doc.statements.get(f.statement) else {
                continue;
            };
            let t = match f.source {
                FlagSource::Principal => st.principal.as_ref().map_or(Tri::True, |p| {
                    element_matches(
                        p.negated,
                        p.entries.iter().map(|e| &e.principal),
                        &req.principal,
                    )
                }),
                FlagSource::Resource => st.resource.as_ref().map_or(Tri::True, |r| {
                    r.matches(&req.resource, st.variables_enabled, Some(&req.context))
                }),
                FlagSource::Condition(j) => st.conditions.get(j).map_or(Tri::True, |c| {
                    c.evaluate(&req.context, st.variables_enabled)
                }),
                FlagSource::Shape => Tri::Unknown,
            };
            flags.push((
                f.name.clone(),
                RestrictedExpression::new_bool(tri_flag(t, f.effect, certain)),
            ));
        }

        let tags = key_tags(req, &self.keys);
        let mut ctx = Vec::with_capacity(8);
        for (field, ty, tags) in [
            ("keys", "Keys", tags.keys),
            ("sets", "KeySets", tags.sets),
            ("nums", "Nums", tags.nums),
            ("bools", "Bools", tags.bools),
            ("ips", "Ips", tags.ips),
            ("dates", "Dates", tags.dates),
            ("arns", "Arns", tags.arns),
            ("flags", "Flags", flags),
        ] {
            let id = euid(ty, "request")?;
            entities.push(Entity::new_with_tags(id.clone(), [], [], tags).map_err(bug)?);
            ctx.push((field.to_owned(), RestrictedExpression::new_entity_uid(id)));
        }
        let context = Context::from_pairs(ctx).map_err(bug)?;
        let request = CedarRequest::new(principal, action, resource, context, None).map_err(bug)?;
        let entities = Entities::from_entities(entities, None).map_err(bug)?;
        Ok(ConcreteRequest { request, entities })
    }

    /// Decide a concrete request with the Cedar authorizer, in the terms of
    /// `policy::eval::Decision` (never `Unknown`: undecidable parts were
    /// settled by the flags).
    pub fn authorize(&self, req: &Request) -> Result<Decision, RequestError> {
        self.authorize_with(req, false)
    }

    /// The decision when every undecidable part is settled against the
    /// request ([`Translation::request_with`]): `Allow` here means allowed
    /// however those parts are read.
    pub fn authorize_certain(&self, req: &Request) -> Result<Decision, RequestError> {
        self.authorize_with(req, true)
    }

    fn authorize_with(&self, req: &Request, certain: bool) -> Result<Decision, RequestError> {
        let c = self.request_with(req, certain)?;
        let resp = Authorizer::new().is_authorized(&c.request, &self.policies, &c.entities);
        let diag = resp.diagnostics();
        if let Some(e) = diag.errors().next() {
            return Err(RequestError::Cedar(e.to_string()));
        }
        Ok(match resp.decision() {
            CedarDecision::Allow => Decision::Allow,
            // On Deny the reasons are the satisfied forbids, if any.
            CedarDecision::Deny if diag.reason().next().is_some() => Decision::ExplicitDeny,
            CedarDecision::Deny => Decision::ImplicitDeny,
        })
    }
}
