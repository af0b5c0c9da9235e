//! Counterexamples: the solver's model turned into a concrete IAM request,
//! checked against the zone (is the caller really outside?) and replayed
//! through the concrete Cedar authorizer and the reference evaluator. Only a
//! request both allow, made by a caller outside the zone under the stated
//! assumptions, refutes a property.

use std::collections::BTreeSet;

use cedar_policy::{Entities, Entity, EntityUid, EvalResult};
use cedar_policy_symcc::Env;
use serde::Serialize;

use super::world::{named_principal, Caller};
use crate::access::forge::{self, Mode};
use crate::access::Zone;

/// Why the solver's request is not an outside access the policy allows:
/// the counterexample is not reported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotReplayed(pub String);

impl From<&str> for NotReplayed {
    fn from(reason: &str) -> Self {
        NotReplayed(reason.to_string())
    }
}

impl From<String> for NotReplayed {
    fn from(reason: String) -> Self {
        NotReplayed(reason)
    }
}
use crate::cedar::Translation;
use crate::policy::condition::parse_cidr;
use crate::policy::eval::{self, Decision, Request};
use crate::policy::keys::is_private_network;
use crate::policy::pattern::glob_match;
use crate::policy::{RequestContext, RequestPrincipal};

/// A request that breaks a property, confirmed by replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Counterexample {
    /// Who calls, as AWS names it (`arn:aws:iam::999999999999:root`,
    /// `service codebuild.amazonaws.com`, `anonymous`).
    pub principal: String,
    /// Why the caller is outside the zone.
    pub outside: String,
    pub action: String,
    pub resource: String,
    /// Condition keys and values of the request (lower-case keys).
    pub context: Vec<(String, Vec<String>)>,
    /// Condition keys the policy reads that the request does not carry:
    /// their absence is part of why it is allowed.
    pub absent: Vec<String>,
}

impl Counterexample {
    /// One line: `arn:aws:iam::999999999999:root (account 999999999999 is
    /// outside the zone) is allowed ecr:BatchGetImage on arn:... with
    /// aws:sourceip=198.51.100.1`.
    pub fn summary(&self) -> String {
        self.describe(true)
    }

    /// The same without the resource (when the reader already sees it).
    pub fn request_line(&self) -> String {
        self.describe(false)
    }

    fn describe(&self, with_resource: bool) -> String {
        let mut s = format!(
            "{} ({}) is allowed {}",
            self.principal, self.outside, self.action
        );
        if with_resource {
            s.push_str(&format!(" on {}", self.resource));
        }
        let mut why: Vec<String> = self
            .context
            .iter()
            .map(|(k, v)| format!("{k}={}", v.join("|")))
            .collect();
        why.extend(self.absent.iter().map(|k| format!("{k} absent")));
        if why.is_empty() {
            s.push_str(", whatever its condition keys");
        } else {
            s.push_str(" with ");
            s.push_str(&why.join(", "));
        }
        s
    }
}

/// A witness principal name that no policy is likely to name.
const WITNESS: &str = "ecr-audit-witness";
/// A fresh outside account, used when the solver's account is not one.
const FRESH_ACCOUNT: &str = "999999999999";

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn strings(v: &EvalResult) -> Vec<String> {
    match v {
        EvalResult::String(s) => vec![s.clone()],
        EvalResult::Set(set) => set.iter().flat_map(strings).collect(),
        EvalResult::Bool(b) => vec![b.to_string()],
        EvalResult::Long(n) => vec![n.to_string()],
        EvalResult::ExtensionValue(s) => vec![extension_text(s)],
        EvalResult::Record(r) => {
            // An ARN's parts.
            let part = |n: &str| match r.get(n) {
                Some(EvalResult::String(s)) => s.clone(),
                _ => String::new(),
            };
            vec![format!(
                "arn:{}:{}:{}:{}:{}",
                part("partition"),
                part("service"),
                part("region"),
                part("account"),
                part("path")
            )]
        }
        EvalResult::EntityUid(u) => vec![u.id().unescaped().to_string()],
    }
}

/// `ip("10.0.0.1/32")` → `10.0.0.1`;
/// `datetime("1970-01-01").offset(duration("-1ms"))` → an RFC 3339 time.
fn extension_text(s: &str) -> String {
    if let Some(rest) = s.strip_prefix("datetime(\"") {
        if let Some(t) = datetime_text(rest) {
            return t;
        }
    }
    let inner = s
        .split_once('(')
        .map(|(_, r)| r.trim_end_matches(')').trim_matches('"'))
        .unwrap_or(s);
    match inner
        .strip_suffix("/32")
        .or_else(|| inner.strip_suffix("/128"))
    {
        Some(addr) => addr.to_string(),
        None => inner.to_string(),
    }
}

/// The rest of a `datetime("...")` value (after the opening quote), with
/// an optional `.offset(duration("..."))`, as RFC 3339.
fn datetime_text(rest: &str) -> Option<String> {
    let (base, tail) = rest.split_once('"')?;
    let mut nanos = crate::policy::condition::parse_date(base)?;
    if let Some(d) = tail.strip_prefix(").offset(duration(\"") {
        let d = d.split('"').next()?;
        nanos += duration_ms(d)? * 1_000_000;
    }
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()?;
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// A Cedar duration (`-1d2h3m4s5ms`) in milliseconds.
fn duration_ms(d: &str) -> Option<i128> {
    let (sign, mut rest) = match d.strip_prefix('-') {
        Some(r) => (-1, r),
        None => (1, d),
    };
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let n: i128 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, len) = if rest.starts_with("ms") {
            (1, 2)
        } else {
            match rest.bytes().next()? {
                b'd' => (86_400_000, 1),
                b'h' => (3_600_000, 1),
                b'm' => (60_000, 1),
                b's' => (1_000, 1),
                _ => return None,
            }
        };
        total += n * unit;
        rest = &rest[len..];
    }
    Some(sign * total)
}

fn tag_entity<'a>(env: &'a Env, field: &str) -> Option<&'a Entity> {
    let ctx = env.request.context()?;
    match ctx.get(field)? {
        EvalResult::EntityUid(uid) => env.entities.get(&uid),
        _ => None,
    }
}

fn tag(env: &Env, field: &str, key: &str) -> Option<Vec<String>> {
    let e = tag_entity(env, field)?;
    let v = e.tag(key)?.ok()?;
    Some(strings(&v))
}

fn attr(entities: &Entities, uid: &EntityUid, name: &str) -> Option<String> {
    match entities.get(uid)?.attr(name)?.ok()? {
        EvalResult::String(s) => Some(s),
        _ => None,
    }
}

/// The request's condition keys from the model: typed values win over the
/// string (a condition on a number reads the number).
fn context_of(env: &Env, t: &Translation) -> RequestContext {
    let mut ctx = RequestContext::new();
    for k in &t.keys {
        let mut values = tag(env, "sets", k).or_else(|| tag(env, "keys", k));
        if let Some(vs) = &values {
            if vs.len() == 1 {
                for view in ["arns", "ips", "dates", "nums", "bools"] {
                    // A typed view the policy never reads is noise of the model.
                    if !t.reads_tag(view, k) {
                        continue;
                    }
                    if let Some(v) = tag(env, view, k) {
                        if !v[0].eq_ignore_ascii_case(&vs[0]) {
                            values = Some(v);
                        }
                        break;
                    }
                }
            }
        }
        if let Some(vs) = values {
            if !vs.is_empty() {
                ctx.insert(k, vs);
            }
        }
    }
    ctx
}

/// The request principal the model describes (a fresh outside account
/// when the model's is not an account id).
fn principal_of(env: &Env, caller: Caller) -> Result<RequestPrincipal, NotReplayed> {
    let uid = env
        .request
        .principal()
        .ok_or("the model has no principal")?
        .clone();
    let id = uid.id().unescaped().to_string();
    match caller {
        Caller::Anonymous => return Ok(RequestPrincipal::Anonymous),
        Caller::Service => return Ok(RequestPrincipal::Service(id.to_ascii_lowercase())),
        Caller::WebIdentity => return Ok(RequestPrincipal::Federated(id)),
        Caller::Iam => {}
    }
    let mut kind = attr(&env.entities, &uid, "kind").ok_or("the principal has no kind")?;
    let model_account =
        attr(&env.entities, &uid, "account").ok_or("the principal has no account")?;
    let account = if is_account(&model_account) {
        model_account.clone()
    } else {
        FRESH_ACCOUNT.to_string()
    };
    if account != model_account && kind == "root" {
        // A root's unique id is its account id: keep the model's values
        // consistent by calling as a user of the fresh account instead.
        kind = "user".to_string();
    }
    // The principal the policy names, when the model picked one.
    if let Some(p) = named_principal(&id) {
        if p.kind == kind && p.account == account {
            if let Some(rp) = RequestPrincipal::from_arn(&id) {
                return Ok(rp);
            }
        }
    }
    // The principal ARN the model gave, when it is one: a role's ARN is
    // presented by its sessions.
    if let Some(arn) = principal_arn_of_model(env, &account) {
        if let Some(rp) = RequestPrincipal::from_arn(&arn) {
            return Ok(match rp {
                RequestPrincipal::Iam(a) if a.kind == crate::policy::IamKind::Role => {
                    RequestPrincipal::from_arn(&format!(
                        "arn:{}:sts::{}:assumed-role/{}/{WITNESS}",
                        a.partition, a.account, a.name
                    ))
                    .ok_or("cannot build a session of the model's role")?
                }
                other => other,
            });
        }
    }
    let arn = match kind.as_str() {
        "root" => return Ok(RequestPrincipal::AccountRoot(account)),
        "user" => format!("arn:aws:iam::{account}:user/{WITNESS}"),
        "federated-user" => format!("arn:aws:sts::{account}:federated-user/{WITNESS}"),
        "session" => {
            // A session of the named role it is in, else of a fresh role.
            let role = env
                .entities
                .ancestors(&uid)
                .into_iter()
                .flatten()
                .filter_map(|a| named_principal(a.id().unescaped()))
                .find(|p| p.kind == "role")
                .and_then(|p| p.id.rsplit('/').next().map(str::to_string))
                .unwrap_or_else(|| WITNESS.to_string());
            format!("arn:aws:sts::{account}:assumed-role/{role}/{WITNESS}")
        }
        other => {
            return Err(NotReplayed(format!(
                "the model's principal kind {other:?} is not a caller"
            )))
        }
    };
    RequestPrincipal::from_arn(&arn)
        .ok_or_else(|| NotReplayed(format!("cannot build a principal from {arn}")))
}

/// The model's `aws:PrincipalArn` (its typed parts when it has them), with
/// the caller's account when the model left the account field blank.
fn principal_arn_of_model(env: &Env, account: &str) -> Option<String> {
    let k = "aws:principalarn";
    let v = tag(env, "arns", k)
        .or_else(|| tag(env, "keys", k))?
        .into_iter()
        .next()?;
    let mut parts: Vec<String> = v.splitn(6, ':').map(str::to_string).collect();
    if parts.len() != 6 || parts[0] != "arn" {
        return None;
    }
    if !is_account(&parts[4]) {
        parts[4] = account.to_string();
    }
    // A partition the model left blank or made up: the commercial one.
    if !["aws", "aws-cn", "aws-us-gov"].contains(&parts[1].as_str()) {
        parts[1] = "aws".to_string();
    }
    Some(parts.join(":"))
}

fn principal_arn(p: &RequestPrincipal) -> Option<String> {
    match p {
        RequestPrincipal::AccountRoot(a) => Some(format!("arn:aws:iam::{a}:root")),
        RequestPrincipal::Iam(arn) => Some(match crate::cedar::role_id_of_session(arn) {
            Some(role) => role,
            None => arn.arn.clone(),
        }),
        _ => None,
    }
}

fn principal_name(p: &RequestPrincipal) -> String {
    match p {
        RequestPrincipal::AccountRoot(a) => format!("arn:aws:iam::{a}:root"),
        RequestPrincipal::Iam(arn) => arn.arn.clone(),
        RequestPrincipal::Service(s) => format!("service {s}"),
        RequestPrincipal::Federated(f) => format!("web identity {f}"),
        RequestPrincipal::CanonicalUser(c) => format!("canonical user {c}"),
        RequestPrincipal::Anonymous => "anonymous".to_string(),
    }
}

/// What the proof assumed about the world, checked on the concrete request.
pub struct Outsider<'a> {
    pub zone: &'a Zone,
    pub translation: &'a Translation,
    pub public_providers: &'a BTreeSet<String>,
    pub pinned_subjects: &'a [(String, String)],
}

impl Outsider<'_> {
    /// Why the request's caller is outside the zone, or why it is not.
    fn check(&self, req: &Request) -> Result<String, NotReplayed> {
        let zone = self.zone;
        let in_zone = |a: &str| zone.contains_account(a);
        let our_org = |v: &str| {
            zone.org_id
                .as_deref()
                .is_some_and(|o| v.eq_ignore_ascii_case(o))
        };
        let under_our_org = |v: &str| {
            zone.org_id.as_deref().is_some_and(|o| {
                v.to_ascii_lowercase()
                    .starts_with(&format!("{}/", o.to_ascii_lowercase()))
            })
        };
        let values = |k: &str| req.context.get(k).unwrap_or(&[]).to_vec();
        // The clock is the scan's reference time.
        for (k, v) in super::world::clock_values(zone) {
            let want = crate::policy::condition::parse_date(&v);
            if values(k)
                .iter()
                .any(|x| crate::policy::condition::parse_date(x) != want)
            {
                return Err(NotReplayed(format!("{k} is not the reference time {v}")));
            }
        }
        // Keys requests for this action (or from a service) never carry.
        let caller = match req.principal {
            RequestPrincipal::Service(_) => Caller::Service,
            _ => Caller::Iam,
        };
        for (k, v) in req.context.iter() {
            if !v.is_empty() && super::world::absent_key(caller, &req.action, k) {
                return Err(NotReplayed(format!(
                    "a request for {} never carries {k}",
                    req.action
                )));
            }
        }
        // Network keys: never the VPCs and endpoints the policy names.
        for k in ["aws:sourcevpc", "aws:sourcevpce"] {
            let named = super::world::named_values(self.translation, k);
            if values(k)
                .iter()
                .any(|v| named.iter().any(|n| n.eq_ignore_ascii_case(v)))
            {
                return Err(NotReplayed(format!("{k} is one the policy names")));
            }
        }
        for v in values("aws:sourceip") {
            match parse_cidr(&v) {
                Some(c) if !is_private_network(&c) => {}
                _ => {
                    return Err(NotReplayed(format!(
                        "aws:sourceip {v} is not a public address"
                    )))
                }
            }
        }
        let why = match &req.principal {
            RequestPrincipal::AccountRoot(_) | RequestPrincipal::Iam(_) => {
                let account = req.principal.account().unwrap_or_default().to_string();
                if in_zone(&account) {
                    return Err(NotReplayed(format!("account {account} is in the zone")));
                }
                if values("aws:principalorgid").iter().any(|v| our_org(v)) {
                    return Err("the caller claims our organization".into());
                }
                if values("aws:principalorgpaths")
                    .iter()
                    .any(|v| under_our_org(v))
                {
                    return Err("the caller claims a path in our organization".into());
                }
                for v in values("aws:userid") {
                    if in_zone(v.split(':').next().unwrap_or(&v)) {
                        return Err("aws:userid names a zone account".into());
                    }
                    if matches!(req.principal, RequestPrincipal::AccountRoot(_)) && v != account {
                        return Err("a root user's aws:userid is its account id".into());
                    }
                }
                for k in super::world::source_keys() {
                    if !values(k).is_empty() {
                        return Err(NotReplayed(format!("{k} is set on a direct call")));
                    }
                }
                format!("account {account} is outside the zone")
            }
            RequestPrincipal::Service(_) => {
                let acct = values("aws:sourceaccount");
                if acct
                    .iter()
                    .chain(values("aws:sourceowner").iter())
                    .any(|a| in_zone(a))
                {
                    return Err("the service acts for a zone account".into());
                }
                for arn in values("aws:sourcearn") {
                    if !crate::access::forge::source_arn_has_its_shape(&arn) {
                        return Err("aws:sourcearn is not an ARN the service could set".into());
                    }
                    if arn.split(':').nth(4).is_some_and(&in_zone) {
                        return Err("aws:sourcearn is in the zone".into());
                    }
                }
                if values("aws:sourceorgid").iter().any(|v| our_org(v)) {
                    return Err("the service acts for our organization".into());
                }
                if values("aws:sourceorgpaths")
                    .iter()
                    .any(|v| under_our_org(v))
                {
                    return Err("the service acts for a path of our organization".into());
                }
                match acct.first() {
                    Some(a) => format!("acting for account {a}, outside the zone"),
                    None => "acting for whoever asks it (no source account)".to_string(),
                }
            }
            RequestPrincipal::Anonymous => "no AWS identity".to_string(),
            RequestPrincipal::Federated(p) => {
                if !self.public_providers.contains(p) {
                    return Err(NotReplayed(format!("{p} is not a public platform")));
                }
                for (key, pinned) in self.pinned_subjects {
                    if values(key).iter().any(|v| glob_match(pinned, v)) {
                        return Err(NotReplayed(format!("{key} is a subject the policy pins")));
                    }
                }
                "a token anyone on the platform can obtain".to_string()
            }
            RequestPrincipal::CanonicalUser(_) => {
                return Err("a canonical user does not call ECR".into())
            }
        };
        Ok(why)
    }
}

/// Turn a model into a confirmed counterexample, or say why it is not one.
pub fn confirm(
    env: &Env,
    caller: Caller,
    action: &str,
    resource_arn: &str,
    outsider: &Outsider<'_>,
) -> Result<Counterexample, NotReplayed> {
    let t = outsider.translation;
    let principal = principal_of(env, caller)?;
    let mut context = context_of(env, t);
    // Keys a signed request always carries, from the caller itself.
    if let Some(account) = principal.account() {
        context.insert("aws:principalaccount", [account.to_string()]);
    }
    if let Some(arn) = principal_arn(&principal) {
        context.insert("aws:principalarn", [arn]);
    }
    if caller == Caller::Service {
        context.insert("aws:principalisawsservice", ["true"]);
    }
    context.insert("aws:resourceaccount", [outsider.zone.owner.clone()]);
    if let Some(o) = &outsider.zone.org_id {
        context.insert("aws:resourceorgid", [o.clone()]);
    }
    let req = Request {
        principal,
        action: action.to_string(),
        resource: resource_arn.to_string(),
        context,
    };
    match replay(req.clone(), outsider) {
        Err(why) if caller == Caller::Service && misshapen_source_arn(&req) => {
            // The solver's strings may give an `aws:SourceArn` no service
            // could set; an ARN of the right shape built from the policy's
            // own patterns is asked instead, and the replay decides.
            for arn in shaped_source_arns(t, &req, outsider.zone) {
                let mut again = req.clone();
                again.context.insert("aws:sourcearn", [arn]);
                if let Ok(cx) = replay(again, outsider) {
                    return Ok(cx);
                }
            }
            Err(why)
        }
        other => other,
    }
}

fn misshapen_source_arn(req: &Request) -> bool {
    req.context
        .get("aws:sourcearn")
        .is_some_and(|v| v.iter().any(|arn| !forge::source_arn_has_its_shape(arn)))
}

/// Well-shaped `aws:SourceArn` values the policy's own patterns on that key
/// admit, in an account outside the zone: the request's source account,
/// the solver's ARN's account, or one the policy never names.
fn shaped_source_arns(t: &Translation, req: &Request, zone: &Zone) -> Vec<String> {
    const MAX_CANDIDATES: usize = 32;
    let mut accounts: Vec<String> = Vec::new();
    let from_arn = req
        .context
        .get("aws:sourcearn")
        .into_iter()
        .flatten()
        .filter_map(|arn| arn.split(':').nth(4).map(str::to_string));
    let from_account = req
        .context
        .get("aws:sourceaccount")
        .into_iter()
        .flatten()
        .cloned();
    for a in from_account
        .chain(from_arn)
        .chain([super::unnamed_account(t, zone)])
    {
        if is_account(&a)
            && !zone.accounts.contains(&a)
            && a != zone.owner
            && !accounts.contains(&a)
        {
            accounts.push(a);
        }
    }
    let patterns: Vec<&str> = super::world::condition_values(t, "aws:sourcearn").collect();
    let mut out = Vec::new();
    for account in &accounts {
        let templates = forge::resource_arns(&forge::account(Some(account), account), false);
        for pattern in &patterns {
            for mode in [Mode::Arn, Mode::Like, Mode::Exact] {
                for template in &templates {
                    if let Ok(Some(w)) = forge::witness(template, pattern, mode) {
                        if forge::source_arn_has_its_shape(&w) && !out.contains(&w) {
                            out.push(w);
                        }
                        if out.len() >= MAX_CANDIDATES {
                            return out;
                        }
                    }
                }
            }
        }
    }
    out
}

/// Replays one request: outside the zone, allowed by the Cedar form (with
/// and without reading undecidable parts in its favour) and by the
/// reference evaluator.
fn replay(req: Request, outsider: &Outsider<'_>) -> Result<Counterexample, NotReplayed> {
    let t = outsider.translation;
    let outside = outsider.check(&req)?;
    let cedar = t
        .authorize(&req)
        .map_err(|e| format!("the Cedar replay failed: {e}"))?;
    if cedar != Decision::Allow {
        return Err(NotReplayed(format!("the Cedar replay gives {cedar:?}")));
    }
    // Allowed only because an undecidable part was read in the request's
    // favour: not a confirmed access.
    let certain = t
        .authorize_certain(&req)
        .map_err(|e| format!("the Cedar replay failed: {e}"))?;
    if certain != Decision::Allow {
        return Err(NotReplayed(format!(
            "the request is allowed only if an undecidable part of the policy is read in its favour (certain replay gives {certain:?})"
        )));
    }
    let reference = eval::evaluate(&[&t.doc], &req);
    if reference != Decision::Allow {
        return Err(NotReplayed(format!(
            "the reference evaluator gives {reference:?}"
        )));
    }
    Ok(Counterexample {
        principal: principal_name(&req.principal),
        outside,
        action: req.action.clone(),
        resource: req.resource.clone(),
        context: req
            .context
            .iter()
            .filter(|(k, _)| {
                // What a reader needs: the keys the policy reads.
                t.keys.contains(*k)
            })
            .map(|(k, v)| (k.to_string(), v.to_vec()))
            .collect(),
        absent: t
            .keys
            .iter()
            .filter(|k| req.context.get(k).is_none_or(|v| v.is_empty()))
            .cloned()
            .collect(),
    })
}
