//! The README's rule table says what the rules say.

use std::collections::BTreeMap;

use ecr_audit::engine::load_rules;

#[test]
fn readme_rule_table_matches_the_catalogue() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let mut table: BTreeMap<String, (String, String)> = BTreeMap::new();
    for line in readme.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() >= 5 && cells[1].starts_with("ECR") && cells[1].len() == 6 {
            table.insert(
                cells[1].to_string(),
                (cells[2].to_string(), cells[3].to_string()),
            );
        }
    }
    let rules = load_rules(None).unwrap();
    assert_eq!(
        table.len(),
        rules.len(),
        "README lists {} rules, the catalogue has {}",
        table.len(),
        rules.len()
    );
    for rule in rules {
        let (name, severity) = table
            .get(&rule.id)
            .unwrap_or_else(|| panic!("{} missing from the README", rule.id));
        assert_eq!(name, &rule.name, "{}", rule.id);
        assert_eq!(severity, rule.severity.as_str(), "{}", rule.id);
    }
}
