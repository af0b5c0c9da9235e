//! Finding messages: `{path}` in a rule's @message is replaced by the value of
//! that attribute of the resource (`{images.stale_untagged_count}`) or of the
//! context (`{context.stale_days}`). A `:bytes` suffix prints a size for
//! people. A path that does not resolve prints as `{?path}` so the mistake is
//! visible rather than silent.

use super::Attr;

pub struct Scope<'a> {
    pub resource: &'a Attr,
    pub context: &'a Attr,
}

pub fn lookup<'a>(scope: &Scope<'a>, path: &str) -> Option<&'a Attr> {
    let (mut value, rest) = match path.strip_prefix("context.") {
        Some(rest) => (scope.context, rest),
        None => (
            scope.resource,
            path.strip_prefix("resource.").unwrap_or(path),
        ),
    };
    for part in rest.split('.') {
        value = value.get(part)?;
    }
    Some(value)
}

pub fn human_bytes(n: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

fn display(value: &Attr) -> String {
    match value {
        Attr::String(s) => s.clone(),
        Attr::Set(items) if items.is_empty() => "none".to_string(),
        Attr::Set(items) => items.iter().map(display).collect::<Vec<_>>().join(", "),
        Attr::Null => "null".to_string(),
        Attr::Bool(b) => b.to_string(),
        Attr::Number(n) => n.to_string(),
        record => serde_json::to_string(record).unwrap_or_default(),
    }
}

pub fn render(template: &str, scope: &Scope) -> String {
    render_known(template, scope, &|_| false)
}

/// [`render`], with the attribute paths `unread` says could not be read
/// printed as "unknown (not read)" rather than as what an empty value would
/// say.
pub fn render_known(template: &str, scope: &Scope, unread: &dyn Fn(&str) -> bool) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let spec = &after[..end];
        let (path, filter) = match spec.split_once(':') {
            Some((p, f)) => (p, Some(f)),
            None => (spec, None),
        };
        let attribute = path.strip_prefix("resource.").unwrap_or(path);
        match (lookup(scope, path), filter) {
            _ if !path.starts_with("context.") && unread(attribute) => {
                out.push_str("unknown (not read)")
            }
            (Some(v), Some("bytes")) => out.push_str(&human_bytes(v.as_i64().unwrap_or(0))),
            (Some(v), _) => out.push_str(&display(v)),
            (None, _) => out.push_str(&format!("{{?{spec}}}")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_paths_filters_and_unknowns() {
        let resource = Attr::of(
            &json!({"name": "web", "images": {"n": 3, "b": 3_221_225_472i64}, "s": ["a", "b"]}),
        )
        .unwrap();
        let context = Attr::of(&json!({"stale_days": 14})).unwrap();
        let scope = Scope {
            resource: &resource,
            context: &context,
        };
        assert_eq!(
            render(
                "{name}: {images.n} images, {images.b:bytes}, >{context.stale_days}d, {s}, {nope}",
                &scope
            ),
            "web: 3 images, 3.0 GiB, >14d, a, b, {?nope}"
        );
        assert_eq!(render("unclosed {name", &scope), "unclosed {name");
    }
}
