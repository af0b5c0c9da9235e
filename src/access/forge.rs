//! Values an outsider can forge to match a policy pattern.
//!
//! An outsider names its own roles, users, sessions, functions and paths,
//! so a wildcard pattern on an identity key is matchable unless the part of
//! the value the outsider cannot choose (its account) is pinned. Where that
//! part sits in the pattern does not matter: `arn:aws:iam::*:role/deploy-*`,
//! `*:role/deploy-*` and `*deploy*` all admit `arn:aws:iam::<any>:role/deploy-x`.
//!
//! A value is described by a *template*: fixed characters and runs of
//! characters the owner of the value chooses (its role name, a session
//! name, the digits of an account for a class of accounts). Whether some
//! value of the template matches a pattern is an intersection of two
//! regular languages; it is decided by a breadth-first search over pairs of
//! positions, which also yields the shortest such value as a witness. The
//! caller then checks the witness with the exact evaluator: this module only
//! proposes values.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

/// Characters a run may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chars {
    Digits,
    /// IAM paths: any printable ASCII but space (the IAM API's pattern for
    /// `Path` allows `!` through DEL, `:` and `/` among them).
    Path,
    /// IAM names and session names: `[A-Za-z0-9+=,.@_-]`.
    Name,
    /// Upper-case letters and digits (unique ids).
    UpperAlnum,
    /// Lower-case letters, digits and `-` (service names, regions).
    LowerDash,
    /// Lower-case letters and `-` (resource types: `function`, `project`).
    Word,
    /// Anything printable but `:` (one ARN part).
    ArnPart,
    /// Anything printable (the resource part of an ARN).
    Any,
}

impl Chars {
    fn allows(self, c: char) -> bool {
        let name = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
        match self {
            Chars::Digits => c.is_ascii_digit(),
            Chars::Path => c.is_ascii_graphic(),
            Chars::Name => name(c),
            Chars::UpperAlnum => c.is_ascii_uppercase() || c.is_ascii_digit(),
            Chars::LowerDash => c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-',
            Chars::Word => c.is_ascii_lowercase() || c == '-',
            Chars::ArnPart => !c.is_control() && c != ':',
            Chars::Any => !c.is_control(),
        }
    }
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Fixed(String),
    /// `min..=max` characters of a class, `preferred` cycled where the
    /// pattern leaves the choice open.
    Run {
        chars: Chars,
        min: usize,
        max: usize,
        preferred: String,
    },
}

impl Piece {
    pub fn fixed(s: &str) -> Piece {
        Piece::Fixed(s.to_string())
    }

    pub fn run(chars: Chars, min: usize, max: usize, preferred: &str) -> Piece {
        Piece::Run {
            chars,
            min,
            max,
            preferred: preferred.to_string(),
        }
    }
}

/// How the pattern is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// StringEquals: the pattern is the value.
    Exact,
    /// StringLike: `*` and `?` anywhere.
    Like,
    /// ArnLike/ArnEquals: `*` and `?` do not cross the first five colons.
    Arn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Lit(char),
    Star,
    Quest,
}

fn tokens(pattern: &str, mode: Mode) -> Vec<Tok> {
    pattern
        .chars()
        .map(|c| match c {
            '*' if mode != Mode::Exact => Tok::Star,
            '?' if mode != Mode::Exact => Tok::Quest,
            c => Tok::Lit(c),
        })
        .collect()
}

/// One template character position: a fixed character, or a choice.
#[derive(Debug, Clone)]
enum Slot {
    Fixed(char),
    Run {
        chars: Chars,
        min: usize,
        max: usize,
        preferred: Vec<char>,
    },
}

fn slots(template: &[Piece]) -> Vec<Slot> {
    let mut out = Vec::new();
    for p in template {
        match p {
            Piece::Fixed(s) => out.extend(s.chars().map(Slot::Fixed)),
            Piece::Run {
                chars,
                min,
                max,
                preferred,
            } => out.push(Slot::Run {
                chars: *chars,
                min: *min,
                max: *max,
                preferred: preferred.chars().collect(),
            }),
        }
    }
    out
}

/// Longest run the search tracks exactly; longer runs only grow by `*`.
const RUN_CAP: usize = 64;
/// A bound on the search, far above what real patterns need.
const MAX_STATES: usize = 100_000;

/// The search ran out of its bound: the pattern is too involved to decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GaveUp;

/// Hashes the search's states, three small positions, with a multiply-and-
/// rotate step and a final mix: SipHash's defence against chosen keys buys
/// nothing for positions the search makes itself (at most `MAX_STATES`), and
/// it was a fifth of the time spent on policies with many patterns.
#[derive(Default)]
struct StateHasher(u64);

impl StateHasher {
    fn add(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for StateHasher {
    fn finish(&self) -> u64 {
        // The 64-bit finalizer of MurmurHash3: every input bit reaches the
        // low bits the table indexes by.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.add(u64::from(*b));
        }
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
}

/// The shortest value of `template` that `pattern` matches, if any.
pub fn witness(template: &[Piece], pattern: &str, mode: Mode) -> Result<Option<String>, GaveUp> {
    let pat = tokens(pattern, mode);
    let slots = slots(template);
    // For ArnLike: the ARN part each pattern position is in.
    let mut part = Vec::with_capacity(pat.len() + 1);
    let mut colons = 0;
    for t in &pat {
        part.push(colons);
        if *t == Tok::Lit(':') {
            colons += 1;
        }
    }
    part.push(colons);
    let wildcard_may_take = |p: usize, c: char| !(mode == Mode::Arn && c == ':' && part[p] < 5);

    // State: (slot, characters taken in that slot's run, pattern position).
    type State = (usize, usize, usize);
    let start: State = (0, 0, 0);
    let mut parent: HashMap<State, (State, Option<char>), BuildHasherDefault<StateHasher>> =
        HashMap::default();
    let mut queue = VecDeque::from([start]);
    parent.insert(start, (start, None));
    let done = |s: &State| s.0 == slots.len() && s.2 == pat.len();
    let mut found = None;
    // At most four moves from a state: buffers reused from state to state.
    let mut next: Vec<(State, Option<char>)> = Vec::with_capacity(4);
    let mut choices: Vec<(char, usize, usize)> = Vec::with_capacity(2); // (char, next slot, next k)
    while let Some(state) = queue.pop_front() {
        if done(&state) {
            found = Some(state);
            break;
        }
        if parent.len() > MAX_STATES {
            return Err(GaveUp);
        }
        let (si, k, p) = state;
        next.clear();
        choices.clear();
        // Moves that take no character.
        if p < pat.len() && pat[p] == Tok::Star {
            next.push(((si, k, p + 1), None));
        }
        if let Some(Slot::Run { min, .. }) = slots.get(si) {
            if k >= *min {
                next.push(((si + 1, 0, p), None));
            }
        }
        // Moves that take one character of the value.
        match slots.get(si) {
            Some(Slot::Fixed(c)) => choices.push((*c, si + 1, 0)),
            Some(Slot::Run {
                chars,
                max,
                preferred,
                min,
            }) if k < *max => {
                // An unbounded run only needs counting up to its minimum.
                let nk = if *max > RUN_CAP && k + 1 >= *min {
                    *min
                } else {
                    k + 1
                };
                if let Some(Tok::Lit(c)) = pat.get(p) {
                    if chars.allows(*c) {
                        choices.push((*c, si, nk));
                    }
                }
                let pref = preferred
                    .get(k % preferred.len().max(1))
                    .copied()
                    .filter(|c| chars.allows(*c));
                if let Some(c) = pref {
                    choices.push((c, si, nk));
                }
            }
            _ => {}
        }
        for &(c, nsi, nk) in &choices {
            match pat.get(p) {
                Some(Tok::Lit(x)) if *x == c => next.push(((nsi, nk, p + 1), Some(c))),
                Some(Tok::Quest) if wildcard_may_take(p, c) => {
                    next.push(((nsi, nk, p + 1), Some(c)))
                }
                Some(Tok::Star) if wildcard_may_take(p, c) => next.push(((nsi, nk, p), Some(c))),
                _ => {}
            }
        }
        for &(n, c) in &next {
            if let std::collections::hash_map::Entry::Vacant(e) = parent.entry(n) {
                e.insert((state, c));
                queue.push_back(n);
            }
        }
    }
    let Some(mut state) = found else {
        return Ok(None);
    };
    let mut out = Vec::new();
    while state != start {
        let (prev, c) = parent[&state];
        if let Some(c) = c {
            out.push(c);
        }
        state = prev;
    }
    out.reverse();
    Ok(Some(out.into_iter().collect()))
}

/// The account digits of a template: fixed when the class is one account,
/// a run of twelve digits (preferring `preferred`) otherwise.
pub fn account(fixed: Option<&str>, preferred: &str) -> Piece {
    match fixed {
        Some(a) => Piece::fixed(a),
        None => Piece::run(Chars::Digits, 12, 12, preferred),
    }
}

/// The ARNs an IAM principal of an account may have (`aws:PrincipalArn`).
/// A role's or user's path may hold any printable character, `:` included
/// (the IAM API reference's pattern for `Path`), so a pattern's literal
/// account after a wildcard can sit in an outsider's path.
pub fn principal_arns(account: &Piece) -> Vec<Vec<Piece>> {
    let path = || Piece::run(Chars::Path, 0, usize::MAX, "");
    let plain = || Piece::run(Chars::Name, 1, usize::MAX, "zq");
    vec![
        vec![
            Piece::fixed("arn:aws:iam::"),
            account.clone(),
            Piece::fixed(":role/"),
            path(),
            plain(),
        ],
        vec![
            Piece::fixed("arn:aws:iam::"),
            account.clone(),
            Piece::fixed(":user/"),
            path(),
            plain(),
        ],
        vec![
            Piece::fixed("arn:aws:sts::"),
            account.clone(),
            Piece::fixed(":assumed-role/"),
            plain(),
            Piece::fixed("/"),
            plain(),
        ],
        vec![
            Piece::fixed("arn:aws:sts::"),
            account.clone(),
            Piece::fixed(":federated-user/"),
            plain(),
        ],
        vec![
            Piece::fixed("arn:aws:iam::"),
            account.clone(),
            Piece::fixed(":root"),
        ],
    ]
}

/// The ARNs of resources an account owns (`aws:SourceArn`): any service,
/// region and resource; some services (S3) leave the account out. The
/// services of [`SHAPED_SERVICES`] have templates of their own shape, and
/// the generic template's values for them are refused by
/// [`source_arn_has_its_shape`].
pub fn resource_arns(account: &Piece, accountless: bool) -> Vec<Vec<Piece>> {
    let region = || Piece::run(Chars::LowerDash, 0, usize::MAX, "zq");
    let mut out = vec![vec![
        Piece::fixed("arn:aws:"),
        Piece::run(Chars::LowerDash, 1, usize::MAX, "zq"),
        Piece::fixed(":"),
        region(),
        Piece::fixed(":"),
        account.clone(),
        Piece::fixed(":"),
        Piece::run(Chars::Any, 1, usize::MAX, "zq"),
    ]];
    if accountless {
        out.push(vec![
            Piece::fixed("arn:aws:"),
            Piece::run(Chars::LowerDash, 1, usize::MAX, "zq"),
            Piece::fixed(":"),
            Piece::run(Chars::LowerDash, 0, usize::MAX, ""),
            Piece::fixed("::"),
            Piece::run(Chars::Any, 1, usize::MAX, "zq"),
        ]);
    }
    for shaped in SHAPED_SERVICES {
        for ids in 1..=shaped.max_ids {
            let mut t = vec![
                Piece::fixed(&format!("arn:aws:{}:", shaped.service)),
                region(),
                Piece::fixed(":"),
                account.clone(),
                Piece::fixed(":"),
                Piece::run(Chars::Word, 1, usize::MAX, "zq"),
                Piece::fixed(&shaped.type_separator.to_string()),
            ];
            for i in 0..ids {
                if i > 0 {
                    t.push(Piece::fixed(":"));
                }
                t.push(Piece::run(Chars::ArnPart, 1, usize::MAX, "zq"));
            }
            out.push(t);
        }
    }
    out
}

/// A service whose resource ARNs all have one shape: a resource type, a
/// separator, then one to `max_ids` colon-free parts joined by `:`.
pub struct ShapedService {
    pub service: &'static str,
    pub type_separator: char,
    pub max_ids: usize,
}

/// Services that act for their customers on ECR repositories with an
/// `aws:SourceArn` (their resource types, from the Service Authorization
/// Reference pages "Actions, resources, and condition keys for AWS Lambda"
/// and "... for AWS CodeBuild"): a Lambda ARN is `function:NAME`,
/// `function:NAME:QUALIFIER`, `layer:NAME:VERSION`,
/// `event-source-mapping:ID`...; a CodeBuild ARN is `project/NAME`,
/// `build/PROJECT:ID`, `report-group/NAME`, `report/GROUP:ID`... None of
/// their names or ids holds a colon. Knowing the shape keeps a pattern like
/// `arn:aws:lambda:*:<owner>:function:svc-*` from matching an outsider's
/// ARN whose region or resource would have to hold the owner's account.
pub const SHAPED_SERVICES: &[ShapedService] = &[
    ShapedService {
        service: "lambda",
        type_separator: ':',
        max_ids: 2,
    },
    ShapedService {
        service: "codebuild",
        type_separator: '/',
        max_ids: 2,
    },
];

/// Whether an `aws:SourceArn` value is an ARN AWS could set: six parts
/// whose partition, service, region and account hold no colon (the ARN
/// format), and, for a service of [`SHAPED_SERVICES`], a resource of its
/// shape. Other services' resources may be anything.
pub fn source_arn_has_its_shape(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, _partition, service, _region, _account, resource] = parts[..] else {
        return false;
    };
    if prefix != "arn" {
        return false;
    }
    let Some(shaped) = SHAPED_SERVICES.iter().find(|s| s.service == service) else {
        return true;
    };
    let Some((kind, ids)) = resource.split_once(shaped.type_separator) else {
        return false;
    };
    let ids: Vec<&str> = ids.split(':').collect();
    !kind.is_empty()
        && kind.chars().all(|c| Chars::Word.allows(c))
        && ids.len() <= shaped.max_ids
        && ids
            .iter()
            .all(|id| !id.is_empty() && !id.chars().any(|c| c.is_control()))
}

/// The account part every `aws:SourceArn` value of its service's shape
/// ([`source_arn_has_its_shape`]) that `pattern` matches as `StringLike`
/// holds, when the pattern pins it: a literal `arn:<partition>:<service>:`
/// naming a service of [`SHAPED_SERVICES`], a region part, a literal
/// account part of digits, then the rest.
///
/// Why the account is pinned: were the region part's wildcards to take
/// `k ≥ 1` colons, the literal account would fall into the resource. With
/// `k = 1` the resource starts with it, and a resource type is letters and
/// `-`, never digits. With `k ≥ 2` the resource holds at least `2` colons
/// plus the literal colons after the account, more than the service's
/// shape allows (Lambda `type:id[:id]`: 2, so the pattern must have a
/// colon after the account; CodeBuild `type/id[:id]`: 1).
pub fn pinned_source_account(pattern: &str) -> Option<&str> {
    if pattern.contains('?') {
        return None;
    }
    let parts: Vec<&str> = pattern.splitn(6, ':').collect();
    let [prefix, partition, service, _region, account, rest] = parts[..] else {
        return None;
    };
    if prefix != "arn" || partition.contains('*') || service.contains('*') {
        return None;
    }
    let shaped = SHAPED_SERVICES.iter().find(|s| s.service == service)?;
    if account.is_empty() || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let most_resource_colons = usize::from(shaped.type_separator == ':') + shaped.max_ids - 1;
    let colons_after_account = rest.matches(':').count();
    (2 + colons_after_account > most_resource_colons).then_some(account)
}

/// The service part of a pattern when the pattern fixes it: its first three
/// `:`-separated parts hold no wildcard. A value it matches then has that
/// service.
pub fn literal_service(pattern: &str) -> Option<&str> {
    let parts: Vec<&str> = pattern.splitn(4, ':').collect();
    if parts.len() < 4 || parts[..3].iter().any(|p| p.contains(['*', '?'])) {
        return None;
    }
    Some(parts[2])
}

/// The `aws:userid` values of principals of an account: a role session
/// (`AROA…:session`), a user (`AIDA…`), the root (the account id), a
/// federated user (`account:name`).
pub fn user_ids(account: &Piece) -> Vec<Vec<Piece>> {
    let id = |prefix: &str| {
        vec![
            Piece::fixed(prefix),
            Piece::run(Chars::UpperAlnum, 1, usize::MAX, "Z"),
        ]
    };
    let session = || Piece::run(Chars::Name, 1, usize::MAX, "zq");
    let mut role = id("AROA");
    role.extend([Piece::fixed(":"), session()]);
    vec![
        role,
        id("AIDA"),
        vec![account.clone()],
        vec![account.clone(), Piece::fixed(":"), session()],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn any_account() -> Piece {
        account(None, "999999999999")
    }

    fn matches_principal(pattern: &str, mode: Mode) -> Option<String> {
        principal_arns(&any_account())
            .iter()
            .find_map(|t| witness(t, pattern, mode).unwrap())
    }

    #[test]
    fn wildcards_anywhere_admit_an_outsider() {
        for p in [
            "*:role/deploy-*",
            "*deploy*",
            "arn:aws:iam::*:role/deploy-*",
            "arn:aws:*:role/deploy-*",
            "arn:*",
            "*",
            "*111122223333*",
        ] {
            let w = matches_principal(p, Mode::Like).unwrap_or_else(|| panic!("{p}"));
            assert!(crate::policy::pattern::glob_match(p, &w), "{p} -> {w}");
        }
        let w = matches_principal("*:role/deploy-*", Mode::Like).unwrap();
        assert_eq!(w, "arn:aws:iam::999999999999:role/deploy-");
    }

    #[test]
    fn a_pinned_account_is_not_matchable_by_another() {
        let outsider = |p: &str| {
            principal_arns(&account(Some("999999999999"), "999999999999"))
                .iter()
                .find_map(|t| witness(t, p, Mode::Like).unwrap())
        };
        assert_eq!(outsider("arn:aws:iam::111122223333:role/deploy-*"), None);
        assert_eq!(outsider("arn:aws:iam::111122223333:*"), None);
        // Under ArnLike the account part is its own field.
        let arn_outsider = principal_arns(&account(Some("999999999999"), "999999999999"))
            .iter()
            .find_map(|t| witness(t, "*:111122223333:role/x", Mode::Arn).unwrap());
        assert_eq!(arn_outsider, None);
    }

    #[test]
    fn a_path_can_hold_what_follows_a_leading_wildcard() {
        // IAM paths may contain `:`: an outsider's role under the path
        // `/x:111122223333:role/` matches a pattern whose account part
        // follows a wildcard.
        let w = principal_arns(&account(Some("999999999999"), "999999999999"))
            .iter()
            .find_map(|t| witness(t, "*:111122223333:role/deploy-*", Mode::Like).unwrap())
            .unwrap();
        assert!(w.starts_with("arn:aws:iam::999999999999:role/"), "{w}");
        assert!(crate::policy::pattern::glob_match(
            "*:111122223333:role/deploy-*",
            &w
        ));
    }

    #[test]
    fn arn_mode_keeps_wildcards_inside_parts() {
        // `*` cannot swallow the account part under ArnLike.
        assert!(matches_principal("arn:aws:iam::1111*:role/x", Mode::Arn)
            .unwrap()
            .starts_with("arn:aws:iam::1111"));
        assert!(matches_principal("*:role/deploy", Mode::Arn).is_none());
        assert!(matches_principal("arn:aws:iam::*:role/deploy", Mode::Arn).is_some());
    }

    #[test]
    fn a_source_arn_pattern_pins_the_account_only_where_the_shape_forces_it() {
        // Shapes from the Service Authorization Reference pages "Actions,
        // resources, and condition keys for AWS Lambda" (function:NAME,
        // function:NAME:QUALIFIER, layer:NAME:VERSION) and "... for AWS
        // CodeBuild" (project/NAME, build/PROJECT:ID).
        let owner = "111122223333";
        let pinned = [
            "arn:aws:lambda:*:111122223333:function:svc-*",
            "arn:aws:lambda:us-east-1:111122223333:function:*",
            "arn:aws:lambda:*:111122223333:*:*",
            "arn:aws:codebuild:*:111122223333:project/*",
            "arn:aws:codebuild:*:111122223333:*",
            "arn:aws-cn:lambda:*:111122223333:layer:*",
        ];
        let open = [
            // An outsider's function named 111122223333 with an alias.
            "arn:aws:lambda:*:111122223333:*",
            "arn:aws:lambda:*:111122223333:function*",
            // The account part is a wildcard, or the service is.
            "arn:aws:lambda:*:*:function:svc-*",
            "arn:aws:lambda:*:1111*:function:svc-*",
            "arn:aws:lambda*:*:111122223333:function:svc-*",
            "arn:*:lambda:*:111122223333:function:svc-*",
            // A service of no known shape keeps any resource.
            "arn:aws:sns:*:111122223333:topic:*",
            // `?` can take a colon; so can a missing account part.
            "arn:aws:lambda:?:111122223333:function:svc-*",
            "arn:aws:lambda:*:111122223333",
        ];
        for p in pinned {
            assert_eq!(pinned_source_account(p), Some(owner), "{p}");
        }
        for p in open {
            assert_eq!(pinned_source_account(p), None, "{p}");
        }
        // The exact search agrees: no ARN of the service's shape in another
        // account matches a pinned pattern, and one matches each pattern the
        // function leaves open for a shape-only reason.
        let outsider = |p: &str| {
            resource_arns(&account(Some("999988887777"), "999988887777"), false)
                .iter()
                .filter_map(|t| witness(t, p, Mode::Like).unwrap())
                .find(|w| source_arn_has_its_shape(w))
        };
        for p in pinned {
            assert_eq!(outsider(p), None, "{p}");
        }
        for p in &open[..2] {
            let w = outsider(p).unwrap_or_else(|| panic!("{p}"));
            assert!(w.contains(":999988887777:"), "{w}");
        }
    }

    #[test]
    fn source_arns_and_user_ids() {
        let t = resource_arns(&any_account(), true);
        let w = t
            .iter()
            .find_map(|t| witness(t, "*:function:deploy-*", Mode::Like).unwrap())
            .unwrap();
        assert!(
            w.starts_with("arn:aws:") && w.contains(":function:deploy-"),
            "{w}"
        );
        let ids = user_ids(&any_account());
        let w = ids
            .iter()
            .find_map(|t| witness(t, "*:deploy-*", Mode::Like).unwrap())
            .unwrap();
        assert!(w.ends_with(":deploy-"), "{w}");
    }

    #[test]
    fn long_patterns_are_bounded_and_never_answer_a_wrong_no() {
        // A witness exists (a role named a…a): found, or the search gives
        // up (the caller then reports the condition undecided).
        let hostile = "*a".repeat(3000) + "*";
        let t = principal_arns(&any_account());
        match witness(&t[0], &hostile, Mode::Like) {
            Ok(Some(w)) => assert!(crate::policy::pattern::glob_match(&hostile, &w)),
            Ok(None) => panic!("a matchable pattern was called unmatchable"),
            Err(GaveUp) => {}
        }
    }
}
