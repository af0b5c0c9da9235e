//! Live collection of an organization (3 accounts × 2 regions) from a moto
//! server, through the real binary: the inventory holds everything the world
//! holds, the request counts are the minimum the design makes, a live scan
//! reports exactly what a scan of the saved inventory reports, and an
//! account that cannot be read is an error that leaves the others complete.

use std::collections::BTreeMap;

use crate::support::{ecr_audit, read_json, scratch, Moto, ACCESS_KEY, SECRET_KEY, SESSION_TOKEN};
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

fn region_args() -> Vec<&'static str> {
    REGIONS.iter().flat_map(|r| ["--region", *r]).collect()
}

fn org_world() -> (Moto, Value) {
    let moto = Moto::start();
    let world = moto.seed(json!({"cmd": "seed", "world": "org"}));
    (moto, world)
}

fn parse_doc(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not a JSON document ({e}): {text}"))
}

fn epoch(v: &Value) -> Option<i64> {
    v.as_str().map(|t| {
        OffsetDateTime::parse(t, &Rfc3339)
            .unwrap_or_else(|e| panic!("bad time {t}: {e}"))
            .unix_timestamp()
    })
}

/// The inventory in the shape of the seed's facts (scripts/moto/seeds.py).
fn normalize(inventory: &Value, now: i64) -> Value {
    let mut accounts = Map::new();
    for account in inventory["accounts"].as_array().unwrap() {
        let mut regions = Map::new();
        for region in account["regions"].as_array().unwrap() {
            let registry = &region["registry"];
            assert!(registry.is_object(), "registry unread: {region}");
            let mut reg = Map::new();
            if let Some(p) = registry["policy"].as_str() {
                reg.insert("policy".into(), parse_doc(p));
            }
            let mut destinations: Vec<String> = registry["replicationConfiguration"]["rules"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|r| r["destinations"].as_array().unwrap().clone())
                .map(|d| {
                    format!(
                        "{}/{}",
                        d["registryId"].as_str().unwrap(),
                        d["region"].as_str().unwrap()
                    )
                })
                .collect();
            destinations.sort();
            if !destinations.is_empty() {
                reg.insert("replicationDestinations".into(), json!(destinations));
            }
            reg.insert(
                "accountSettings".into(),
                registry["accountSettings"].clone(),
            );
            let scanning = &registry["scanningConfiguration"];
            if scanning["rules"].as_array().is_some_and(|r| !r.is_empty()) {
                reg.insert("scanType".into(), scanning["scanType"].clone());
            }
            let rules: Vec<Value> = registry["pullThroughCacheRules"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| r["ecrRepositoryPrefix"].clone())
                .collect();
            if !rules.is_empty() {
                reg.insert("pullThroughCacheRules".into(), json!(rules));
            }
            let templates: Vec<Value> = registry["repositoryCreationTemplates"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| t["prefix"].clone())
                .collect();
            if !templates.is_empty() {
                reg.insert("creationTemplates".into(), json!(templates));
            }
            if let Some(signing) = registry["signingConfiguration"]["rules"].as_array() {
                let profiles: Vec<Value> = signing
                    .iter()
                    .map(|r| r["signingProfileArn"].clone())
                    .collect();
                reg.insert("signingProfiles".into(), json!(profiles));
            }

            let mut repositories = Map::new();
            for repo in region["repositories"].as_array().unwrap() {
                let mut images = Map::new();
                for image in repo["images"].as_array().unwrap() {
                    let pushed = epoch(&image["imagePushedAt"]).unwrap();
                    // moto stamps pushes with the wall clock: "fresh".
                    let pushed = if (pushed - now).abs() < 600 {
                        Value::Null
                    } else {
                        json!(pushed)
                    };
                    let size = image["imageSizeInBytes"].as_u64().unwrap_or(0);
                    let mut children: Vec<Value> = image["indexManifestDigests"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    children.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                    let findings = &image["imageScanFindingsSummary"]["findingSeverityCounts"];
                    let mut tags: Vec<Value> =
                        image["imageTags"].as_array().cloned().unwrap_or_default();
                    tags.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                    let mut facts = json!({
                            "tags": tags,
                            "size": if size == 0 { Value::Null } else { json!(size) },
                            "pushedAt": pushed,
                            "lastPull": epoch(&image["lastRecordedPullTime"]).map(|t| json!(t)).unwrap_or(Value::Null),
                            "findings": if findings.is_object() { findings.clone() } else { Value::Null },
                            "mediaType": image["imageManifestMediaType"],
                            "children": children,
                    });
                    // Present only on archived images.
                    if let Some(status) = image["imageStatus"].as_str().filter(|s| *s != "ACTIVE") {
                        facts["status"] = json!(status);
                    }
                    // Present only on artifacts (signatures, SBOMs).
                    if let Some(subject) = image["subjectManifestDigest"].as_str() {
                        facts["subject"] = json!(subject);
                        facts["artifactMediaType"] = image["artifactMediaType"].clone();
                    }
                    images.insert(image["imageDigest"].as_str().unwrap().to_string(), facts);
                }
                let tags: BTreeMap<String, Value> = repo["tags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| (t["Key"].as_str().unwrap().to_string(), t["Value"].clone()))
                    .collect();
                repositories.insert(
                    repo["repositoryName"].as_str().unwrap().to_string(),
                    json!({
                        "imageTagMutability": repo["imageTagMutability"],
                        "exclusions": repo["imageTagMutabilityExclusionFilters"]
                            .as_array()
                            .map(|filters| filters.iter().map(|f| f["filter"].clone()).collect::<Vec<_>>())
                            .unwrap_or_default(),
                        "scanOnPush": repo["imageScanningConfiguration"]["scanOnPush"],
                        "encryptionType": repo["encryptionConfiguration"]["encryptionType"],
                        "kmsKey": repo["encryptionConfiguration"]["kmsKey"],
                        "tags": tags,
                        "policy": repo["policy"].as_str().map(parse_doc),
                        "lifecyclePolicy": repo["lifecyclePolicy"].as_str().map(parse_doc),
                        "images": images,
                    }),
                );
            }
            regions.insert(
                region["region"].as_str().unwrap().to_string(),
                json!({"registry": reg, "repositories": repositories}),
            );
        }
        accounts.insert(
            account["id"].as_str().unwrap().to_string(),
            json!({"regions": regions, "iam": normalize_iam(&account["iam"])}),
        );
    }
    Value::Object(accounts)
}

fn inline(list: &Value) -> Value {
    let map: Map<String, Value> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["policyName"].as_str().unwrap().to_string(),
                parse_doc(p["policyDocument"].as_str().unwrap()),
            )
        })
        .collect();
    Value::Object(map)
}

fn attached(list: &Value) -> Value {
    let mut names: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["policyName"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    json!(names)
}

/// IAM in the seed's shape; only principals the seed made (moto adds none,
/// but real accounts have service-linked roles).
fn normalize_iam(iam: &Value) -> Value {
    assert!(iam.is_object(), "IAM unread");
    let mut out = Map::new();
    let mut users = Map::new();
    for u in iam["users"].as_array().unwrap() {
        users.insert(
            u["userName"].as_str().unwrap().into(),
            json!({"inline": inline(&u["inlinePolicies"]), "attached": attached(&u["attachedPolicies"]), "groups": u["groups"]}),
        );
    }
    let mut groups = Map::new();
    for g in iam["groups"].as_array().unwrap() {
        groups.insert(
            g["groupName"].as_str().unwrap().into(),
            json!({"inline": inline(&g["inlinePolicies"]), "attached": attached(&g["attachedPolicies"])}),
        );
    }
    let mut roles = Map::new();
    for r in iam["roles"].as_array().unwrap() {
        roles.insert(
            r["roleName"].as_str().unwrap().into(),
            json!({
                "trust": parse_doc(r["assumeRolePolicyDocument"].as_str().unwrap()),
                "inline": inline(&r["inlinePolicies"]),
                "attached": attached(&r["attachedPolicies"]),
            }),
        );
    }
    let mut policies = Map::new();
    for p in iam["policies"].as_array().unwrap() {
        policies.insert(
            p["policyName"].as_str().unwrap().into(),
            parse_doc(p["document"].as_str().unwrap()),
        );
    }
    for (key, map) in [
        ("users", users),
        ("groups", groups),
        ("roles", roles),
        ("policies", policies),
    ] {
        if !map.is_empty() {
            out.insert(key.into(), Value::Object(map));
        }
    }
    Value::Object(out)
}

/// What the seed says, with the keys the inventory cannot hold removed.
fn expected_accounts(world: &Value) -> Value {
    world["accounts"].clone()
}

/// The request counts the design makes for a world (see src/collect/ecr.rs).
fn expected_counts(world: &Value, assumed: u64, with_org: bool) -> BTreeMap<String, u64> {
    let mut c: BTreeMap<String, u64> = BTreeMap::new();
    let mut add = |k: &str, n: u64| *c.entry(k.to_string()).or_default() += n;
    add("sts:GetCallerIdentity", 1);
    add("organizations:DescribeOrganization", 1);
    if with_org {
        add("organizations:ListAccounts", 1);
    }
    if assumed > 0 {
        add("sts:AssumeRole", assumed);
    }
    for account in world["accounts"].as_object().unwrap().values() {
        add("iam:GetAccountAuthorizationDetails", 1);
        for region in account["regions"].as_object().unwrap().values() {
            for op in [
                "ecr:DescribeRegistry",
                "ecr:GetRegistryPolicy",
                "ecr:GetRegistryScanningConfiguration",
                "ecr:DescribePullThroughCacheRules",
                "ecr:DescribeRepositoryCreationTemplates",
                "ecr:GetSigningConfiguration",
                "ecr:DescribeRepositories",
            ] {
                add(op, 1);
            }
            // BASIC_SCAN_TYPE_VERSION and REGISTRY_POLICY_SCOPE.
            add("ecr:GetAccountSetting", 2);
            let repos = region["repositories"].as_object().unwrap();
            let r = repos.len() as u64;
            if r > 0 {
                add(
                    "ecr:BatchGetRepositoryScanningConfiguration",
                    r.div_ceil(25),
                );
                add("ecr:GetRepositoryPolicy", r);
                add("ecr:GetLifecyclePolicy", r);
                add("ecr:ListTagsForResource", r);
            }
            for repo in repos.values() {
                let images = repo["images"].as_object().unwrap();
                add(
                    "ecr:DescribeImages",
                    (images.len() as u64).div_ceil(1000).max(1),
                );
                let indexes = images
                    .values()
                    .filter(|i| !i["children"].as_array().unwrap().is_empty())
                    .count() as u64;
                if indexes > 0 {
                    add("ecr:BatchGetImage", indexes.div_ceil(100));
                }
            }
        }
    }
    c
}

/// Panics with the paths where `actual` differs from `expected`.
fn assert_same(expected: &Value, actual: &Value) {
    fn walk(e: &Value, a: &Value, path: String, out: &mut Vec<String>) {
        match (e, a) {
            (Value::Object(e), Value::Object(a)) => {
                for (k, ev) in e {
                    match a.get(k) {
                        Some(av) => walk(ev, av, format!("{path}/{k}"), out),
                        None => out.push(format!("{path}/{k}: missing")),
                    }
                }
                for k in a.keys().filter(|k| !e.contains_key(*k)) {
                    out.push(format!("{path}/{k}: unexpected {}", a[k]));
                }
            }
            _ if e != a => out.push(format!("{path}: expected {e}, found {a}")),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(expected, actual, String::new(), &mut out);
    assert!(
        out.is_empty(),
        "the inventory differs from the world:\n{}",
        out.join("\n")
    );
}

fn counts_of(inventory: &Value) -> BTreeMap<String, u64> {
    inventory["requestCounts"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect()
}

fn assert_no_secrets(texts: &[&str]) {
    for text in texts {
        for secret in [SECRET_KEY, SESSION_TOKEN, ACCESS_KEY] {
            assert!(
                !text.contains(secret),
                "credential material in output: {secret}"
            );
        }
    }
}

fn as_of(world: &Value) -> String {
    let now = world["now"].as_i64().unwrap();
    OffsetDateTime::from_unix_timestamp(now)
        .unwrap()
        .format(&Rfc3339)
        .unwrap()
}

#[test]
fn organization_is_collected_completely_with_minimal_requests_and_round_trips() {
    let (moto, world) = org_world();
    let dir = scratch("live-org-complete");
    let inventory_path = dir.join("inventory.json");
    let inv_arg = inventory_path.to_str().unwrap();

    let mut args = vec!["collect", "-o", inv_arg, "--org", "--stats"];
    args.extend(region_args());
    moto.requests(true);
    let run = ecr_audit(&moto, &args, None);
    let (served, peak) = moto.requests(true);
    assert_eq!(run.status, 0, "{}", run.describe());
    eprintln!("collect of the test organization: {:.2}s", run.seconds);

    let inventory = read_json(&inventory_path);
    assert_eq!(inventory["errors"], json!([]), "{}", run.describe());
    let raw = std::fs::read_to_string(&inventory_path).unwrap();
    assert_no_secrets(&[&raw, &run.stdout, &run.stderr]);

    // The organization.
    let org = &inventory["organization"];
    assert_eq!(org["id"], world["organization"]["id"]);
    assert_eq!(
        org["managementAccountId"],
        world["organization"]["managementAccountId"]
    );
    let mut ids: Vec<&str> = org["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    ids.sort();
    let expected_ids: Vec<&str> = world["organization"]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(ids, expected_ids);
    let names: BTreeMap<&str, &str> = inventory["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["id"].as_str().unwrap(), a["name"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(names[world["ids"]["dev"].as_str().unwrap()], "dev");

    // Everything the world holds, and nothing else.
    let now = world["now"].as_i64().unwrap();
    let actual = normalize(&inventory, now);
    let expected = expected_accounts(&world);
    assert_same(&expected, &actual);

    // Details the normalized view leaves out.
    let mgmt = inventory["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "123456789012")
        .unwrap();
    let svc = mgmt["regions"][0]["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["repositoryName"] == "svc/api")
        .unwrap();
    assert_eq!(svc["scanFrequency"], "SCAN_ON_PUSH");
    assert_eq!(
        svc["repositoryArn"],
        "arn:aws:ecr:us-east-1:123456789012:repository/svc/api"
    );
    let ptc = &mgmt["regions"][0]["registry"]["pullThroughCacheRules"][0];
    assert_eq!(ptc["upstreamRegistryUrl"], "registry-1.docker.io");
    assert!(ptc["credentialArn"]
        .as_str()
        .unwrap()
        .contains("ecr-pullthroughcache"));
    let mirror = &mgmt["regions"][0]["registry"]["pullThroughCacheRules"][2];
    assert_eq!(mirror["ecrRepositoryPrefix"], "dev-mirror");
    assert_eq!(
        mirror["customRoleArn"],
        "arn:aws:iam::999988887777:role/ecr-ptc-pull"
    );
    assert_eq!(mirror["upstreamRepositoryPrefix"], "ROOT");

    // Request counts: exactly the minimum.
    let counts = counts_of(&inventory);
    assert_eq!(
        counts,
        expected_counts(&world, 2, true),
        "{}",
        run.describe()
    );
    // ... and honest: the server answered exactly those, never more than
    // --max-concurrency (default 16) at once.
    assert_eq!(served, counts);
    assert!((1..=16).contains(&peak), "peak in flight {peak}");
    assert!(
        run.stderr.contains("ecr:DescribeImages"),
        "--stats: {}",
        run.stderr
    );
    let total: u64 = counts.values().sum();
    eprintln!("requests: {total} (peak {peak} in flight) {counts:?}");

    // collect → scan round trip: a live scan and a scan of the saved
    // inventory report the same findings.
    let at = as_of(&world);
    let offline_path = dir.join("offline.json");
    let offline = ecr_audit(
        &moto,
        &[
            "scan",
            "--inventory",
            inv_arg,
            "--format",
            "json",
            "--as-of",
            &at,
            "--fail-on",
            "never",
            "-o",
            offline_path.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(offline.status, 0, "{}", offline.describe());
    let live_path = dir.join("live.json");
    let mut args = vec![
        "scan",
        "--org",
        "--format",
        "json",
        "--as-of",
        &at,
        "--fail-on",
        "never",
        "--quiet",
        "-o",
        live_path.to_str().unwrap(),
    ];
    args.extend(region_args());
    let live = ecr_audit(&moto, &args, None);
    assert_eq!(live.status, 0, "{}", live.describe());
    let offline = read_json(&offline_path);
    let live = read_json(&live_path);
    assert_eq!(live["errors"], json!([]));
    let findings = live["findings"].as_array().expect("findings");
    assert!(!findings.is_empty(), "the test world has findings");
    assert_eq!(live["findings"], offline["findings"]);
    // Spot checks: the stale untagged image and the repository without a
    // lifecycle policy are found.
    let has = |rule: &str, arn_part: &str| {
        findings.iter().any(|f| {
            f["rule_id"] == rule && f["resource_arn"].as_str().unwrap_or("").contains(arn_part)
        })
    };
    assert!(
        has("ECR401", "svc/api"),
        "stale untagged image in svc/api: {findings:#?}"
    );
    // The archived untagged image in svc/api (listed through DescribeImages'
    // imageStatus filter) is reported apart, not as stale.
    let stale = findings
        .iter()
        .find(|f| {
            f["rule_id"] == "ECR401" && f["resource_arn"].as_str().unwrap().ends_with("svc/api")
        })
        .unwrap();
    assert_eq!(stale["details"]["stale_untagged_count"], 1, "{stale:#}");
    assert_eq!(stale["details"]["archived_count"], 1, "{stale:#}");
    assert_eq!(stale["details"]["archived_bytes"], 7000, "{stale:#}");
    assert!(has("ECR303", "svc/api"), "no lifecycle policy on svc/api");
    // The one finding of `rule` on a resource whose ARN ends with `arn_end`,
    // in `region`, whose message says `says`.
    let only = |rule: &str, arn_end: &str, region: &str, says: &str| {
        let matching: Vec<&Value> = findings
            .iter()
            .filter(|f| {
                f["rule_id"] == rule && f["resource_arn"].as_str().unwrap().ends_with(arn_end)
            })
            .collect();
        assert_eq!(matching.len(), 1, "{rule}: {matching:#?}");
        assert_eq!(matching[0]["region"], region, "{rule}");
        assert!(
            matching[0]["message"].as_str().unwrap().contains(says),
            "{rule}: {matching:#?}"
        );
    };
    // Tag mutability exclusion filters, read through DescribeRepositories:
    // in r2 `latest` stays mutable; in r1 prod/api is wholly immutable.
    only(
        "ECR302",
        "prod/api",
        REGIONS[1],
        "tags matching `latest` can be overwritten (IMMUTABLE_WITH_EXCLUSION)",
    );
    // GetAccountSetting: prod's eu-west-1 registry is on the Clair engine.
    only("ECR306", "", REGIONS[1], "BASIC_SCAN_TYPE_VERSION CLAIR");
    // BatchGetRepositoryScanningConfiguration under enhanced scanning: dev's
    // us-east-1 registry scans dev/service on push only, and it is pulled.
    only(
        "ECR307",
        "dev/service",
        REGIONS[0],
        "scanned by enhanced scanning only on push, yet 1 of its images were pulled",
    );
    // REGISTRY_POLICY_SCOPE: the management account's us-east-1 registry is
    // on V2 (moto's default, as AWS's), where its registry policy's pull
    // grant reaches every repository; prod's eu-west-1 registry is on V1,
    // where the same grant has no effect and only replication counts.
    only(
        "ECR103",
        ":registry",
        REGIONS[0],
        "(registry policy scope V2) lets 999988887777 read its repositories",
    );
    only(
        "ECR111",
        &format!(
            "{}:{}:registry",
            REGIONS[1],
            world["ids"]["prod"].as_str().unwrap()
        ),
        REGIONS[1],
        "grants ecr:ReplicateImage to 999988887777",
    );
    // DescribePullThroughCacheRules: the management account's us-east-1
    // registry pulls through from the partner's private registry.
    only(
        "ECR113",
        "",
        REGIONS[0],
        "prefix `partner`: upstream ECR registry 999988887777 (us-east-1)",
    );
    only(
        "ECR113",
        "",
        REGIONS[0],
        "prefix `dev-mirror`: ECR pulls from the upstream as role arn:aws:iam::999988887777:role/ecr-ptc-pull",
    );

    // DescribeRepositoryCreationTemplates: the docker-hub template is
    // audited as the repositories it will create; ROOT's is clean.
    only(
        "ECR101",
        ":repository-creation-template/docker-hub",
        REGIONS[0],
        "every repository ECR creates under `docker-hub/` (for PULL_THROUGH_CACHE) can be read by any AWS principal",
    );
    only(
        "ECR114",
        ":repository-creation-template/docker-hub",
        REGIONS[0],
        "as arn:aws:iam::123456789012:role/ecr-template-creator: it can be assumed by 999988887777",
    );
    for rule in ["ECR302", "ECR303", "ECR305"] {
        only(
            rule,
            ":repository-creation-template/docker-hub",
            REGIONS[0],
            "under `docker-hub/`",
        );
    }
    assert!(
        !findings.iter().any(|f| f["resource_arn"]
            .as_str()
            .unwrap()
            .ends_with("creation-template/ROOT")),
        "the ROOT template is clean: {findings:#?}"
    );
    // GetSigningConfiguration: base/* must be signed; base/shared's
    // released image is, its multi-platform index is not.
    only(
        "ECR404",
        "base/shared",
        REGIONS[0],
        "but 1 of its images carry no signature",
    );

    // Live shards: each reads only its accounts, and their reports merge
    // into the whole live scan.
    let mut parts = Vec::new();
    let mut held = 0;
    for k in 1..=2 {
        let part = dir.join(format!("shard-{k}.json"));
        let inv = dir.join(format!("shard-{k}-inventory.json"));
        let shard = format!("{k}/2");
        let mut args = vec![
            "collect",
            "-o",
            inv.to_str().unwrap(),
            "--org",
            "--shard",
            &shard,
        ];
        args.extend(region_args());
        let collected = ecr_audit(&moto, &args, None);
        assert_eq!(collected.status, 0, "{}", collected.describe());
        let inv = read_json(&inv);
        let accounts = inv["accounts"].as_array().unwrap().len();
        let others = inv["zoneAccounts"].as_array().map_or(0, Vec::len);
        assert_eq!(accounts + others, expected_ids.len(), "shard {shard}");
        assert_eq!(inv["shard"], shard.as_str());
        held += accounts;
        let mut args = vec![
            "scan",
            "--org",
            "--shard",
            &shard,
            "--format",
            "json",
            "--as-of",
            &at,
            "--fail-on",
            "never",
            "--quiet",
            "-o",
            part.to_str().unwrap(),
        ];
        args.extend(region_args());
        let scanned = ecr_audit(&moto, &args, None);
        assert_eq!(scanned.status, 0, "{}", scanned.describe());
        parts.push(part.display().to_string());
    }
    assert_eq!(held, expected_ids.len(), "every account in one shard");
    let merged = ecr_audit(
        &moto,
        &[
            "report",
            &parts[0],
            &parts[1],
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
        None,
    );
    assert_eq!(merged.status, 0, "{}", merged.describe());
    let merged: Value = serde_json::from_str(&merged.stdout).unwrap();
    assert_eq!(merged["findings"], live["findings"]);
}

#[test]
fn an_account_that_cannot_be_read_is_an_error_and_the_others_complete() {
    let (moto, world) = org_world();
    let prod = world["ids"]["prod"].as_str().unwrap().to_string();
    moto.fault(json!({
        "operation": "sts:AssumeRole", "match": prod, "status": 403, "body": "xml",
        "code": "AccessDenied",
        "message": format!("User: arn:aws:iam::123456789012:user/scanner is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::{prod}:role/ecr-audit"),
    }));
    let dir = scratch("live-org-unreadable");
    let inventory_path = dir.join("inventory.json");
    let mut args = vec![
        "collect",
        "-o",
        inventory_path.to_str().unwrap(),
        "--org",
        "--external-id",
        "ext-4711",
    ];
    args.extend(region_args());
    moto.requests(true);
    let run = ecr_audit(&moto, &args, None);
    assert_eq!(run.status, 3, "{}", run.describe());
    // Both member accounts were tried, with the external id and a session
    // name that names the tool.
    let calls = moto.command(json!({"cmd": "requests", "reset": true}))["assumeRole"].clone();
    let mut roles: Vec<&str> = calls
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["RoleArn"].as_str().unwrap())
        .collect();
    roles.sort();
    let mut expected_roles = vec![
        format!(
            "arn:aws:iam::{}:role/ecr-audit",
            world["ids"]["dev"].as_str().unwrap()
        ),
        format!("arn:aws:iam::{prod}:role/ecr-audit"),
    ];
    expected_roles.sort();
    assert_eq!(roles, expected_roles);
    for call in calls.as_array().unwrap() {
        assert_eq!(call["ExternalId"], "ext-4711", "{call}");
        assert!(
            call["RoleSessionName"]
                .as_str()
                .unwrap()
                .starts_with("ecr-audit-"),
            "{call}"
        );
    }
    let inventory = read_json(&inventory_path);

    let errors = inventory["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let e = &errors[0];
    assert_eq!(e["account"], prod.as_str());
    assert_eq!(e["operation"], "sts:AssumeRole");
    assert_eq!(e["kind"], "assume-role-failed");
    assert_eq!(e["resource"], format!("arn:aws:iam::{prod}:role/ecr-audit"));
    assert!(
        e["message"].as_str().unwrap().contains("AccessDenied"),
        "{e}"
    );

    // The two other accounts are complete.
    let now = world["now"].as_i64().unwrap();
    let actual = normalize(&inventory, now);
    let mut expected = expected_accounts(&world);
    expected.as_object_mut().unwrap().remove(&prod);
    assert_same(&expected, &actual);

    // The scan says so: exit 3, the error in the report.
    let report_path = dir.join("report.json");
    let mut args = vec![
        "scan",
        "--org",
        "--format",
        "json",
        "--fail-on",
        "never",
        "--quiet",
        "-o",
        report_path.to_str().unwrap(),
    ];
    args.extend(region_args());
    let scan = ecr_audit(&moto, &args, None);
    assert_eq!(scan.status, 3, "{}", scan.describe());
    let report = read_json(&report_path);
    let text = report["errors"].to_string();
    assert!(
        text.contains(&prod) && text.contains("sts:AssumeRole"),
        "{text}"
    );
    assert_no_secrets(&[&report.to_string(), &scan.stderr, &run.stderr]);
}

/// The findings of a live scan of the organization, as JSON, and its exit.
fn scan_findings(moto: &Moto, at: &str, name: &str) -> (i32, Value) {
    let dir = scratch(name);
    let path = dir.join("report.json");
    let mut args = vec![
        "scan",
        "--org",
        "--format",
        "json",
        "--as-of",
        at,
        "--fail-on",
        "never",
        "--quiet",
        "-o",
        path.to_str().unwrap(),
    ];
    args.extend(region_args());
    let run = ecr_audit(moto, &args, None);
    assert!(run.status == 0 || run.status == 3, "{}", run.describe());
    (run.status, read_json(&path))
}

fn rule_findings(report: &Value, keep: impl Fn(&Value) -> bool) -> Vec<Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| keep(f))
        .cloned()
        .collect()
}

/// One registry read denied in every account and region (an SCP, a narrow
/// audit role): only the facts that read would have produced are unknown.
/// Every other registry and repository finding stays, the rules that read
/// the unknown facts say they could not be evaluated (ECR002), and the scan
/// exits 3 naming the denied call.
#[test]
fn a_denied_registry_read_loses_only_what_it_would_have_said() {
    let (moto, world) = org_world();
    let at = as_of(&world);
    let (status, full) = scan_findings(&moto, &at, "live-fact-full");
    assert_eq!(status, 0);
    let all = |_: &Value| true;
    let baseline = rule_findings(&full, all);
    assert!(
        baseline.iter().any(|f| f["resource_kind"] == "registry"),
        "the test organization has registry findings: {baseline:#?}"
    );

    // Pull-through cache rules: only ECR113 reads them. Every other finding
    // stays; ECR113 is not evaluated on any registry (ECR002).
    let without_ecr113 = rule_findings(&full, |f| f["rule_id"] != "ECR113");
    assert!(
        without_ecr113.len() < baseline.len(),
        "the world has an ECR113"
    );
    for (status, body, code) in [(403, "xml", "AccessDenied"), (500, "html", "")] {
        moto.command(json!({"cmd": "clear_faults"}));
        moto.fault(
            json!({"operation": "ecr:DescribePullThroughCacheRules", "status": status,
                          "body": body, "code": code}),
        );
        let (exit, report) = scan_findings(&moto, &at, "live-fact-pull-through");
        assert_eq!(exit, 3, "a failed read makes the scan incomplete");
        assert_eq!(
            rule_findings(&report, |f| f["rule_id"] != "ECR002"),
            without_ecr113,
            "HTTP {status}"
        );
        let not_evaluated = rule_findings(&report, |f| f["rule_id"] == "ECR002");
        assert_eq!(
            not_evaluated.len(),
            6,
            "one per registry: {not_evaluated:#?}"
        );
        assert!(not_evaluated
            .iter()
            .all(|f| f["details"]["rule"] == "ECR113" && f["resource_kind"] == "registry"));
        let errors = report["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 6, "one per account and region: {errors:#?}");
        assert!(errors
            .iter()
            .all(|e| e["operation"] == "ecr:DescribePullThroughCacheRules"));
    }

    // The registry policy: the rules reading it are not evaluated on the
    // registries, everything else is as before.
    moto.command(json!({"cmd": "clear_faults"}));
    moto.fault(
        json!({"operation": "ecr:GetRegistryPolicy", "status": 403, "body": "xml",
                      "code": "AccessDenied"}),
    );
    let (exit, report) = scan_findings(&moto, &at, "live-fact-registry-policy");
    assert_eq!(exit, 3);
    let reads_policy = |f: &Value| {
        let id = f["rule_id"].as_str().unwrap();
        f["resource_kind"] == "registry"
            && (id.starts_with("ECR10") || id == "ECR111" || id == "ECR001")
    };
    let kept: Vec<Value> = baseline
        .iter()
        .filter(|f| !reads_policy(f))
        .cloned()
        .collect();
    assert!(
        kept.iter()
            .any(|f| f["rule_id"] == "ECR112" || f["resource_kind"] == "repository"),
        "{kept:#?}"
    );
    assert_eq!(
        rule_findings(&report, |f| f["rule_id"] != "ECR002"),
        kept,
        "only the registry-policy findings are gone"
    );
    let not_evaluated = rule_findings(&report, |f| f["rule_id"] == "ECR002");
    assert!(!not_evaluated.is_empty());
    for f in &not_evaluated {
        assert_eq!(f["resource_kind"], "registry", "{f}");
        let message = f["message"].as_str().unwrap();
        assert!(
            message.contains("ecr:GetRegistryPolicy failed (access-denied)"),
            "{message}"
        );
    }
    // One per rule that reads the policy, per registry.
    let rules: std::collections::BTreeSet<&str> = not_evaluated
        .iter()
        .map(|f| f["details"]["rule"].as_str().unwrap())
        .collect();
    for id in ["ECR001", "ECR101", "ECR103", "ECR111"] {
        assert!(
            rules.contains(id),
            "{id} not reported as not evaluated: {rules:?}"
        );
    }
    assert!(!rules.contains("ECR112"), "replication was read: {rules:?}");
}
