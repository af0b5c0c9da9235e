//! Does image scanning cover a repository?

use crate::inventory::{Registry, RegistryScanningConfiguration, Repository};

/// True when images pushed to the repository get scanned. The effective
/// frequency reported by BatchGetRepositoryScanningConfiguration is
/// authoritative when collected; otherwise it is derived: with ENHANCED
/// scanning the repository's own scan-on-push is ignored and only registry
/// rules count.
pub fn scanning_covered(repository: &Repository, registry: Option<&Registry>) -> bool {
    if let Some(freq) = &repository.scan_frequency {
        return !freq.eq_ignore_ascii_case("MANUAL") && !freq.is_empty();
    }
    let config = registry.and_then(|r| r.scanning_configuration.as_ref());
    let enhanced = config.is_some_and(|c| c.scan_type.eq_ignore_ascii_case("ENHANCED"));
    if !enhanced && repository.image_scanning_configuration.scan_on_push {
        return true;
    }
    config.is_some_and(|c| {
        rule_applies(c, &repository.repository_name, "SCAN_ON_PUSH")
            || rule_applies(c, &repository.repository_name, "CONTINUOUS_SCAN")
    })
}

/// Does a registry scanning rule of this frequency have a filter matching
/// the repository?
fn rule_applies(config: &RegistryScanningConfiguration, repository: &str, frequency: &str) -> bool {
    config.rules.iter().any(|rule| {
        rule.scan_frequency.eq_ignore_ascii_case(frequency)
            && rule
                .repository_filters
                .iter()
                .any(|f| wildcard_match(&f.filter, repository))
    })
}

/// True when the registry uses enhanced scanning (Amazon Inspector) and the
/// repository is scanned only when an image is pushed, not continuously: a
/// vulnerability published after the push is not found in images still in
/// use. The collected effective frequency decides; without it, the
/// registry's rules do (a matching CONTINUOUS_SCAN rule wins).
pub fn enhanced_scan_on_push_only(repository: &Repository, registry: Option<&Registry>) -> bool {
    let Some(config) = registry.and_then(|r| r.scanning_configuration.as_ref()) else {
        return false;
    };
    if !config.scan_type.eq_ignore_ascii_case("ENHANCED") {
        return false;
    }
    if let Some(freq) = &repository.scan_frequency {
        return freq.eq_ignore_ascii_case("SCAN_ON_PUSH");
    }
    let name = &repository.repository_name;
    !rule_applies(config, name, "CONTINUOUS_SCAN") && rule_applies(config, name, "SCAN_ON_PUSH")
}

/// ECR scanning filters: `*` matches any run of characters, nothing else is
/// special.
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = name.chars().collect();
    let (mut pi, mut si) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && p[pi] != '*' && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*", "payments/api"));
        assert!(wildcard_match("payments/*", "payments/api"));
        assert!(wildcard_match("*api", "payments/api"));
        assert!(wildcard_match("p*s/*i", "payments/api"));
        assert!(!wildcard_match("payments/*", "web/payments/api"));
        assert!(!wildcard_match("payments", "payments/api"));
    }
}
