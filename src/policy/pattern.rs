//! IAM wildcard matching: `*` (any run of characters, possibly empty) and `?`
//! (exactly one character), ARN matching, and `${...}` policy variables.
//!
//! Policy variables are only interpreted when the document's Version is
//! 2012-10-17 (`variables_enabled`); otherwise `${aws:username}` is literal
//! text. `${*}`, `${?}` and `${$}` are escapes for a literal `*`, `?`, `$`.
//! A variable is replaced by the value of its condition key in the request
//! context; when there is no context, or the key is absent (and the variable
//! has no `, 'default'`), or the key has several values, the outcome is
//! [`Tri::Unknown`]: the answer depends on the request and the caller decides
//! conservatively. Substituted text is literal (a `*` in a user name is not a
//! wildcard).

use super::context::RequestContext;
use super::tri::Tri;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(char),
    Star,
    Quest,
    Var {
        key: String,
        default: Option<String>,
    },
}

/// Split a pattern into tokens. `wildcards` false: `*` and `?` are literal
/// (StringEquals, StringEqualsIgnoreCase).
fn tokenize(pattern: &str, wildcards: bool, variables: bool) -> Vec<Tok> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if variables && c == '$' && chars.get(i + 1) == Some(&'{') {
            if let Some(close) = chars[i + 2..].iter().position(|&d| d == '}') {
                let inner: String = chars[i + 2..i + 2 + close].iter().collect();
                i += close + 3;
                match inner.as_str() {
                    "*" => out.push(Tok::Lit('*')),
                    "?" => out.push(Tok::Lit('?')),
                    "$" => out.push(Tok::Lit('$')),
                    _ => out.push(parse_var(&inner)),
                }
                continue;
            }
        }
        out.push(match c {
            '*' if wildcards => Tok::Star,
            '?' if wildcards => Tok::Quest,
            _ => Tok::Lit(c),
        });
        i += 1;
    }
    out
}

/// `aws:username` or `aws:PrincipalTag/team, 'default'`.
fn parse_var(inner: &str) -> Tok {
    match inner.split_once(',') {
        Some((key, default)) => {
            let d = default.trim();
            let default = d
                .strip_prefix('\'')
                .and_then(|d| d.strip_suffix('\''))
                .unwrap_or(d)
                .to_owned();
            Tok::Var {
                key: key.trim().to_ascii_lowercase(),
                default: Some(default),
            }
        }
        None => Tok::Var {
            key: inner.trim().to_ascii_lowercase(),
            default: None,
        },
    }
}

/// True when the text contains a policy variable (not just an escape).
pub fn has_variables(pattern: &str) -> bool {
    tokenize(pattern, true, true)
        .iter()
        .any(|t| matches!(t, Tok::Var { .. }))
}

/// What a policy variable stands for when a pattern is rewritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariableValue {
    /// This text, literally.
    Literal(String),
    /// Whatever the caller likes (a `*` for matching purposes).
    Chosen,
    /// Nothing: the variable cannot be resolved.
    Unresolved,
}

/// The pattern with every policy variable replaced as `value(key, default)`
/// says (keys lower-cased). Literal text is escaped (`${*}`, `${?}`, `${$}`)
/// so it stays literal; a chosen variable becomes `*`. `None` when a
/// variable is unresolved. `wildcards`: whether `*` and `?` of the pattern
/// are wildcards (StringLike, Arn operators) or literal (StringEquals). The
/// result is read with variables enabled, wildcards on.
pub fn rewrite_variables(
    pattern: &str,
    wildcards: bool,
    value: &mut dyn FnMut(&str, Option<&str>) -> VariableValue,
) -> Option<String> {
    let mut out = String::with_capacity(pattern.len());
    let push_literal = |out: &mut String, c: char| match c {
        '*' => out.push_str("${*}"),
        '?' => out.push_str("${?}"),
        '$' => out.push_str("${$}"),
        c => out.push(c),
    };
    for t in tokenize(pattern, wildcards, true) {
        match t {
            Tok::Lit(c) => push_literal(&mut out, c),
            Tok::Star => out.push('*'),
            Tok::Quest => out.push('?'),
            Tok::Var { key, default } => match value(&key, default.as_deref()) {
                VariableValue::Literal(s) => s.chars().for_each(|c| push_literal(&mut out, c)),
                VariableValue::Chosen => out.push('*'),
                VariableValue::Unresolved => return None,
            },
        }
    }
    Some(out)
}

/// The keys of the policy variables in a pattern (lower-cased).
pub fn variable_keys(pattern: &str) -> Vec<String> {
    tokenize(pattern, true, true)
        .into_iter()
        .filter_map(|t| match t {
            Tok::Var { key, .. } => Some(key),
            _ => None,
        })
        .collect()
}

/// Replace variables by their values; `None` when one cannot be resolved.
fn resolve(toks: Vec<Tok>, ctx: Option<&RequestContext>) -> Option<Vec<Tok>> {
    if !toks.iter().any(|t| matches!(t, Tok::Var { .. })) {
        return Some(toks);
    }
    let ctx = ctx?;
    let mut out = Vec::with_capacity(toks.len());
    for t in toks {
        match t {
            Tok::Var { key, default } => {
                let value = match ctx.get(&key) {
                    Some([one]) => one.clone(),
                    Some(_) => return None,
                    None => default?,
                };
                out.extend(value.chars().map(Tok::Lit));
            }
            other => out.push(other),
        }
    }
    Some(out)
}

fn chars_eq(a: char, b: char, fold: bool) -> bool {
    a == b || (fold && a.to_lowercase().eq(b.to_lowercase()))
}

/// What a pattern element is to the matcher.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wild {
    Star,
    Quest,
    Other,
}

/// Greedy wildcard match with single-star backtracking: linear in practice,
/// never exponential. `wild` says which pattern elements are wildcards,
/// `eq` whether another element matches a value element.
fn wildcard_match<P, V>(
    p: &[P],
    v: &[V],
    wild: impl Fn(&P) -> Wild,
    eq: impl Fn(&P, &V) -> bool,
) -> bool {
    let (mut pi, mut vi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if let Some(item) = p.get(pi) {
            match wild(item) {
                Wild::Star => {
                    star = Some((pi, vi));
                    pi += 1;
                    continue;
                }
                Wild::Quest => {
                    pi += 1;
                    vi += 1;
                    continue;
                }
                Wild::Other if eq(item, &v[vi]) => {
                    pi += 1;
                    vi += 1;
                    continue;
                }
                Wild::Other => {}
            }
        }
        match star {
            Some((sp, sv)) => {
                pi = sp + 1;
                vi = sv + 1;
                star = Some((sp, sv + 1));
            }
            None => return false,
        }
    }
    p[pi.min(p.len())..]
        .iter()
        .all(|item| wild(item) == Wild::Star)
}

fn match_toks(p: &[Tok], v: &[char], fold: bool) -> bool {
    wildcard_match(
        p,
        v,
        |t| match t {
            Tok::Star => Wild::Star,
            Tok::Quest => Wild::Quest,
            _ => Wild::Other,
        },
        |t, c| matches!(t, Tok::Lit(l) if chars_eq(*l, *c, fold)),
    )
}

/// Plain case-sensitive glob match (`*`, `?`), no policy variables.
pub fn glob_match(pattern: &str, value: &str) -> bool {
    let v: Vec<char> = value.chars().collect();
    match_toks(&tokenize(pattern, true, false), &v, false)
}

/// Case-insensitive glob match (action names), no policy variables.
pub fn glob_match_ignore_case(pattern: &str, value: &str) -> bool {
    // Action names and their patterns are ASCII, and this runs for every
    // catalogue action of every Action element: match the bytes without
    // building token and character vectors.
    if pattern.is_ascii() && value.is_ascii() {
        // Most Action elements name actions outright, or a prefix of them
        // (`ecr:*`, `ecr:Get*`): no wildcard to expand.
        let wildcards = pattern.bytes().filter(|&b| b == b'*' || b == b'?').count();
        if wildcards == 0 {
            return pattern.eq_ignore_ascii_case(value);
        }
        if let Some(prefix) = pattern.strip_suffix('*').filter(|_| wildcards == 1) {
            return value
                .as_bytes()
                .get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()));
        }
        return ascii_glob(pattern.as_bytes(), value.as_bytes(), true);
    }
    let v: Vec<char> = value.chars().collect();
    match_toks(&tokenize(pattern, true, false), &v, true)
}

/// `match_toks` over ASCII bytes, folding ASCII case when `fold`.
fn ascii_glob(p: &[u8], v: &[u8], fold: bool) -> bool {
    wildcard_match(
        p,
        v,
        |c| match c {
            b'*' => Wild::Star,
            b'?' => Wild::Quest,
            _ => Wild::Other,
        },
        |c, d| {
            if fold {
                c.eq_ignore_ascii_case(d)
            } else {
                c == d
            }
        },
    )
}

/// The pattern and value as bytes when the token matcher would see one
/// character per byte and no variable or escape: both ASCII, and no `${`
/// where variables are read. Conditions compare every candidate request
/// against every value, so this path skips building token and character
/// vectors for the common case; it answers exactly as the token path does.
fn plain_ascii<'a>(
    pattern: &'a str,
    value: &'a str,
    variables_enabled: bool,
) -> Option<(&'a [u8], &'a [u8])> {
    let plain =
        pattern.is_ascii() && value.is_ascii() && !(variables_enabled && pattern.contains("${"));
    plain.then_some((pattern.as_bytes(), value.as_bytes()))
}

/// `arn_match` for a pattern and value `plain_ascii` accepted: every colon
/// of the pattern is literal.
fn ascii_arn_match(p: &[u8], v: &[u8]) -> Tri {
    if p == b"*" {
        return Tri::True;
    }
    let pparts: Vec<&[u8]> = p.splitn(6, |&c| c == b':').collect();
    if pparts.len() < 6 {
        return Tri::Unknown;
    }
    let vparts: Vec<&[u8]> = v.splitn(6, |&c| c == b':').collect();
    if vparts.len() < 6 {
        return Tri::False;
    }
    Tri::from_bool(
        pparts
            .iter()
            .zip(&vparts)
            .all(|(p, v)| ascii_glob(p, v, false)),
    )
}

/// How a string comparison treats the policy side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringMode {
    /// StringEquals: exact, case-sensitive, `*`/`?` literal.
    Exact,
    /// StringEqualsIgnoreCase: exact up to case.
    IgnoreCase,
    /// StringLike: `*`/`?` wildcards, case-sensitive.
    Like,
}

/// Compare a policy string (possibly containing variables) with a request
/// value. `ctx` resolves variables; `None` leaves them unresolved (Unknown).
pub fn string_match(
    mode: StringMode,
    pattern: &str,
    value: &str,
    variables_enabled: bool,
    ctx: Option<&RequestContext>,
) -> Tri {
    if let Some((p, v)) = plain_ascii(pattern, value, variables_enabled) {
        return Tri::from_bool(match mode {
            StringMode::Exact => p == v,
            StringMode::IgnoreCase => p.eq_ignore_ascii_case(v),
            StringMode::Like => ascii_glob(p, v, false),
        });
    }
    string_match_by_tokens(mode, pattern, value, variables_enabled, ctx)
}

fn string_match_by_tokens(
    mode: StringMode,
    pattern: &str,
    value: &str,
    variables_enabled: bool,
    ctx: Option<&RequestContext>,
) -> Tri {
    let toks = tokenize(pattern, mode == StringMode::Like, variables_enabled);
    let Some(toks) = resolve(toks, ctx) else {
        return Tri::Unknown;
    };
    let v: Vec<char> = value.chars().collect();
    Tri::from_bool(match_toks(&toks, &v, mode == StringMode::IgnoreCase))
}

/// Split tokens at the first five literal colons into the six ARN parts.
fn split_arn_toks(toks: &[Tok]) -> Option<Vec<&[Tok]>> {
    let mut parts = Vec::with_capacity(6);
    let mut start = 0;
    for (i, t) in toks.iter().enumerate() {
        if parts.len() == 5 {
            break;
        }
        if *t == Tok::Lit(':') {
            parts.push(&toks[start..i]);
            start = i + 1;
        }
    }
    if parts.len() < 5 {
        return None;
    }
    parts.push(&toks[start..]);
    Some(parts)
}

/// ArnLike / ArnEquals (identical in IAM): both wildcard-aware, matched part by
/// part over `arn:partition:service:region:account:resource` so a wildcard never
/// crosses one of the first five colons; the resource part may contain colons.
/// A pattern of just `*` matches anything. A pattern that is not six parts
/// is `Unknown`; a value that is not an ARN does not match.
pub fn arn_match(
    pattern: &str,
    value: &str,
    variables_enabled: bool,
    ctx: Option<&RequestContext>,
) -> Tri {
    if let Some((p, v)) = plain_ascii(pattern, value, variables_enabled) {
        return ascii_arn_match(p, v);
    }
    arn_match_by_tokens(pattern, value, variables_enabled, ctx)
}

fn arn_match_by_tokens(
    pattern: &str,
    value: &str,
    variables_enabled: bool,
    ctx: Option<&RequestContext>,
) -> Tri {
    let toks = tokenize(pattern, true, variables_enabled);
    let Some(toks) = resolve(toks, ctx) else {
        return Tri::Unknown;
    };
    if toks == [Tok::Star] {
        return Tri::True;
    }
    let Some(pparts) = split_arn_toks(&toks) else {
        return Tri::Unknown;
    };
    let vparts: Vec<&str> = value.splitn(6, ':').collect();
    if vparts.len() < 6 {
        return Tri::False;
    }
    Tri::from_bool(pparts.iter().zip(vparts.iter()).all(|(p, v)| {
        let vc: Vec<char> = v.chars().collect();
        match_toks(p, &vc, false)
    }))
}

/// Does one Action pattern match an action name (`service:Action`)?
/// Case-insensitive; `*` matches every action of every service.
pub fn action_pattern_matches(pattern: &str, action: &str) -> bool {
    pattern == "*" || glob_match_ignore_case(pattern, action)
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_ascii_action_matcher_agrees_with_the_token_matcher() {
        use proptest::prelude::*;
        let alphabet = "[aAbB:*?]{0,8}";
        proptest!(|(pattern in alphabet, value in "[aAbB:]{0,8}")| {
            let chars: Vec<char> = value.chars().collect();
            let by_tokens = match_toks(&tokenize(&pattern, true, false), &chars, true);
            prop_assert_eq!(ascii_glob(pattern.as_bytes(), value.as_bytes(), true), by_tokens);
            prop_assert_eq!(glob_match_ignore_case(&pattern, &value), by_tokens);
        });
        // Values that differ from a wildcard-free pattern only in case.
        proptest!(|(pattern in "[aAbB:]{0,8}", flips in proptest::collection::vec(any::<bool>(), 8))| {
            let value: String = pattern
                .chars()
                .zip(&flips)
                .map(|(c, &flip)| if flip { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
                .collect();
            let chars: Vec<char> = value.chars().collect();
            let by_tokens = match_toks(&tokenize(&pattern, true, false), &chars, true);
            prop_assert!(by_tokens);
            prop_assert_eq!(glob_match_ignore_case(&pattern, &value), by_tokens);
        });
    }

    use super::*;

    fn ctx(pairs: &[(&str, &str)]) -> RequestContext {
        let mut c = RequestContext::new();
        for (k, v) in pairs {
            c.insert(k, [*v]);
        }
        c
    }

    #[test]
    fn the_ascii_matchers_agree_with_the_token_matchers() {
        let patterns = [
            "",
            "*",
            "**",
            "?",
            "a",
            "A",
            "a*",
            "*b",
            "a?c",
            "a*c*",
            "${x}",
            "a:b",
            "arn:aws:ecr:*:1:repository/*",
            "arn:aws:ecr:*:repository/*",
            "arn:*:*:*:*:*",
            "arn:aws:ecr:us-east-?:1:r/a:*",
            "arn:aws:ecr::1:",
        ];
        let values = [
            "",
            "a",
            "A",
            "ab",
            "abc",
            "aXc",
            "a*",
            "${x}",
            "a:b",
            "x:y:z",
            "arn:aws:ecr:us-east-1:1:repository/a",
            "arn:aws:ecr:us-east-1:1:r/a:b",
            "arn:aws:ecr::1:",
            "arn:aws:ecr:us-east-1:2:repository/a",
        ];
        let modes = [StringMode::Exact, StringMode::IgnoreCase, StringMode::Like];
        for p in patterns {
            for v in values {
                for vars in [false, true] {
                    assert_eq!(
                        arn_match(p, v, vars, None),
                        arn_match_by_tokens(p, v, vars, None),
                        "arn {p:?} {v:?} {vars}"
                    );
                    for mode in modes {
                        assert_eq!(
                            string_match(mode, p, v, vars, None),
                            string_match_by_tokens(mode, p, v, vars, None),
                            "{mode:?} {p:?} {v:?} {vars}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn globs() {
        assert!(glob_match("*", ""));
        assert!(glob_match("a*c", "abbbc"));
        assert!(glob_match("a*c", "ac"));
        assert!(!glob_match("a*c", "ab"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "ac"));
        assert!(glob_match("*a*b*", "xxaxxbxx"));
        assert!(!glob_match("ABC", "abc"));
        assert!(glob_match_ignore_case("ECR:batchget*", "ecr:BatchGetImage"));
        assert!(glob_match("o-*", "o-abc"));
        assert!(glob_match("a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaab"));
        assert!(!glob_match("a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaa"));
        assert!(glob_match("é?", "éü"));
    }

    #[test]
    fn escapes_and_variables() {
        let c = ctx(&[("aws:username", "alice")]);
        let like = StringMode::Like;
        assert_eq!(
            string_match(
                like,
                "home/${aws:username}/*",
                "home/alice/x",
                true,
                Some(&c)
            ),
            Tri::True
        );
        assert_eq!(
            string_match(like, "home/${aws:username}/*", "home/bob/x", true, Some(&c)),
            Tri::False
        );
        assert_eq!(
            string_match(like, "home/${aws:username}/*", "home/bob/x", true, None),
            Tri::Unknown
        );
        // 2008-10-17: literal text.
        assert_eq!(
            string_match(like, "${aws:username}", "${aws:username}", false, None),
            Tri::True
        );
        assert_eq!(string_match(like, "a${*}", "a*", true, None), Tri::True);
        assert_eq!(string_match(like, "a${*}", "ab", true, None), Tri::False);
        assert_eq!(
            string_match(like, "a${?}${$}", "a?$", true, None),
            Tri::True
        );
        assert_eq!(
            string_match(
                StringMode::Exact,
                "${aws:PrincipalTag/team, 'none'}",
                "none",
                true,
                Some(&c)
            ),
            Tri::True
        );
        assert_eq!(
            string_match(StringMode::Exact, "a*", "ab", true, None),
            Tri::False
        );
        assert_eq!(
            string_match(StringMode::Exact, "a*", "a*", true, None),
            Tri::True
        );
        assert_eq!(
            string_match(StringMode::IgnoreCase, "ABC", "abc", true, None),
            Tri::True
        );
        // A substituted value is literal even if it contains a wildcard.
        let c2 = ctx(&[("aws:username", "*")]);
        assert_eq!(
            string_match(like, "${aws:username}", "bob", true, Some(&c2)),
            Tri::False
        );
        assert!(has_variables("x/${aws:userid}"));
        assert!(!has_variables("x/${*}"));
    }

    #[test]
    fn arns() {
        let repo = "arn:aws:ecr:us-east-1:111122223333:repository/team/app";
        assert_eq!(arn_match("*", repo, true, None), Tri::True);
        assert_eq!(
            arn_match("arn:aws:ecr:*:*:repository/*", repo, true, None),
            Tri::True
        );
        assert_eq!(
            arn_match("arn:aws:ecr:*:111122223333:*", repo, true, None),
            Tri::True
        );
        assert_eq!(
            arn_match("arn:aws:ecr:*:444455556666:*", repo, true, None),
            Tri::False
        );
        // A wildcard must not cross one of the first five colons.
        assert_eq!(
            arn_match("arn:aws:ecr:*:repository/*", repo, true, None),
            Tri::Unknown
        );
        assert_eq!(
            arn_match("arn:aws:*:111122223333:repository/*", repo, true, None),
            Tri::Unknown
        );
        assert_eq!(arn_match("arn:*:*:*:*:*", repo, true, None), Tri::True);
        assert_eq!(
            arn_match(
                "arn:aws:ecr:us-east-?:111122223333:repository/team/*",
                repo,
                true,
                None
            ),
            Tri::True
        );
        // Resource part may contain colons and the wildcard crosses them there.
        assert_eq!(
            arn_match(
                "arn:aws:logs:*:*:log-group:*",
                "arn:aws:logs:us-east-1:1:log-group:a:b",
                true,
                None
            ),
            Tri::True
        );
        assert_eq!(
            arn_match("arn:aws:ecr:*:*:repository/*", "not-an-arn", true, None),
            Tri::False
        );
        // Case-sensitive.
        assert_eq!(arn_match("arn:aws:ECR:*:*:*", repo, true, None), Tri::False);
    }
}
