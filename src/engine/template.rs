//! Finding messages: `{path}` in a rule's @message is replaced by the value of
//! that attribute of the resource (`{images.stale_untagged_count}`) or of the
//! context (`{context.stale_days}`). A `:bytes` suffix prints a size for
//! people. A path that does not resolve prints as `{?path}` so the mistake is
//! visible rather than silent.

use super::attributes::FieldHint;
use super::Attr;

pub struct Scope<'a> {
    pub resource: &'a Attr,
    pub context: &'a Attr,
}

/// An attribute path split once: a rule's message and details are read for
/// each of its findings, half a million in a large organization.
#[derive(Debug, Clone)]
pub struct Path {
    in_context: bool,
    parts: Vec<(String, FieldHint)>,
}

impl Path {
    /// `context.x` is the context's; `resource.x` and `x` the resource's.
    pub fn parse(path: &str) -> Path {
        let (in_context, rest) = match path.strip_prefix("context.") {
            Some(rest) => (true, rest),
            None => (false, path.strip_prefix("resource.").unwrap_or(path)),
        };
        Path {
            in_context,
            parts: rest
                .split('.')
                .map(|part| (part.to_string(), FieldHint::default()))
                .collect(),
        }
    }

    pub fn lookup<'a>(&self, scope: &Scope<'a>) -> Option<&'a Attr> {
        let mut value = if self.in_context {
            scope.context
        } else {
            scope.resource
        };
        for (part, hint) in &self.parts {
            value = hint.find(value.as_record()?, part)?;
        }
        Some(value)
    }
}

/// A message template split once into its text and its `{path}`s.
#[derive(Debug, Clone)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Value {
        /// As written between the braces, for `{?spec}`.
        spec: String,
        /// The path without `resource.`, as unread attributes are named.
        attribute: String,
        path: Path,
        bytes: bool,
    },
}

impl Template {
    pub fn parse(template: &str) -> Template {
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            parts.push(Part::Text(rest[..start].to_string()));
            let after = &rest[start + 1..];
            let Some(end) = after.find('}') else {
                parts.push(Part::Text(rest[start..].to_string()));
                return Template { parts };
            };
            let spec = &after[..end];
            let (path, filter) = match spec.split_once(':') {
                Some((p, f)) => (p, Some(f)),
                None => (spec, None),
            };
            let attribute = match path.strip_prefix("context.") {
                // Context values are always known.
                Some(_) => None,
                None => Some(path.strip_prefix("resource.").unwrap_or(path)),
            };
            parts.push(Part::Value {
                spec: spec.to_string(),
                attribute: attribute.unwrap_or_default().to_string(),
                path: Path::parse(path),
                bytes: filter == Some("bytes"),
            });
            rest = &after[end + 1..];
        }
        parts.push(Part::Text(rest.to_string()));
        Template { parts }
    }

    /// The message, with the attribute paths `unread` says could not be
    /// read printed as "unknown (not read)" rather than as what an empty
    /// value would say.
    pub fn render(&self, scope: &Scope, unread: &dyn Fn(&str) -> bool) -> String {
        let mut out = String::with_capacity(128);
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Value {
                    spec,
                    attribute,
                    path,
                    bytes,
                } => match path.lookup(scope) {
                    _ if !path.in_context && unread(attribute) => {
                        out.push_str("unknown (not read)")
                    }
                    Some(v) if *bytes => out.push_str(&human_bytes(v.as_i64().unwrap_or(0))),
                    Some(v) => display(v, &mut out),
                    None => {
                        out.push_str("{?");
                        out.push_str(spec);
                        out.push('}');
                    }
                },
            }
        }
        out
    }
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

/// A value as a message prints it, written onto `out`: half a million
/// messages in a large organization, each value copied once.
fn display(value: &Attr, out: &mut String) {
    use std::fmt::Write as _;
    match value {
        Attr::String(s) => out.push_str(s),
        Attr::Set(items) if items.is_empty() => out.push_str("none"),
        Attr::Set(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                display(item, out);
            }
        }
        Attr::Null => out.push_str("null"),
        Attr::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        // Writing to a `String` cannot fail.
        Attr::Number(n) => {
            let _ = write!(out, "{n}");
        }
        record => out.push_str(&serde_json::to_string(record).unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(template: &str, scope: &Scope) -> String {
        Template::parse(template).render(scope, &|_| false)
    }

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
