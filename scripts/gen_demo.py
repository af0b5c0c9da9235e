#!/usr/bin/env python3
"""Generate fixtures/demo-org.json, the inventory behind `ecr-audit scan --demo`.

Python 3 standard library only, and deterministic: every random choice comes
from a generator seeded with a fixed string, every date is computed from the
fixed COLLECTED_AT below (never from the wall clock), so running it twice
gives byte-identical output.

    python3 scripts/gen_demo.py            # write fixtures/demo-org.json and .md
    python3 scripts/gen_demo.py --check    # regenerate in memory, compare with
                                           # the committed files, validate every
                                           # fixtures/inventories/*.json

The script also carries a small reference implementation of the image and
configuration rules (ECR301-ECR305, ECR401-ECR403) so that the expectations
written to fixtures/demo-org.md and fixtures/inventories/README.md are computed,
not hoped for. It is a test oracle, not the product: the product's rules are the
Cedar files in rules/.
"""

import datetime as dt
import fnmatch
import hashlib
import json
import os
import random
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_JSON = os.path.join(ROOT, "fixtures", "demo-org.json")
OUT_MD = os.path.join(ROOT, "fixtures", "demo-org.md")
FIXTURE_DIR = os.path.join(ROOT, "fixtures", "inventories")

FORMAT = "ecr-audit/inventory/v1"
SEED = "ecr-audit-demo-v1"
COLLECTED_AT = dt.datetime(2026, 11, 20, 6, 0, 0, tzinfo=dt.timezone.utc)
STALE_UNTAGGED_DAYS = 14
UNPULLED_DAYS = 90

# --------------------------------------------------------------------------
# The organization
# --------------------------------------------------------------------------

ORG_ID = "o-7k2m9xq4pd"
SHARED = "401846239157"      # management account, CI, base images, caches
PROD = "612930478825"
DEV = "738205516649"
ANALYTICS = "845120963370"   # member of the org, not scanned
SECURITY = "290517834461"    # member of the org, not scanned; hosts the vetted upstream mirrors
VENDOR = "999988887777"      # outside: image-scanning vendor
AGENCY = "480726193355"      # outside: a contractor agency's CI account
LUMEN = "204617385590"       # outside: acquired company's account, not yet in the org

ACCOUNT_NAMES = {
    SHARED: "brightline-shared-services",
    PROD: "brightline-prod",
    DEV: "brightline-dev",
    ANALYTICS: "brightline-analytics",
    SECURITY: "brightline-security",
}
SCANNED = [SHARED, PROD, DEV]
REGIONS = ["us-east-1", "eu-west-1"]
GH = "token.actions.githubusercontent.com"


def iso(t):
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def days_ago(d, hour=0.0):
    return COLLECTED_AT - dt.timedelta(days=d) + dt.timedelta(hours=hour)


def digest(seed):
    return "sha256:" + hashlib.sha256((SEED + "|" + seed).encode()).hexdigest()


def short_sha(seed, n=7):
    return hashlib.sha1((SEED + "|sha|" + seed).encode()).hexdigest()[:n]


def iam_id(prefix, seed):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    h = hashlib.sha256((SEED + "|iam|" + seed).encode()).digest()
    return prefix + "".join(alphabet[b % 32] for b in h[:17])


def key_uuid(seed):
    h = hashlib.sha256((SEED + "|kms|" + seed).encode()).hexdigest()
    return f"{h[0:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def cmk(account, region, seed):
    return f"arn:aws:kms:{region}:{account}:key/{key_uuid(account + region + seed)}"


def jackson(v, level=0):
    """Pretty-print JSON the way ECR's GetRepositoryPolicy returns it
    (Jackson's default pretty printer: `"key" : value`, `[ a, b ]`)."""
    pad = "  "
    if isinstance(v, dict):
        if not v:
            return "{ }"
        items = [pad * (level + 1) + json.dumps(k) + " : " + jackson(x, level + 1) for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad * level + "}"
    if isinstance(v, list):
        if not v:
            return "[ ]"
        return "[ " + ", ".join(jackson(x, level) for x in v) + " ]"
    return json.dumps(v)


def aws_managed_text(doc):
    return json.dumps(doc, indent=2, separators=(",", " : "))


def console_text(doc):
    return json.dumps(doc, indent=4)


def compact_text(doc):
    return json.dumps(doc, separators=(",", ":"))


# --------------------------------------------------------------------------
# Policy documents
# --------------------------------------------------------------------------

PULL = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
PUSH = ["ecr:BatchCheckLayerAvailability", "ecr:CompleteLayerUpload", "ecr:InitiateLayerUpload",
        "ecr:PutImage", "ecr:UploadLayerPart"]
V = "2012-10-17"


def repo_arn(account, region, name):
    return f"arn:aws:ecr:{region}:{account}:repository/{name}"


def root(account):
    return f"arn:aws:iam::{account}:root"


# Repository policies, keyed by a short name used in the repository table.
def repo_policies():
    return {
        "org-pull": {"Version": V, "Statement": [{
            "Sid": "AllowPullFromOrganization", "Effect": "Allow", "Principal": "*",
            "Action": PULL,
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}}]},
        "public-pull-deny-outside-org": {"Version": V, "Statement": [
            {"Sid": "AllowPull", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": PULL},
            {"Sid": "DenyOutsideOrganization", "Effect": "Deny", "Principal": "*", "Action": "ecr:*",
             "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": ORG_ID}}}]},
        "share-in-org-accounts": {"Version": V, "Statement": [{
            "Sid": "CrossAccountPullInsideOrg", "Effect": "Allow",
            "Principal": {"AWS": [root(PROD), root(DEV), root(ANALYTICS)]},
            "Action": PULL}]},
        "codebuild-scoped": {"Version": V, "Statement": [{
            "Sid": "CodeBuildPull", "Effect": "Allow",
            "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": PULL,
            "Condition": {"StringEquals": {"aws:SourceAccount": SHARED},
                          "ArnLike": {"aws:SourceArn": f"arn:aws:codebuild:us-east-1:{SHARED}:project/*"}}}]},
        "auth-token-in-repo-policy": {"Version": V, "Statement": [{
            "Sid": "RunnersPull", "Effect": "Allow",
            "Principal": {"AWS": [root(PROD), root(DEV)]},
            "Action": ["ecr:GetAuthorizationToken"] + PULL}]},
        "app-pull-in-org": {"Version": V, "Statement": [{
            "Sid": "ProdAndDevPull", "Effect": "Allow",
            "Principal": {"AWS": [f"arn:aws:iam::{PROD}:role/eks-node-prod-general", root(DEV)]},
            "Action": PULL}]},
        "deny-push-except-ci": {"Version": V, "Statement": [{
            "Sid": "OnlyCiPushes", "Effect": "Deny", "Principal": "*",
            "Action": ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"],
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": [
                f"arn:aws:iam::{SHARED}:role/codebuild-image-builder",
                f"arn:aws:iam::{SHARED}:role/github-actions-deploy"]}}}]},
        "lambda-unscoped": {"Version": V, "Statement": [{
            "Sid": "LambdaECRImageRetrievalPolicy", "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]},
        "vendor-pull": {"Version": V, "Statement": [{
            "Sid": "ModelHostingPartnerPull", "Effect": "Allow",
            "Principal": {"AWS": root(VENDOR)}, "Action": PULL}]},
        "org-wildcard-trap": {"Version": V, "Statement": [{
            "Sid": "AllowOrgPull", "Effect": "Allow", "Principal": "*", "Action": PULL,
            "Condition": {"StringLike": {"aws:PrincipalOrgID": "o-*"}}}]},
        "public-pull": {"Version": V, "Statement": [{
            "Sid": "PublicPull", "Effect": "Allow", "Principal": "*", "Action": PULL}]},
        "vpce-pull": {"Version": V, "Statement": [{
            "Sid": "PullThroughVpcEndpointOnly", "Effect": "Allow", "Principal": "*", "Action": PULL,
            "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0a7c31d9e5b2f4806"}}}]},
        "public-push": {"Version": V, "Statement": [{
            "Sid": "HackweekAnyoneCanPushAndPull", "Effect": "Allow", "Principal": "*",
            "Action": sorted(set(PULL + PUSH))}]},
        "unknown-operator": {"Version": V, "Statement": [{
            "Sid": "OrgPull", "Effect": "Allow", "Principal": "*", "Action": PULL,
            "Condition": {"StringEqualsAnyCase": {"aws:PrincipalOrgID": ORG_ID}}}]},
        "ecr-star-to-shared-ci": {"Version": V, "Statement": [{
            "Sid": "SharedCiManagesRepository", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{SHARED}:role/codebuild-image-builder"},
            "Action": "ecr:*"}]},
        "agency-push": {"Version": V, "Statement": [{
            "Sid": "AgencyCiPush", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{AGENCY}:role/agency-ci-runner"},
            "Action": PUSH + ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]},
        "not-principal": {"Version": V, "Statement": [{
            "Sid": "EveryoneButTheDeployerMayPull", "Effect": "Allow",
            "NotPrincipal": {"AWS": f"arn:aws:iam::{DEV}:role/legacy-deployer"},
            "Action": PULL}]},
    }


def registry_policy_replication_from(source, dest, region):
    return {"Version": V, "Statement": [{
        "Sid": "ReplicationAccessCrossAccount", "Effect": "Allow",
        "Principal": {"AWS": root(source)},
        "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
        "Resource": f"arn:aws:ecr:{region}:{dest}:repository/*"}]}


# --------------------------------------------------------------------------
# Lifecycle policies
# --------------------------------------------------------------------------

def lc_rule(prio, desc, tag_status, count_type, n, prefixes=None, patterns=None, action=None, storage=None):
    sel = {"tagStatus": tag_status}
    if storage:
        sel["storageClass"] = storage
    if prefixes:
        sel["tagPrefixList"] = prefixes
    if patterns:
        sel["tagPatternList"] = patterns
    sel["countType"] = count_type
    if count_type in ("sinceImagePushed", "sinceImageTransitioned"):
        sel["countUnit"] = "days"
    sel["countNumber"] = n
    return {"rulePriority": prio, "description": desc, "selection": sel, "action": action or {"type": "expire"}}


ARCHIVE = {"type": "transition", "targetStorageClass": "archive"}


LIFECYCLES = {
    "untagged-1d-keep-60": [lc_rule(1, "Expire untagged images after 1 day", "untagged", "sinceImagePushed", 1),
                            lc_rule(10, "Keep the last 60 dated builds", "tagged", "imageCountMoreThan", 60, patterns=["3.*"])],
    "untagged-14d-keep-10": [lc_rule(1, "Expire untagged images after 14 days", "untagged", "sinceImagePushed", 14),
                             lc_rule(2, "Keep the last 10 builds", "tagged", "imageCountMoreThan", 10, patterns=["2*-*"])],
    "untagged-7d-keep-30": [lc_rule(1, "Expire untagged images after 7 days", "untagged", "sinceImagePushed", 7),
                            lc_rule(20, "Keep 30 builds per major", "tagged", "imageCountMoreThan", 30, patterns=["*-20*"])],
    "tagged-only": [lc_rule(1, "Keep the last 20 releases", "tagged", "imageCountMoreThan", 20, prefixes=["v"])],
    "untagged-7d": [lc_rule(1, "Expire untagged images after 7 days", "untagged", "sinceImagePushed", 7)],
    "untagged-3d-keep-50": [lc_rule(1, "Expire untagged images after 3 days", "untagged", "sinceImagePushed", 3),
                            lc_rule(2, "Keep the last 50 images", "any", "imageCountMoreThan", 50)],
    "untagged-7d-keep-15": [lc_rule(1, "Expire untagged after a week", "untagged", "sinceImagePushed", 7),
                            lc_rule(2, "Keep 15 releases", "tagged", "imageCountMoreThan", 15, patterns=["release-*"])],
    "untagged-14d-keep-30": [lc_rule(1, "Expire untagged after 14 days", "untagged", "sinceImagePushed", 14),
                             lc_rule(5, "Keep 30 model-server builds", "tagged", "imageCountMoreThan", 30, prefixes=["v"])],
    "untagged-count-5": [lc_rule(1, "Keep 5 untagged images", "untagged", "imageCountMoreThan", 5)],
    "untagged-count-20": [lc_rule(1, "Keep at most 20 untagged images", "untagged", "imageCountMoreThan", 20),
                          lc_rule(2, "PR images live 30 days", "tagged", "sinceImagePushed", 30, prefixes=["pr-"])],
    "any-count-first": [lc_rule(1, "Keep the last 200 images", "any", "imageCountMoreThan", 200),
                        lc_rule(2, "Expire untagged after 3 days", "untagged", "sinceImagePushed", 3)],
    "any-14d": [lc_rule(1, "Hackweek images live 14 days", "any", "sinceImagePushed", 14)],
    # Untagged images go to the archive storage class after a week and are
    # deleted a year after that (Amazon ECR User Guide, "Archiving an image").
    "archive-untagged-7d": [lc_rule(1, "Archive untagged images after 7 days", "untagged", "sinceImagePushed", 7,
                                    action=ARCHIVE),
                            lc_rule(2, "Delete archived images after a year", "any", "sinceImageTransitioned", 365,
                                    storage="archive")],
    "untagged-30d": [lc_rule(1, "Expire untagged images after 30 days", "untagged", "sinceImagePushed", 30),
                     lc_rule(2, "Keep 90 nightlies", "tagged", "imageCountMoreThan", 90, patterns=["20*"])],
}

# --------------------------------------------------------------------------
# Repositories
# --------------------------------------------------------------------------
# Each profile says how the repository is configured and how its images came
# to be. Keys:
#   mut, excl (tag mutability exclusion filters), sop (scan on push),
#   enc ('AES256' | 'KMS' | 'KMS-aws' | 'CMK'),
#   lc (LIFECYCLES key), pol (repo_policies key), created (days ago),
#   builds, first/last (days ago of first/last build), tags (tag style),
#   arch ('single'|'multi'), signed, sbom, pulls (pull model), latest
#   ('clean'|'high'|'critical'), risk (vulnerability level), mb (size),
#   replica_of (source key), team.

def P(**kw):
    base = dict(mut="IMMUTABLE", excl=(), sop=False, enc="CMK", lc=None, pol=None, created=420, builds=20,
                first=400, last=1, tags="semver", arch="single", signed=False, sbom=False,
                pulls="deploy", latest="clean", risk=1.0, mb=150, replica_of=None, team="platform",
                media="oci")
    base.update(kw)
    return base


REPOS = [
    # ---- shared services, us-east-1 (CI, base images, pull-through caches) ----
    (SHARED, "us-east-1", "platform/base-images/python",
     P(mut="IMMUTABLE_WITH_EXCLUSION", excl=("latest",), pol="org-pull", lc="untagged-1d-keep-60", builds=20, first=398, last=2, tags="python",
       arch="multi", signed=True, sbom=True, pulls="base", mb=160)),
    (SHARED, "us-east-1", "platform/base-images/node",
     P(mut="MUTABLE", enc="KMS", pol="public-pull-deny-outside-org", lc="untagged-14d-keep-10", builds=18,
       first=210, last=3, tags="node", arch="multi", pulls="base", mb=120)),
    (SHARED, "us-east-1", "platform/base-images/distroless-java",
     P(pol="share-in-org-accounts", lc="untagged-7d-keep-30", builds=22, first=390, last=6, tags="distroless",
       signed=True, pulls="base", mb=95, risk=0.3)),
    (SHARED, "us-east-1", "ci/builder",
     P(mut="MUTABLE", enc="AES256", pol="codebuild-scoped", builds=26, first=380, last=4, tags="main-sha",
       pulls="base", latest="high", risk=2.0, mb=1350, team="ci")),
    (SHARED, "us-east-1", "ci/runner-tools",
     P(enc="AES256", pol="auth-token-in-repo-policy", lc="tagged-only", builds=24, first=360, last=12,
       tags="semver-v", pulls="base", mb=310, team="ci")),
    (SHARED, "us-east-1", "dockerhub/library/nginx",
     P(mut="MUTABLE", enc="AES256", builds=30, first=395, last=5, tags="nginx", pulls="cache", mb=72,
       media="docker", team="platform")),
    (SHARED, "us-east-1", "dockerhub/library/redis",
     P(mut="MUTABLE", enc="AES256", builds=22, first=330, last=9, tags="redis", pulls="cache", mb=48,
       media="docker", latest="high", risk=1.5)),
    (SHARED, "us-east-1", "ghcr/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-contrib",
     P(mut="MUTABLE", enc="AES256", lc="untagged-7d", builds=20, first=300, last=2, tags="otel", pulls="cache",
       mb=105, team="observability")),
    (SHARED, "us-east-1", "payments/api",
     P(enc="CMK", pol="app-pull-in-org", lc="untagged-3d-keep-50", builds=28, first=400, last=1,
       tags="payments", signed=True, pulls="ci", mb=210, team="payments")),
    (SHARED, "us-east-1", "web/storefront",
     P(mut="MUTABLE", enc="CMK", pol="deny-push-except-ci", lc="untagged-3d-keep-50", builds=24, first=380,
       last=1, tags="storefront", arch="multi", pulls="ci", mb=180, team="web")),
    # ---- shared services, eu-west-1 (replicas created by replication, pull-through quay) ----
    (SHARED, "eu-west-1", "platform/base-images/python",
     P(mut="MUTABLE", enc="AES256", replica_of=(SHARED, "us-east-1", "platform/base-images/python"),
       first=300, created=300, pulls="none")),
    (SHARED, "eu-west-1", "platform/base-images/node",
     P(mut="MUTABLE", enc="AES256", replica_of=(SHARED, "us-east-1", "platform/base-images/node"),
       first=210, created=210, pulls="none")),
    (SHARED, "eu-west-1", "platform/base-images/distroless-java",
     P(mut="MUTABLE", enc="AES256", replica_of=(SHARED, "us-east-1", "platform/base-images/distroless-java"),
       first=300, created=300, pulls="none")),
    (SHARED, "eu-west-1", "quay/prometheus/node-exporter",
     P(mut="MUTABLE", enc="AES256", lc="archive-untagged-7d", builds=14, first=260, last=3, tags="node-exporter",
       pulls="cache", mb=24, team="observability")),
    # ---- prod, us-east-1 ----
    (PROD, "us-east-1", "payments/api",
     P(lc="untagged-3d-keep-50", replica_of=(SHARED, "us-east-1", "payments/api"), first=250, created=250,
       pulls="deploy", team="payments")),
    (PROD, "us-east-1", "web/storefront",
     P(lc="untagged-3d-keep-50", replica_of=(SHARED, "us-east-1", "web/storefront"), first=250, created=250,
       pulls="deploy", team="web")),
    (PROD, "us-east-1", "payments/ledger-worker",
     P(sop=True, lc="untagged-3d-keep-50", builds=34, first=390, last=8, tags="semver-v3", latest="critical",
       risk=1.5, mb=260, team="payments")),
    (PROD, "us-east-1", "payments/fraud-scorer",
     P(enc="KMS-aws", pol="lambda-unscoped", lc="untagged-7d", builds=28, first=200, last=2, tags="sha",
       mb=640, team="payments", media="docker")),
    (PROD, "us-east-1", "web/checkout-bff",
     P(lc="untagged-7d-keep-15", builds=40, first=150, last=1, tags="release", risk=1.2, mb=140, team="web",
       force={33: "critical"})),
    (PROD, "us-east-1", "ml/feature-store",
     P(mut="MUTABLE", builds=24, first=340, last=20, tags="semver-latest", mb=920, team="ml")),
    (PROD, "us-east-1", "ml/model-serving",
     P(sop=True, pol="vendor-pull", lc="untagged-14d-keep-30", builds=30, first=380, last=6, tags="model",
       latest="high", risk=1.8, mb=1480, team="ml")),
    (PROD, "us-east-1", "identity/auth-service",
     P(sop=True, pol="org-wildcard-trap", lc="untagged-7d", builds=26, first=360, last=5, tags="semver-v5",
       mb=88, team="identity")),
    (PROD, "us-east-1", "public/sdk-examples",
     P(mut="MUTABLE", sop=True, enc="AES256", pol="public-pull", builds=12, first=330, last=40,
       tags="semver-latest", pulls="public", mb=36, team="devrel")),
    # ---- prod, eu-west-1 ----
    (PROD, "eu-west-1", "payments/api",
     P(sop=True, lc="untagged-3d-keep-50", replica_of=(SHARED, "us-east-1", "payments/api"), first=250,
       created=250, pulls="deploy", team="payments")),
    (PROD, "eu-west-1", "web/storefront",
     P(sop=True, lc="untagged-3d-keep-50", replica_of=(SHARED, "us-east-1", "web/storefront"), first=250,
       created=250, pulls="deploy", team="web")),
    (PROD, "eu-west-1", "data/etl-spark",
     P(mut="MUTABLE", pol="vpce-pull", lc="untagged-count-5", builds=28, first=300, last=1, tags="nightly",
       pulls="deploy", mb=1100, team="data")),
    # ---- dev, us-east-1 ----
    (DEV, "us-east-1", "sandbox/hackweek-2026",
     P(mut="MUTABLE", enc="AES256", pol="public-push", lc="any-14d", created=12, builds=16, first=11, last=1,
       tags="hackweek", pulls="ci", mb=300, team="sandbox")),
    (DEV, "us-east-1", "ml/notebooks",
     P(mut="MUTABLE", enc="AES256", pol="unknown-operator", builds=18, first=280, last=3, tags="latest-only",
       pulls="ci", mb=1250, team="ml")),
    (DEV, "us-east-1", "payments/api",
     P(mut="MUTABLE", sop=True, enc="AES256", lc="untagged-count-20", builds=40, first=120, last=1,
       tags="pr", pulls="ci", mb=205, team="payments")),
    (DEV, "us-east-1", "web/storefront",
     P(mut="MUTABLE", enc="AES256", pol="ecr-star-to-shared-ci", lc="any-count-first", builds=36, first=160,
       last=1, tags="feature", pulls="ci", mb=178, team="web")),
    (DEV, "us-east-1", "team-growth/experiments",
     P(mut="MUTABLE", sop=True, enc="AES256", pol="agency-push", builds=14, first=330, last=150,
       tags="experiments", pulls="ci", mb=260, team="growth")),
    # ---- dev, eu-west-1 ----
    (DEV, "eu-west-1", "data/etl-spark",
     P(mut="MUTABLE", enc="KMS", lc="untagged-30d", builds=44, first=130, last=1, tags="nightly-dev",
       pulls="ci", mb=1050, team="data")),
    (DEV, "eu-west-1", "legacy/monolith",
     P(mut="MUTABLE", sop=True, enc="AES256", pol="not-principal", builds=36, first=400, last=205,
       tags="monolith", pulls="stopped", latest="critical", risk=2.5, mb=1420, media="docker", team="legacy")),
]

REGISTRIES = {
    (SHARED, "us-east-1"): dict(
        scanning={"scanType": "ENHANCED", "rules": [
            {"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}]}]},
        replication={"rules": [
            {"destinations": [{"region": "eu-west-1", "registryId": SHARED}],
             "repositoryFilters": [{"filter": "platform/", "filterType": "PREFIX_MATCH"}]},
            {"destinations": [{"region": "us-east-1", "registryId": PROD}, {"region": "eu-west-1", "registryId": PROD}],
             "repositoryFilters": [{"filter": "payments/api", "filterType": "PREFIX_MATCH"},
                                   {"filter": "web/storefront", "filterType": "PREFIX_MATCH"}]}]},
        # Pull-through caches from the security account's vetted mirror
        # registry (ECR-to-ECR pull through cache).
        ptc=[{"ecrRepositoryPrefix": p, "upstreamRegistryUrl": f"{SECURITY}.dkr.ecr.us-east-1.amazonaws.com",
              "upstreamRegistry": "ecr"} for p in ("dockerhub", "ghcr")],
        # What the repositories ECR creates get (DescribeRepositoryCreationTemplates).
        templates=[
            # The dockerhub cache's repositories: a policy meant for the
            # organization that forgot its condition (ECR101 before any such
            # repository exists), mutable tags so cached `latest` can move
            # (ECR302), no lifecycle policy (ECR303), AES256 (ECR305).
            {"prefix": "dockerhub", "description": "Docker Hub pull-through cache",
             "appliedFor": ["PULL_THROUGH_CACHE"], "imageTagMutability": "MUTABLE",
             "encryptionConfiguration": {"encryptionType": "AES256"},
             "repositoryPolicy": jackson({"Version": V, "Statement": [{
                 "Sid": "OrgPull", "Effect": "Allow", "Principal": "*",
                 "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]}]})},
            # The ghcr cache's: the organization only, expiring untagged
            # images, a customer-managed key; but its custom role also
            # trusts the contractor agency's account (ECR114).
            {"prefix": "ghcr", "description": "GHCR pull-through cache",
             "appliedFor": ["PULL_THROUGH_CACHE"], "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
             "imageTagMutabilityExclusionFilters": [{"filterType": "WILDCARD", "filter": "latest"}],
             "encryptionConfiguration": {"encryptionType": "KMS", "kmsKey": cmk(SHARED, "us-east-1", "ghcr-cache")},
             "resourceTags": [{"Key": "team", "Value": "platform"}],
             "repositoryPolicy": jackson({"Version": V, "Statement": [{
                 "Sid": "OrgPull", "Effect": "Allow", "Principal": "*",
                 "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                 "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}}]}),
             "lifecyclePolicy": jackson({"rules": [lc_rule(1, "Expire untagged images after 7 days", "untagged",
                                                           "sinceImagePushed", 7)]}),
             "customRoleArn": f"arn:aws:iam::{SHARED}:role/ecr-repository-creator"},
        ],
        # Managed signing (GetSigningConfiguration) of the application
        # repositories CI pushes: payments/api is signed, web/storefront's
        # multi-platform images are not (ECR404).
        signing={"rules": [{"signingProfileArn": f"arn:aws:signer:us-east-1:{SHARED}:/signing-profiles/brightline_ci",
                            "repositoryFilters": [{"filter": "payments/*", "filterType": "WILDCARD_MATCH"},
                                                  {"filter": "web/*", "filterType": "WILDCARD_MATCH"}]}]}),
    (SHARED, "eu-west-1"): dict(
        # Basic scanning left on the Clair engine AWS retired (ECR306).
        settings={"BASIC_SCAN_TYPE_VERSION": "CLAIR"},
        scanning={"scanType": "BASIC", "rules": [
            {"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "platform/*", "filterType": "WILDCARD"}]}]},
        ptc=[{"ecrRepositoryPrefix": "quay", "upstreamRegistryUrl": f"{SECURITY}.dkr.ecr.eu-west-1.amazonaws.com",
              "upstreamRegistry": "ecr"},
             # A contractor's private registry pulled through directly,
             # bypassing the security account's mirror (ECR113).
             {"ecrRepositoryPrefix": "agency", "upstreamRegistryUrl": f"{AGENCY}.dkr.ecr.eu-west-1.amazonaws.com",
              "upstreamRegistry": "ecr"}]),
    (PROD, "us-east-1"): dict(
        # Replication from shared services, and (scope V2, the default) the
        # scanning vendor pulls every repository of the registry (ECR103).
        policy={"Version": V, "Statement": registry_policy_replication_from(SHARED, PROD, "us-east-1")["Statement"] + [{
            "Sid": "VendorScansEveryRepository", "Effect": "Allow", "Principal": {"AWS": root(VENDOR)},
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:DescribeImages"],
            "Resource": f"arn:aws:ecr:us-east-1:{PROD}:repository/*"}]},
        scanning={"scanType": "BASIC", "rules": [
            {"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [
                {"filter": "payments/*", "filterType": "WILDCARD"}, {"filter": "web/*", "filterType": "WILDCARD"}]}]}),
    (PROD, "eu-west-1"): dict(
        policy=registry_policy_replication_from(SHARED, PROD, "eu-west-1"),
        scanning={"scanType": "BASIC", "rules": []},
        replication={"rules": [
            {"destinations": [{"region": "eu-central-1", "registryId": LUMEN}],
             "repositoryFilters": [{"filter": "data/", "filterType": "PREFIX_MATCH"}]}]}),
    (DEV, "us-east-1"): dict(
        policy={"Version": V, "Statement": [{
            "Sid": "LumenLabsMigration", "Effect": "Allow", "Principal": {"AWS": root(LUMEN)},
            "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
            "Resource": f"arn:aws:ecr:us-east-1:{DEV}:repository/*"}]},
        scanning={"scanType": "BASIC", "rules": [
            {"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "prod-*", "filterType": "WILDCARD"}]}]}),
    # A registry policy written for scope V2 lets the agency's CI pull every
    # repository, but the account is on scope V1, where a registry policy
    # governs only replication, pull-through import and CreateRepository:
    # the grant has no effect (no ECR103).
    (DEV, "eu-west-1"): dict(
        policy={"Version": V, "Statement": [{
            "Sid": "AgencyCiPullsEverything", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{AGENCY}:role/agency-ci-runner"},
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
            "Resource": f"arn:aws:ecr:eu-west-1:{DEV}:repository/*"}]},
        settings={"REGISTRY_POLICY_SCOPE": "V1"},
        # Enhanced scanning (Amazon Inspector), on push only: images still
        # pulled are never rescanned for new vulnerabilities (ECR307 on
        # data/etl-spark; legacy/monolith is no longer pulled).
        scanning={"scanType": "ENHANCED", "rules": [
            {"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}]}]}),
}


# --------------------------------------------------------------------------
# Tags
# --------------------------------------------------------------------------

def tag_stream(style, n, times, rng, key):
    """Per-build tag lists. A tag given to a later build moves to it."""
    out = []
    used = set()
    minor, patch = 3, 0
    for i in range(n):
        t = times[i]
        sha = short_sha(f"{key}/{i}")
        date = t.strftime("%Y%m%d")
        release = rng.random() < 0.35 or i == n - 1
        if style == "python":
            tags = [f"3.12.{min(8, i // 9)}-{date}"]
        elif style == "node":
            tags = [f"22.{i // 6 + 6}.0-{date}", "22", "lts"]
        elif style == "distroless":
            tags = [f"{'21' if i % 2 else '17'}-{date}"]
        elif style == "main-sha":
            tags = [f"main-{sha}", "latest"]
        elif style == "semver-v":
            patch += 1
            if rng.random() < 0.2:
                minor, patch = minor + 1, 0
            tags = [f"v1.{minor}.{patch}"]
        elif style == "semver-v3":
            patch += 1
            if rng.random() < 0.25:
                minor, patch = minor + 1, 0
            tags = [f"v3.{minor}.{patch}"]
        elif style == "semver-v5":
            patch += 1
            if rng.random() < 0.2:
                minor, patch = minor + 1, 0
            tags = [f"v5.{minor}.{patch}"]
        elif style == "semver-latest":
            patch += 1
            if rng.random() < 0.3:
                minor, patch = minor + 1, 0
            tags = [f"v0.{minor}.{patch}", "latest"]
        elif style in ("nginx", "redis", "otel", "node-exporter"):
            # Upstream rebuilds re-publish a version tag with a new digest.
            ver = i * 2 // 3
            if style == "nginx":
                v = f"1.{25 + ver // 4}.{ver % 4}"
                tags = [v, v.rsplit(".", 1)[0], "stable", "latest"] if i % 3 else [v + "-alpine", "alpine"]
            elif style == "redis":
                v = f"7.{2 + ver // 5}.{ver % 5}"
                tags = [v, v.rsplit(".", 1)[0], "7", "latest"]
            elif style == "otel":
                tags = [f"0.{100 + i}.0", "latest"]
            else:
                tags = [f"v1.{7 + ver // 4}.{ver % 4}", "latest"]
        elif style == "payments":
            tags = [f"git-{sha}"]
            if release:
                patch += 1
                tags.append(f"v2.{minor + i // 12}.{patch}")
        elif style == "storefront":
            tags = [f"main-{sha}"]
            if release:
                tags.append(f"v4.{i // 10}.{i % 10}")
        elif style == "sha":
            tags = [short_sha(f"{key}/{i}", 12)]
        elif style == "release":
            tags = [f"release-{date}-{sha}"]
        elif style == "model":
            tags = [f"v4.{i // 8}.{i % 8}-cuda12.4"]
        elif style == "nightly":
            tags = [date, "latest"] if i % 5 else ["latest"]
        elif style == "nightly-dev":
            tags = ["nightly"] if i % 4 else [date, "nightly"]
        elif style == "hackweek":
            tags = [f"team-{'abcd'[i % 4]}-latest"] + ([f"demo-{i}"] if i % 5 == 0 else [])
        elif style == "latest-only":
            tags = ["latest"]
        elif style == "pr":
            tags = [f"pr-{1180 + i // 3}"] + (["dev"] if i % 4 == 0 else [])
        elif style == "feature":
            tags = [f"feature-{['checkout-v2', 'search', 'a11y', 'promo-banner'][i // 6 % 4]}"] + \
                   (["dev"] if i % 3 == 0 else [])
        elif style == "experiments":
            tags = [f"exp-{i:03d}-{sha}", "latest"]
        elif style == "monolith":
            tags = ["latest"] + ([f"release-{t:%Y.%m.%d}"] if i % 3 == 2 else [])
        else:
            raise ValueError(style)
        if style in ("python", "node", "distroless", "release", "nightly", "nightly-dev"):
            # Two builds on one day: the second gets a build suffix, as CI does.
            first = tags[0]
            if first in used and first not in ("latest", "nightly"):
                k = 2
                while f"{first}.{k}" in used:
                    k += 1
                tags[0] = f"{first}.{k}"
            used.add(tags[0])
        out.append(tags)
    return out


MEDIA = {
    "oci": "application/vnd.oci.image.manifest.v1+json",
    "docker": "application/vnd.docker.distribution.manifest.v2+json",
}
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
COSIGN = "application/vnd.dev.cosign.artifact.sig.v1+json"
NOTATION = "application/vnd.cncf.notary.signature"
SIGNATURE_TYPES = (COSIGN, NOTATION)
SPDX = "application/spdx+json"


def poisson(rng, lam):
    # Knuth; fine for small lambdas.
    limit, k, p = pow(2.718281828, -lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def severity_counts(rng, risk, age_days, enhanced, force=None):
    grow = 1.0 + age_days / 150.0
    c = {"CRITICAL": poisson(rng, 0.15 * risk * grow), "HIGH": poisson(rng, 0.9 * risk * grow),
         "MEDIUM": poisson(rng, 3.0 * risk * grow), "LOW": poisson(rng, 5.0 * risk),
         "INFORMATIONAL": poisson(rng, 2.0)}
    c["UNTRIAGED" if enhanced else "UNDEFINED"] = poisson(rng, 0.3)
    if force == "clean":
        c["CRITICAL"] = c["HIGH"] = 0
    elif force == "high":
        c["CRITICAL"], c["HIGH"] = 0, max(2, c["HIGH"])
    elif force == "critical":
        c["CRITICAL"], c["HIGH"] = max(1, c["CRITICAL"]), max(3, c["HIGH"])
    return {k: v for k, v in c.items() if v}


# --------------------------------------------------------------------------
# Image history: builds -> images, moving tags, lifecycle, pulls, scans
# --------------------------------------------------------------------------

def build_times(rng, prof):
    n = prof["builds"]
    first, last = prof["first"], prof["last"]
    offs = sorted(rng.uniform(last, first) for _ in range(n - 2))
    ds = [first] + offs[::-1] + [last]
    ds = sorted(ds, reverse=True)
    times = [days_ago(d) + dt.timedelta(hours=rng.uniform(-3, 3)) for d in ds]
    times = [min(t, COLLECTED_AT - dt.timedelta(hours=5)) for t in times]
    # Keep them strictly increasing.
    for i in range(1, len(times)):
        if times[i] <= times[i - 1]:
            times[i] = times[i - 1] + dt.timedelta(minutes=17)
    # Boundary friendliness: never push within 2 hours of a threshold.
    fixed = []
    for t in times:
        for th in (STALE_UNTAGGED_DAYS, UNPULLED_DAYS):
            b = COLLECTED_AT - dt.timedelta(days=th)
            if abs((t - b).total_seconds()) < 7200:
                t = b + dt.timedelta(hours=3)
        fixed.append(t)
    return fixed


MIN_SIZE, MAX_SIZE = 20 * 1000 * 1000, 1500 * 1000 * 1000


def clamp_size(n):
    return max(MIN_SIZE, min(MAX_SIZE, int(n)))


def make_history(key, prof):
    """The builds of a (source) repository: list of dicts with time, tags and images."""
    rng = random.Random(SEED + "|builds|" + key)
    times = build_times(rng, prof)
    tags = tag_stream(prof["tags"], prof["builds"], times, rng, key)
    builds = []
    for i, (t, tg) in enumerate(zip(times, tags)):
        b = {"i": i, "t": t, "tags": tg, "images": []}
        base_mb = prof["mb"] * rng.uniform(0.85, 1.15)
        if prof["arch"] == "multi":
            kids = []
            for j, arch in enumerate(["amd64", "arm64"]):
                kids.append({"digest": digest(f"{key}/{i}/{arch}"), "t": t - dt.timedelta(seconds=40 - 15 * j),
                             "kind": "child", "media": MEDIA["oci"],
                             "size": clamp_size(base_mb * (1.0 if arch == "amd64" else 0.93) * 1048576)})
            idx = {"digest": digest(f"{key}/{i}/index"), "t": t, "kind": "index", "media": OCI_INDEX,
                   "children": [k["digest"] for k in kids], "size": 0}
            b["images"] += kids + [idx]
            main = idx
        else:
            main = {"digest": digest(f"{key}/{i}/image"), "t": t, "kind": "image", "media": MEDIA[prof["media"]],
                    "size": clamp_size(base_mb * 1048576)}
            b["images"].append(main)
        b["main"] = main
        if prof["signed"]:
            b["images"].append({"digest": digest(f"{key}/{i}/sig"), "t": t + dt.timedelta(seconds=52),
                                "kind": "sig", "media": MEDIA["oci"], "artifact": COSIGN,
                                "subject": main["digest"], "size": rng.randint(540, 1400)})
        if prof["sbom"]:
            b["images"].append({"digest": digest(f"{key}/{i}/sbom"), "t": t + dt.timedelta(seconds=81),
                                "kind": "sbom", "media": MEDIA["oci"], "artifact": SPDX,
                                "subject": main["digest"], "size": rng.randint(90_000, 420_000)})
        builds.append(b)
    return builds


def glob_match(pattern, value):
    # ECR tag patterns and scanning filters: only '*' is special.
    return re.fullmatch(".*".join(re.escape(p) for p in pattern.split("*")), value) is not None


def lifecycle_apply(images, rules):
    """Simulate ECR lifecycle expiry at COLLECTED_AT. Children of an index and
    referrers follow their parent; they are not selected on their own."""
    rules = sorted(rules, key=lambda r: r["rulePriority"])
    # Rules for the archive storage class act on archived images only.
    archive_rules = [r for r in rules if r["selection"].get("storageClass") == "archive"]
    rules = [r for r in rules if r not in archive_rules]
    top = [im for im in images if im["kind"] in ("index", "image")]
    claimed = {}
    for im in top:
        for r in rules:
            s = r["selection"]
            if s["tagStatus"] == "any" or (s["tagStatus"] == "untagged" and not im["tags"]):
                claimed[im["digest"]] = r
                break
            if s["tagStatus"] == "tagged" and im["tags"]:
                pats = s.get("tagPatternList") or [p + "*" for p in s.get("tagPrefixList", [])]
                if any(glob_match(p, tg) for p in pats for tg in im["tags"]):
                    claimed[im["digest"]] = r
                    break
    expired = set()
    archived = {}
    for r in rules:
        s = r["selection"]
        mine = sorted((im for im in top if claimed.get(im["digest"]) is r), key=lambda im: im["t"], reverse=True)
        if s["countType"] == "imageCountMoreThan":
            chosen = {im["digest"]: None for im in mine[s["countNumber"]:]}
        else:
            age = dt.timedelta(days=s["countNumber"])
            chosen = {im["digest"]: im["t"] + age for im in mine if COLLECTED_AT - im["t"] > age}
        if r["action"]["type"] == "transition":
            archived.update(chosen)
        else:
            expired |= set(chosen)
    for r in archive_rules:
        age = dt.timedelta(days=r["selection"]["countNumber"])
        expired |= {d for d, at in archived.items() if at is not None and COLLECTED_AT - at > age}
    keep = []
    for im in images:
        parent = im.get("parent")
        if im["digest"] in expired or (parent is not None and parent in expired):
            continue
        at = archived.get(im["digest"], archived.get(parent)) if parent is not None else archived.get(im["digest"])
        if im["digest"] in archived or (parent is not None and parent in archived):
            im = dict(im, archived_at=at or COLLECTED_AT)
        keep.append(im)
    return keep


def realize(account, region, name, prof, histories):
    """Turn a history into this repository's image list."""
    key = f"{account}/{region}/{name}"
    rng = random.Random(SEED + "|realize|" + key)
    src = prof["replica_of"]
    if src:
        builds = histories["/".join(src)]
        start = days_ago(prof["first"])
        builds = [b for b in builds if b["t"] >= start]
        shift = dt.timedelta(seconds=rng.randint(25, 95))
        sprof = dict(next(p for a, r, n, p in REPOS if (a, r, n) == src))
    else:
        builds = histories[key]
        shift = dt.timedelta(0)
        sprof = prof
    images = []
    holder = {}
    for b in builds:
        for im0 in b["images"]:
            im = dict(im0)
            im["t"] = im0["t"] + shift
            im["tags"] = []
            im["build"] = b["i"]
            if im["kind"] in ("child", "sig", "sbom"):
                im["parent"] = b["main"]["digest"]
            images.append(im)
            if im0 is b["main"]:
                for tg in b["tags"]:
                    if tg in holder:
                        if prof["mut"] == "IMMUTABLE" and not src:
                            raise SystemExit(f"{key}: tag {tg} reused in an IMMUTABLE repository")
                        holder[tg]["tags"].remove(tg)
                    holder[tg] = im
                    im["tags"].append(tg)
    if prof["lc"]:
        images = lifecycle_apply(images, LIFECYCLES[prof["lc"]])
    n_builds = len(builds)
    last_build = builds[-1]["i"]
    # Pulls.
    build_t = {b["i"]: b["t"] + shift for b in builds}
    next_t = {builds[k]["i"]: builds[k + 1]["t"] + shift for k in range(len(builds) - 1)}
    model = prof["pulls"]
    pulls = {}
    for b in builds:
        i, t = b["i"], b["t"] + shift
        nt = next_t.get(i)
        age_days = (COLLECTED_AT - t).days
        p = None
        if model == "none":
            p = None
        elif model == "deploy":
            p = COLLECTED_AT - dt.timedelta(hours=rng.uniform(0.2, 20)) if nt is None else \
                nt + dt.timedelta(hours=rng.uniform(1, 72))
        elif model == "base":
            p = COLLECTED_AT - dt.timedelta(hours=rng.uniform(0.5, 30)) if nt is None else \
                nt + dt.timedelta(days=rng.uniform(2, 21))
        elif model == "cache":
            p = COLLECTED_AT - dt.timedelta(hours=rng.uniform(0.1, 12)) if nt is None else \
                nt + dt.timedelta(days=rng.uniform(0, 40))
        elif model == "ci":
            p = t + dt.timedelta(minutes=rng.uniform(4, 90)) if rng.random() < 0.85 else None
            if nt is None:
                p = COLLECTED_AT - dt.timedelta(hours=rng.uniform(1, 30))
        elif model == "public":
            p = COLLECTED_AT - dt.timedelta(days=rng.uniform(0, 2)) if nt is None else \
                nt + dt.timedelta(days=rng.uniform(0, 25))
        elif model == "stopped":
            p = min(t + dt.timedelta(days=rng.uniform(1, 30)), days_ago(180)) if age_days < 400 else None
        if p is not None:
            p = min(p, COLLECTED_AT - dt.timedelta(minutes=7))
            p = max(p, t + dt.timedelta(minutes=3))
            # Boundary friendliness for ECR402.
            b90 = COLLECTED_AT - dt.timedelta(days=UNPULLED_DAYS)
            if abs((p - b90).total_seconds()) < 7200:
                p = b90 + dt.timedelta(hours=3)
        pulls[i] = p
    # Scans.
    covered, freq = scan_coverage(account, region, name, prof["sop"])
    enhanced = REGISTRIES[(account, region)]["scanning"]["scanType"] == "ENHANCED"
    out = []
    for im in sorted(images, key=lambda x: (x["t"], x["digest"])):
        rec = {"imageDigest": im["digest"]}
        if im["tags"]:
            rec["imageTags"] = im["tags"]
        rec["imagePushedAt"] = iso(im["t"])
        if im["size"]:
            rec["imageSizeInBytes"] = im["size"]
        p = pulls.get(im["build"])
        if p is not None and im.get("archived_at"):
            # An archived image cannot be pulled: its last pull came before.
            p = min(p, im["archived_at"] - dt.timedelta(hours=1))
            p = p if p > im["t"] else None
        if p is not None and im["kind"] in ("image", "index", "child", "sig"):
            rec["lastRecordedPullTime"] = iso(p)
        rec["imageManifestMediaType"] = im["media"]
        if im.get("archived_at"):
            rec["imageStatus"] = "ARCHIVED"
            rec["lastArchivedAt"] = iso(im["archived_at"])
        if im.get("artifact"):
            rec["artifactMediaType"] = im["artifact"]
            rec["subjectManifestDigest"] = im["subject"]
        if im["kind"] == "index":
            rec["indexManifestDigests"] = im["children"]
        if covered and im["kind"] in ("image", "child"):
            age = (COLLECTED_AT - im["t"]).days
            force = None
            if im["build"] == last_build:
                force = prof["latest"] if not src else sprof["latest"]
            elif im["build"] in sprof.get("force", {}):
                force = sprof["force"][im["build"]]
            elif rng.random() < 0.5:
                force = "clean"
            if enhanced:
                rec["imageScanStatus"] = {"status": "ACTIVE", "description": "Continuous scan is selected for image."}
            else:
                rec["imageScanStatus"] = {"status": "COMPLETE", "description": "The scan was completed successfully."}
            srng = random.Random(SEED + "|vulns|" + im["digest"] + key)
            rec["imageScanFindingsSummary"] = {"findingSeverityCounts": severity_counts(
                srng, sprof["risk"], age, enhanced, force)}
        out.append(rec)
    return out, freq


def scan_coverage(account, region, name, scan_on_push):
    reg = REGISTRIES[(account, region)]["scanning"]
    for rule in reg.get("rules", []):
        if rule["scanFrequency"] not in ("SCAN_ON_PUSH", "CONTINUOUS_SCAN"):
            continue
        for f in rule["repositoryFilters"]:
            if f["filterType"] == "WILDCARD" and glob_match(f["filter"], name):
                return True, rule["scanFrequency"]
    if scan_on_push:
        return True, "SCAN_ON_PUSH"
    return False, "MANUAL"


# --------------------------------------------------------------------------
# IAM
# --------------------------------------------------------------------------

def aws_policy(name):
    return f"arn:aws:iam::aws:policy/{name}"


READ_ONLY = {"Version": V, "Statement": [{"Effect": "Allow", "Action": [
    "ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
    "ecr:GetRepositoryPolicy", "ecr:DescribeRepositories", "ecr:ListImages", "ecr:DescribeImages",
    "ecr:BatchGetImage", "ecr:GetLifecyclePolicy", "ecr:GetLifecyclePolicyPreview",
    "ecr:ListTagsForResource", "ecr:DescribeImageScanFindings"], "Resource": "*"}]}
POWER_USER = {"Version": V, "Statement": [{"Effect": "Allow", "Action":
    READ_ONLY["Statement"][0]["Action"] + ["ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
                                           "ecr:CompleteLayerUpload", "ecr:PutImage"], "Resource": "*"}]}
FULL_ACCESS = {"Version": V, "Statement": [
    {"Effect": "Allow", "Action": ["ecr:*", "cloudtrail:LookupEvents"], "Resource": "*"},
    {"Effect": "Allow", "Action": ["iam:CreateServiceLinkedRole"], "Resource": "*",
     "Condition": {"StringEquals": {"iam:AWSServiceName": ["replication.ecr.amazonaws.com"]}}}]}
PULL_ONLY = {"Version": V, "Statement": [{"Effect": "Allow", "Action": [
    "ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
    "ecr:BatchImportUpstreamImage"], "Resource": "*"}]}
ADMIN = {"Version": V, "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
EKS_WORKER = {"Version": V, "Statement": [{"Sid": "WorkerNodePermissions", "Effect": "Allow", "Action": [
    "ec2:DescribeInstances", "ec2:DescribeInstanceTypes", "ec2:DescribeRouteTables",
    "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVolumes",
    "ec2:DescribeVolumesModifications", "ec2:DescribeVpcs", "eks:DescribeCluster",
    "eks-auth:AssumeRoleForPodIdentity"], "Resource": "*"}]}

AWS_MANAGED = {
    "AmazonEC2ContainerRegistryReadOnly": (READ_ONLY, "v3"),
    "AmazonEC2ContainerRegistryPowerUser": (POWER_USER, "v3"),
    "AmazonEC2ContainerRegistryFullAccess": (FULL_ACCESS, None),
    "AmazonEC2ContainerRegistryPullOnly": (PULL_ONLY, "v1"),
    "AdministratorAccess": (ADMIN, "v1"),
    "AmazonEKSWorkerNodePolicy": (EKS_WORKER, None),
}


def ecr_arns(account, *prefixes):
    return [f"arn:aws:ecr:*:{account}:repository/{p}" for p in prefixes]


def trust(principal, action="sts:AssumeRole", condition=None):
    st = {"Effect": "Allow", "Principal": principal, "Action": action}
    if condition:
        st["Condition"] = condition
    return {"Version": V, "Statement": [st]}


def github_trust(account, subs=None):
    cond = {"StringEquals": {f"{GH}:aud": "sts.amazonaws.com"}}
    if subs:
        cond["StringEquals"][f"{GH}:sub"] = subs
    return trust({"Federated": f"arn:aws:iam::{account}:oidc-provider/{GH}"},
                 "sts:AssumeRoleWithWebIdentity", cond)


def customer_policies(account):
    if account == SHARED:
        return {
            "EcrDeveloperAccess": {"Version": V, "Statement": [
                {"Sid": "Login", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
                {"Sid": "PullSharedImages", "Effect": "Allow",
                 "Action": PULL + ["ecr:DescribeImages", "ecr:ListImages"],
                 "Resource": ecr_arns(SHARED, "platform/*", "ci/*", "dockerhub/*", "ghcr/*")}]},
            "CodeBuildEcrPush": {"Version": V, "Statement": [
                {"Sid": "Login", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"},
                {"Sid": "PushBuiltImages", "Effect": "Allow", "Action": PUSH + ["ecr:BatchGetImage"],
                 "Resource": ecr_arns(SHARED, "ci/*", "platform/*", "payments/*", "web/*")},
                {"Sid": "PushDevImages", "Effect": "Allow", "Action": PUSH,
                 "Resource": [f"arn:aws:ecr:us-east-1:{DEV}:repository/web/storefront"]},
                {"Sid": "PullCaches", "Effect": "Allow",
                 "Action": PULL + ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
                 "Resource": ecr_arns(SHARED, "dockerhub/*", "ghcr/*")}]},
            "DeveloperBoundary": {"Version": V, "Statement": [
                {"Sid": "EcrReadOnly", "Effect": "Allow", "Action": [
                    "ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer", "ecr:Describe*", "ecr:List*"], "Resource": "*"},
                {"Sid": "NoIamChanges", "Effect": "Deny", "Action": "iam:*", "Resource": "*"}]},
        }
    if account == PROD:
        return {
            "EcrLegacyAdmin": {"Version": V, "Statement": [{
                "Sid": "Everything", "Effect": "Allow",
                "Action": ["ecr:GetAuthorizationToken", "ecr:*"], "Resource": "*"}]},
            "EcrPullProdRepositories": {"Version": V, "Statement": [
                {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
                {"Effect": "Allow", "Action": PULL,
                 "Resource": ecr_arns(PROD, "ml/*") + ecr_arns(SHARED, "platform/*")}]},
        }
    return {
        "DevSandboxBoundary": {"Version": V, "Statement": [
            {"Sid": "Login", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {"Sid": "ReadEverything", "Effect": "Allow", "Action": PULL + ["ecr:Describe*", "ecr:List*"],
             "Resource": "*"},
            {"Sid": "WriteSandboxOnly", "Effect": "Allow", "Action": "ecr:*",
             "Resource": ecr_arns(DEV, "sandbox/*")}]},
        "SandboxBuild": {"Version": V, "Statement": [
            {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {"Effect": "Allow", "Action": "ecr:*",
             "Resource": f"arn:aws:ecr:us-east-1:{DEV}:repository/sandbox/*"}]},
    }


def iam_for(account):
    cust = customer_policies(account)

    def attach(*names):
        out = []
        for n in names:
            arn = aws_policy(n) if n in AWS_MANAGED else f"arn:aws:iam::{account}:policy/{n}"
            out.append({"policyName": n, "policyArn": arn})
        return out

    def user(name, groups=(), attached=(), inline=None, boundary=None, tags=None):
        u = {"userName": name, "arn": f"arn:aws:iam::{account}:user/{name}",
             "userId": iam_id("AIDA", account + name), "path": "/",
             "inlinePolicies": [], "attachedPolicies": attach(*attached), "groups": list(groups), "tags": tags or []}
        if inline:
            u["inlinePolicies"] = [{"policyName": k, "policyDocument": compact_text(v)} for k, v in inline.items()]
        if boundary:
            u["permissionsBoundary"] = f"arn:aws:iam::{account}:policy/{boundary}"
        return u

    def group(name, attached=()):
        return {"groupName": name, "arn": f"arn:aws:iam::{account}:group/{name}",
                "groupId": iam_id("AGPA", account + name), "path": "/",
                "inlinePolicies": [], "attachedPolicies": attach(*attached)}

    def role(name, trust_doc, attached=(), inline=None, path="/", boundary=None, tags=None):
        r = {"roleName": name, "arn": f"arn:aws:iam::{account}:role{path}{name}",
             "roleId": iam_id("AROA", account + name), "path": path,
             "assumeRolePolicyDocument": console_text(trust_doc),
             "inlinePolicies": [], "attachedPolicies": attach(*attached), "tags": tags or []}
        if inline:
            r["inlinePolicies"] = [{"policyName": k, "policyDocument": console_text(v)} for k, v in inline.items()]
        if boundary:
            r["permissionsBoundary"] = f"arn:aws:iam::{account}:policy/{boundary}"
        return r

    login = {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}
    if account == SHARED:
        users = [
            user("ci-bot", attached=["AmazonEC2ContainerRegistryPowerUser"],
                 tags=[{"Key": "owner", "Value": "platform"}, {"Key": "purpose", "Value": "legacy-jenkins"}]),
            user("alice.nguyen", groups=["platform-admins"]),
            user("bob.okafor", groups=["developers"], boundary="DeveloperBoundary"),
            user("priya.raman", groups=["developers"], boundary="DeveloperBoundary"),
        ]
        groups = [group("platform-admins", ["AmazonEC2ContainerRegistryFullAccess"]),
                  group("developers", ["EcrDeveloperAccess"])]
        roles = [
            role("github-actions-deploy", github_trust(SHARED, [
                "repo:brightline-eng/payments-api:ref:refs/heads/main",
                "repo:brightline-eng/storefront:ref:refs/heads/main"]),
                inline={"push-app-images": {"Version": V, "Statement": [login, {
                    "Effect": "Allow", "Action": PUSH + ["ecr:BatchGetImage"],
                    "Resource": ecr_arns(SHARED, "payments/*", "web/*")}]}}),
            role("codebuild-image-builder", trust({"Service": "codebuild.amazonaws.com"}, condition={
                "StringEquals": {"aws:SourceAccount": SHARED}}), attached=["CodeBuildEcrPush"], path="/service-role/"),
            # The role ECR assumes to create the ghcr cache's repositories
            # with their KMS key and tags: it also trusts the contractor
            # agency's account, left from when they set the cache up (ECR114).
            role("ecr-repository-creator", {"Version": V, "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ecr.amazonaws.com"}, "Action": "sts:AssumeRole",
                 "Condition": {"StringEquals": {"aws:SourceAccount": SHARED}}},
                {"Effect": "Allow", "Principal": {"AWS": root(AGENCY)}, "Action": "sts:AssumeRole"}]},
                inline={"create-cache-repositories": {"Version": V, "Statement": [{
                    "Effect": "Allow", "Action": ["kms:CreateGrant", "kms:DescribeKey", "ecr:TagResource"],
                    "Resource": "*"}]}}),
            role("ecr-audit-scanner", github_trust(SHARED, [
                "repo:brightline-eng/security-scans:ref:refs/heads/main"]),
                attached=["AmazonEC2ContainerRegistryReadOnly"],
                inline={"assume-audit-roles": {"Version": V, "Statement": [{
                    "Effect": "Allow", "Action": "sts:AssumeRole",
                    "Resource": "arn:aws:iam::*:role/ecr-audit-readonly"}]}}),
        ]
        managed = ["AmazonEC2ContainerRegistryPowerUser", "AmazonEC2ContainerRegistryFullAccess",
                   "AmazonEC2ContainerRegistryReadOnly"]
    elif account == PROD:
        users = [user("legacy-deploy", attached=["EcrLegacyAdmin"],
                      tags=[{"Key": "ticket", "Value": "SEC-2291"}])]
        groups = []
        roles = [
            role("OrganizationAccountAccessRole", trust({"AWS": root(SHARED)}), attached=["AdministratorAccess"]),
            role("eks-node-prod-general", trust({"Service": "ec2.amazonaws.com"}),
                 attached=["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly"]),
            role("eks-node-prod-gpu", trust({"Service": "ec2.amazonaws.com"}),
                 attached=["AmazonEKSWorkerNodePolicy", "EcrPullProdRepositories"]),
            role("vendor-image-scanner", trust({"AWS": root(VENDOR)}, condition={
                "StringEquals": {"sts:ExternalId": "bl-7f3a9c2e41d8"}}),
                attached=["AmazonEC2ContainerRegistryReadOnly"]),
            role("release-promoter", trust({"AWS": "*"}),
                 inline={"promote-payments": {"Version": V, "Statement": [login, {
                     "Effect": "Allow", "Action": PUSH + ["ecr:BatchGetImage"],
                     "Resource": ecr_arns(PROD, "payments/*")}]}}),
            role("ci-promote-images", trust({"AWS": "*"}, condition={
                "StringEquals": {"aws:PrincipalOrgID": ORG_ID},
                "ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{SHARED}:role/*"}}),
                inline={"promote-web": {"Version": V, "Statement": [login, {
                    "Effect": "Allow", "Action": PUSH + ["ecr:BatchGetImage"],
                    "Resource": ecr_arns(PROD, "web/*")}]}}),
            role("github-actions-payments-deploy", github_trust(PROD, [
                "repo:brightline-eng/payments-api:environment:production"]),
                inline={"deploy": {"Version": V, "Statement": [login, {
                    "Effect": "Allow", "Action": PULL + ["ecr:DescribeImages"],
                    "Resource": ecr_arns(PROD, "payments/*")}, {
                    "Effect": "Allow", "Action": ["lambda:UpdateFunctionCode", "ecs:UpdateService"],
                    "Resource": "*"}]}}),
            role("ecr-audit-readonly", trust({"AWS": f"arn:aws:iam::{SHARED}:role/ecr-audit-scanner"}),
                 attached=["AmazonEC2ContainerRegistryReadOnly"]),
        ]
        managed = ["AdministratorAccess", "AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly",
                   "AmazonEC2ContainerRegistryReadOnly"]
    else:
        users = [
            user("carol.diaz", groups=["developers"], boundary="DevSandboxBoundary"),
            user("dan.kowalski", groups=["developers"]),
            user("ci-bot-dev", inline={"ecr-everything": {"Version": V, "Statement": [{
                "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken", "ecr:*"], "Resource": "*"}]}}),
        ]
        groups = [group("developers", ["AmazonEC2ContainerRegistryPowerUser"])]
        roles = [
            role("OrganizationAccountAccessRole", trust({"AWS": root(SHARED)}), attached=["AdministratorAccess"]),
            role("github-actions-legacy", github_trust(DEV), attached=["AmazonEC2ContainerRegistryPowerUser"],
                 tags=[{"Key": "created-by", "Value": "terraform-2023"}]),
            role("agency-ci-push", trust({"AWS": f"arn:aws:iam::{AGENCY}:role/agency-ci-runner"}),
                 inline={"push-growth": {"Version": V, "Statement": [login, {
                     "Effect": "Allow", "Action": PUSH + ["ecr:BatchGetImage"],
                     "Resource": ecr_arns(DEV, "team-growth/*")}]}}),
            role("eks-node-dev", trust({"Service": "ec2.amazonaws.com"}),
                 attached=["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly"]),
            role("sandbox-builder", trust({"Service": "codebuild.amazonaws.com"}), attached=["SandboxBuild"],
                 path="/service-role/"),
            role("ecr-audit-readonly", trust({"AWS": f"arn:aws:iam::{SHARED}:role/ecr-audit-scanner"}),
                 attached=["AmazonEC2ContainerRegistryReadOnly"]),
        ]
        managed = ["AdministratorAccess", "AmazonEC2ContainerRegistryPowerUser",
                   "AmazonEC2ContainerRegistryReadOnly", "AmazonEKSWorkerNodePolicy"]
    policies = []
    for n in managed:
        doc, ver = AWS_MANAGED[n]
        mp = {"policyName": n, "arn": aws_policy(n), "path": "/", "document": aws_managed_text(doc)}
        if ver:
            mp["defaultVersionId"] = ver
        policies.append(mp)
    for n, doc in cust.items():
        policies.append({"policyName": n, "arn": f"arn:aws:iam::{account}:policy/{n}", "path": "/",
                         "defaultVersionId": "v2" if n.startswith("Ecr") else "v1", "document": console_text(doc)})
    return {"users": users, "groups": groups, "roles": roles, "policies": policies}


# --------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------

def encryption(account, region, name, enc):
    if enc == "AES256":
        return {"encryptionType": "AES256"}
    if enc == "KMS":
        return {"encryptionType": "KMS"}
    if enc == "KMS-aws":
        return {"encryptionType": "KMS", "kmsKey": f"arn:aws:kms:{region}:{account}:alias/aws/ecr"}
    return {"encryptionType": "KMS", "kmsKey": cmk(account, region, "ecr")}


def build_inventory():
    histories = {}
    for account, region, name, prof in REPOS:
        if not prof["replica_of"]:
            histories[f"{account}/{region}/{name}"] = make_history(f"{account}/{region}/{name}", prof)
    pols = repo_policies()
    accounts = []
    for account in SCANNED:
        regions = []
        for region in REGIONS:
            reg = REGISTRIES[(account, region)]
            registry = {}
            if reg.get("policy"):
                registry["policy"] = jackson(reg["policy"])
            if reg.get("replication"):
                registry["replicationConfiguration"] = reg["replication"]
            registry["scanningConfiguration"] = reg["scanning"]
            registry["pullThroughCacheRules"] = reg.get("ptc", [])
            if reg.get("templates"):
                registry["repositoryCreationTemplates"] = reg["templates"]
            if reg.get("signing"):
                registry["signingConfiguration"] = reg["signing"]
            # GetAccountSetting's answers: AWS's defaults unless the
            # registry says otherwise.
            registry["accountSettings"] = dict(
                {"BASIC_SCAN_TYPE_VERSION": "AWS_NATIVE", "REGISTRY_POLICY_SCOPE": "V2"}, **reg.get("settings", {}))
            repos = []
            for a, r, name, prof in REPOS:
                if (a, r) != (account, region):
                    continue
                images, freq = realize(account, region, name, prof, histories)
                crng = random.Random(SEED + "|created|" + a + r + name)
                created = days_ago(prof["created"] if prof["replica_of"] else max(prof["created"], prof["first"] + 1))
                created += dt.timedelta(hours=crng.uniform(-6, 6))
                created = min(created, days_ago(prof["first"]) - dt.timedelta(hours=1))
                repo = {
                    "repositoryName": name,
                    "repositoryArn": repo_arn(account, region, name),
                    "repositoryUri": f"{account}.dkr.ecr.{region}.amazonaws.com/{name}",
                    "registryId": account,
                    "createdAt": iso(created),
                    "imageTagMutability": prof["mut"],
                }
                if prof["excl"]:
                    repo["imageTagMutabilityExclusionFilters"] = [
                        {"filterType": "WILDCARD", "filter": f} for f in prof["excl"]]
                repo |= {
                    "imageScanningConfiguration": {"scanOnPush": prof["sop"]},
                    "scanFrequency": freq,
                    "encryptionConfiguration": encryption(account, region, name, prof["enc"]),
                    "tags": [{"Key": "team", "Value": prof["team"]},
                             {"Key": "managed-by", "Value": "replication" if prof["replica_of"] else "terraform"}],
                }
                if prof["pol"]:
                    repo["policy"] = jackson(pols[prof["pol"]])
                if prof["lc"]:
                    repo["lifecyclePolicy"] = compact_text({"rules": LIFECYCLES[prof["lc"]]})
                repo["images"] = images
                repos.append(repo)
            regions.append({"region": region, "registry": registry, "repositories": repos})
        accounts.append({"id": account, "name": ACCOUNT_NAMES[account], "iam": iam_for(account), "regions": regions})
    n_repos = sum(len(r["repositories"]) for a in accounts for r in a["regions"])
    n_images = sum(len(p["images"]) for a in accounts for r in a["regions"] for p in r["repositories"])
    ops = {
        "organizations:ListAccounts": 1, "sts:AssumeRole": 3, "iam:GetAccountAuthorizationDetails": 3,
        "ecr:DescribeRegistry": 6, "ecr:GetRegistryPolicy": 6, "ecr:GetRegistryScanningConfiguration": 6,
        "ecr:DescribePullThroughCacheRules": 6, "ecr:GetAccountSetting": 12, "ecr:DescribeRepositories": 6,
        "ecr:BatchGetRepositoryScanningConfiguration": 6,
        "ecr:GetRepositoryPolicy": n_repos, "ecr:GetLifecyclePolicy": n_repos,
        "ecr:ListTagsForResource": n_repos,
        "ecr:DescribeImages": sum(max(1, -(-len(p["images"]) // 100)) for a in accounts for r in a["regions"]
                                  for p in r["repositories"]),
    }
    return {
        "format": FORMAT,
        "collectedAt": iso(COLLECTED_AT),
        "collector": "ecr-audit demo generator (scripts/gen_demo.py)",
        "organization": {
            "id": ORG_ID,
            "arn": f"arn:aws:organizations::{SHARED}:organization/{ORG_ID}",
            "managementAccountId": SHARED,
            "accounts": [{"id": a, "name": ACCOUNT_NAMES[a], "status": "ACTIVE"}
                         for a in [SHARED, PROD, DEV, ANALYTICS, SECURITY]],
        },
        "accounts": accounts,
        "errors": [],
        "requestCounts": dict(sorted(ops.items())),
    }


# --------------------------------------------------------------------------
# Schema check: mirrors src/inventory.rs (serde camelCase, deny_unknown_fields).
# A field is (type, required). Types: str, u64, bool, date, [T], {T} (map of
# str -> T), or a struct name. Keep in step with src/inventory.rs.
# --------------------------------------------------------------------------

SCHEMA = {
    "Inventory": {"format": ("str", True), "collectedAt": ("date?", False), "collector": ("str", False),
                  "organization": ("Organization", False), "accounts": (["Account"], False),
                  "errors": (["CollectionError"], False), "requestCounts": ({"u64"}, False)},
    "Organization": {"id": ("str", True), "arn": ("str", False), "managementAccountId": ("str", True),
                     "accounts": (["OrganizationAccount"], False)},
    "OrganizationAccount": {"id": ("str", True), "name": ("str", False), "status": ("str", False)},
    "Account": {"id": ("str", True), "name": ("str", False), "iam": ("Iam", False), "regions": (["Region"], False)},
    "Iam": {"users": (["IamUser"], False), "groups": (["IamGroup"], False), "roles": (["IamRole"], False),
            "policies": (["ManagedPolicy"], False)},
    "IamUser": {"userName": ("str", True), "arn": ("str", True), "userId": ("str", False), "path": ("str", False),
                "inlinePolicies": (["InlinePolicy"], False), "attachedPolicies": (["AttachedPolicy"], False),
                "groups": (["str"], False), "permissionsBoundary": ("str", False), "tags": (["Tag"], False)},
    "IamGroup": {"groupName": ("str", True), "arn": ("str", True), "groupId": ("str", False), "path": ("str", False),
                 "inlinePolicies": (["InlinePolicy"], False), "attachedPolicies": (["AttachedPolicy"], False)},
    "IamRole": {"roleName": ("str", True), "arn": ("str", True), "roleId": ("str", False), "path": ("str", False),
                "assumeRolePolicyDocument": ("str", True), "inlinePolicies": (["InlinePolicy"], False),
                "attachedPolicies": (["AttachedPolicy"], False), "permissionsBoundary": ("str", False),
                "tags": (["Tag"], False)},
    "InlinePolicy": {"policyName": ("str", True), "policyDocument": ("str", True)},
    "AttachedPolicy": {"policyName": ("str", True), "policyArn": ("str", True)},
    "ManagedPolicy": {"policyName": ("str", True), "arn": ("str", True), "path": ("str", False),
                      "defaultVersionId": ("str", False), "document": ("str", True)},
    "Tag": {"Key": ("str", True), "Value": ("str", False)},
    "Region": {"region": ("str", True), "registry": ("Registry", False), "repositories": (["Repository"], False)},
    "Registry": {"policy": ("str", False), "replicationConfiguration": ("ReplicationConfiguration", False),
                 "scanningConfiguration": ("RegistryScanningConfiguration", False),
                 "pullThroughCacheRules": (["PullThroughCacheRule"], False),
                 "accountSettings": ({"str"}, False),
                 "repositoryCreationTemplates": (["RepositoryCreationTemplate"], False),
                 "signingConfiguration": ("SigningConfiguration", False)},
    "RepositoryCreationTemplate": {"prefix": ("str", True), "description": ("str", False),
                                   "appliedFor": (["str"], False),
                                   "encryptionConfiguration": ("EncryptionConfiguration", False),
                                   "resourceTags": (["Tag"], False), "imageTagMutability": ("str", False),
                                   "imageTagMutabilityExclusionFilters": (["TagMutabilityExclusionFilter"], False),
                                   "repositoryPolicy": ("str", False), "lifecyclePolicy": ("str", False),
                                   "customRoleArn": ("str", False)},
    "SigningConfiguration": {"rules": (["SigningRule"], False)},
    "SigningRule": {"signingProfileArn": ("str", True), "repositoryFilters": (["RepositoryFilter"], False)},
    "ReplicationConfiguration": {"rules": (["ReplicationRule"], False)},
    "ReplicationRule": {"destinations": (["ReplicationDestination"], False),
                        "repositoryFilters": (["RepositoryFilter"], False)},
    "ReplicationDestination": {"region": ("str", True), "registryId": ("str", True)},
    "RepositoryFilter": {"filter": ("str", True), "filterType": ("str", True)},
    "RegistryScanningConfiguration": {"scanType": ("str", True), "rules": (["RegistryScanningRule"], False)},
    "RegistryScanningRule": {"scanFrequency": ("str", True), "repositoryFilters": (["RepositoryFilter"], False)},
    "PullThroughCacheRule": {"ecrRepositoryPrefix": ("str", True), "upstreamRegistryUrl": ("str", True),
                             "upstreamRegistry": ("str", False), "credentialArn": ("str", False),
                             "customRoleArn": ("str", False), "upstreamRepositoryPrefix": ("str", False)},
    "Repository": {"repositoryName": ("str", True), "repositoryArn": ("str", True), "repositoryUri": ("str", False),
                   "registryId": ("str", False), "createdAt": ("date?", False), "imageTagMutability": ("str", True),
                   "imageTagMutabilityExclusionFilters": (["TagMutabilityExclusionFilter"], False),
                   "imageScanningConfiguration": ("ImageScanningConfiguration", False),
                   "scanFrequency": ("str", False), "encryptionConfiguration": ("EncryptionConfiguration", False),
                   "tags": (["Tag"], False), "policy": ("str", False), "lifecyclePolicy": ("str", False),
                   "images": (["Image"], False)},
    "TagMutabilityExclusionFilter": {"filterType": ("str", True), "filter": ("str", True)},
    "ImageScanningConfiguration": {"scanOnPush": ("bool", False)},
    "EncryptionConfiguration": {"encryptionType": ("str", True), "kmsKey": ("str", False)},
    "Image": {"imageDigest": ("str", True), "imageTags": (["str"], False), "imagePushedAt": ("date", True),
              "imageSizeInBytes": ("u64", False), "lastRecordedPullTime": ("date?", False),
              "imageManifestMediaType": ("str", False), "artifactMediaType": ("str", False),
              "subjectManifestDigest": ("str", False), "indexManifestDigests": (["str"], False),
              "imageScanStatus": ("ImageScanStatus", False),
              "imageScanFindingsSummary": ("ImageScanFindingsSummary", False),
              "imageStatus": ("str", False), "lastArchivedAt": ("date?", False)},
    "ImageScanStatus": {"status": ("str", True), "description": ("str", False)},
    "ImageScanFindingsSummary": {"findingSeverityCounts": ({"u64"}, False)},
    "CollectionError": {"account": ("str", True), "region": ("str", False), "operation": ("str", True),
                        "resource": ("str", False), "kind": ("ErrorKind", True), "message": ("str", True)},
}
ERROR_KINDS = {"access-denied", "assume-role-failed", "region-disabled", "throttled", "server-error",
               "unsupported", "network", "other"}
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def check_value(t, v, path, errs):
    # Option<T> fields accept null, as serde does.
    if v is None and (t == "date?" or path.split(".")[-1] in OPTIONAL_NULLABLE):
        return
    if isinstance(t, list):
        if not isinstance(v, list):
            errs.append(f"{path}: expected an array")
            return
        for i, x in enumerate(v):
            check_value(t[0], x, f"{path}[{i}]", errs)
    elif isinstance(t, set):
        if not isinstance(v, dict):
            errs.append(f"{path}: expected an object")
            return
        (inner,) = tuple(t)
        for k, x in v.items():
            check_value(inner, x, f"{path}.{k}", errs)
    elif t == "str":
        if not isinstance(v, str):
            errs.append(f"{path}: expected a string")
    elif t == "u64":
        if not (isinstance(v, int) and not isinstance(v, bool) and v >= 0):
            errs.append(f"{path}: expected an unsigned integer")
    elif t == "bool":
        if not isinstance(v, bool):
            errs.append(f"{path}: expected true/false")
    elif t in ("date", "date?"):
        if not (isinstance(v, str) and RFC3339.match(v)):
            errs.append(f"{path}: expected an RFC 3339 date, got {v!r}")
    elif t == "ErrorKind":
        if v not in ERROR_KINDS:
            errs.append(f"{path}: unknown error kind {v!r}")
    else:
        fields = SCHEMA[t]
        if not isinstance(v, dict):
            errs.append(f"{path}: expected an object ({t})")
            return
        for k in v:
            if k not in fields:
                errs.append(f"{path}: unknown field {k!r} in {t}")
        for k, (ft, req) in fields.items():
            if k not in v:
                if req:
                    errs.append(f"{path}: missing field {k!r} in {t}")
                continue
            check_value(ft, v[k], f"{path}.{k}", errs)


# Option<...> fields that may be written as null.
OPTIONAL_NULLABLE = {"collector", "organization", "arn", "iam", "permissionsBoundary", "registry", "policy",
                     "replicationConfiguration", "scanningConfiguration", "upstreamRegistry", "credentialArn",
                     "scanFrequency", "lifecyclePolicy", "kmsKey", "artifactMediaType", "subjectManifestDigest",
                     "imageManifestMediaType", "imageScanStatus", "imageScanFindingsSummary", "defaultVersionId",
                     "description", "region", "resource", "name"}


def validate(inv):
    errs = []
    check_value("Inventory", inv, "$", errs)
    if errs:
        return errs
    if inv["format"] != FORMAT:
        errs.append(f"$.format: {inv['format']!r} is not {FORMAT!r}")
    # Consistency checks beyond the types.
    for a in inv.get("accounts", []):
        for r in a.get("regions", []):
            for p in r.get("repositories", []):
                want = f"arn:aws:ecr:{r['region']}:{a['id']}:repository/{p['repositoryName']}"
                if p["repositoryArn"] != want:
                    errs.append(f"{p['repositoryArn']}: ARN does not match account/region/name")
                seen = set()
                for im in p.get("images", []):
                    d = im["imageDigest"]
                    if not DIGEST.match(d):
                        errs.append(f"{want}: bad digest {d}")
                    if d in seen:
                        errs.append(f"{want}: duplicate digest {d}")
                    seen.add(d)
                digests = {im["imageDigest"] for im in p.get("images", [])}
                tags = [t for im in p.get("images", []) for t in im.get("imageTags", [])]
                if len(tags) != len(set(tags)):
                    errs.append(f"{want}: a tag is on more than one image")
                for im in p.get("images", []):
                    if im.get("lastRecordedPullTime") and \
                            parse_time(im["lastRecordedPullTime"]) < parse_time(im["imagePushedAt"]):
                        errs.append(f"{want}: {im['imageDigest']} pulled before it was pushed")
                for im in p.get("images", []):
                    for c in im.get("indexManifestDigests", []):
                        if c not in digests:
                            errs.append(f"{want}: index child {c} is not an image of the repository")
                    s = im.get("subjectManifestDigest")
                    if s and s not in digests:
                        errs.append(f"{want}: subject {s} is not an image of the repository")
                    if inv.get("collectedAt") and parse_time(im["imagePushedAt"]) > parse_time(inv["collectedAt"]):
                        errs.append(f"{want}: image pushed after collectedAt")
                for field in ("policy", "lifecyclePolicy"):
                    if p.get(field):
                        json.loads(p[field])
            if r.get("registry") and r["registry"].get("policy"):
                json.loads(r["registry"]["policy"])
        for kind in ("users", "groups", "roles"):
            for prn in (a.get("iam") or {}).get(kind, []):
                for ip in prn.get("inlinePolicies", []):
                    json.loads(ip["policyDocument"])
                if kind == "roles":
                    json.loads(prn["assumeRolePolicyDocument"])
        for mp in (a.get("iam") or {}).get("policies", []):
            json.loads(mp["document"])
    return errs


# --------------------------------------------------------------------------
# Reference evaluation of the configuration and image rules (a test oracle)
# --------------------------------------------------------------------------

def parse_time(s):
    return dt.datetime.strptime(s.replace("Z", "+00:00")[:19] + "+0000", "%Y-%m-%dT%H:%M:%S%z") \
        if s.endswith("Z") else dt.datetime.fromisoformat(s)


def high_or_critical(im):
    c = (im.get("imageScanFindingsSummary") or {}).get("findingSeverityCounts", {})
    return c.get("CRITICAL", 0) > 0 or c.get("HIGH", 0) > 0


def evaluate(inv, strict403=False):
    """Return {rule_id: {repositoryArn: detail}} for ECR301-305, 401-403.
    With strict403, also check that ECR403 gives the same answer whether
    "most recently pushed image" counts referrers and indexes or not; a
    disagreement is raised, so fixtures and the demo never depend on it."""
    now = parse_time(inv["collectedAt"])
    fired = {k: {} for k in ("ECR301", "ECR302", "ECR303", "ECR304", "ECR305", "ECR307", "ECR401", "ECR402",
                             "ECR403", "ECR404")}
    for a in inv.get("accounts", []):
        for r in a.get("regions", []):
            scanning = ((r.get("registry") or {}).get("scanningConfiguration") or {})
            for p in r.get("repositories", []):
                arn, name = p["repositoryArn"], p["repositoryName"]
                # ECR301
                covered = (p.get("imageScanningConfiguration") or {}).get("scanOnPush", False)
                for rule in scanning.get("rules", []):
                    if rule["scanFrequency"] in ("SCAN_ON_PUSH", "CONTINUOUS_SCAN"):
                        for f in rule.get("repositoryFilters", []):
                            if f["filterType"] == "WILDCARD" and glob_match(f["filter"], name):
                                covered = True
                if not covered:
                    fired["ECR301"][arn] = "no scan-on-push and no registry scanning rule"
                # ECR307: enhanced scanning (Amazon Inspector) rescans images
                # only at CONTINUOUS_SCAN frequency; SCAN_ON_PUSH scans once
                # (Amazon ECR User Guide, "Scan images for OS and programming
                # language package vulnerabilities in Amazon ECR"). The
                # collected effective frequency decides, else the registry's
                # rules (a continuous rule matching wins).
                if scanning.get("scanType") == "ENHANCED":
                    def matches(freq):
                        return any(rule["scanFrequency"] == freq and any(
                            f["filterType"] == "WILDCARD" and glob_match(f["filter"], name)
                            for f in rule.get("repositoryFilters", []))
                            for rule in scanning.get("rules", []))
                    freq = p.get("scanFrequency") or (
                        "CONTINUOUS_SCAN" if matches("CONTINUOUS_SCAN") else
                        "SCAN_ON_PUSH" if matches("SCAN_ON_PUSH") else "MANUAL")
                    kids = {c for im in p.get("images", []) for c in im.get("indexManifestDigests", [])}
                    in_use = [im for im in p.get("images", [])
                              if im["imageDigest"] not in kids
                              and not (im.get("subjectManifestDigest") or im.get("artifactMediaType"))
                              and im.get("lastRecordedPullTime")
                              and now - parse_time(im["lastRecordedPullTime"]) <= dt.timedelta(days=UNPULLED_DAYS)]
                    if freq == "SCAN_ON_PUSH" and in_use:
                        fired["ECR307"][arn] = f"enhanced scanning on push only; {len(in_use)} image(s) pulled recently"
                # ECR302: tags that can move to another image. ECR API
                # reference, ImageTagMutabilityExclusionFilter (WILDCARD
                # filters over tag names) and the TagMutability values:
                # IMMUTABLE_WITH_EXCLUSION keeps the matching tags mutable,
                # MUTABLE_WITH_EXCLUSION keeps only the matching tags immutable.
                mode = p["imageTagMutability"]
                filters = [f["filter"] for f in p.get("imageTagMutabilityExclusionFilters", [])]
                every_tag = any(set(f) == {"*"} for f in filters)
                if (mode == "MUTABLE"
                        or (mode == "MUTABLE_WITH_EXCLUSION" and not every_tag)
                        or (mode == "IMMUTABLE_WITH_EXCLUSION" and filters)):
                    fired["ECR302"][arn] = mode
                # ECR303 / ECR304
                lp = p.get("lifecyclePolicy")
                if lp is None:
                    fired["ECR303"][arn] = "no lifecycle policy"
                else:
                    # Rules on archived images (storageClass archive) do not
                    # decide what happens in standard storage; a transition
                    # to archive takes an image out of it as expiry does
                    # (Amazon ECR User Guide, "Lifecycle policy properties").
                    rules = sorted(json.loads(lp).get("rules", []), key=lambda x: x["rulePriority"])
                    first = next((x for x in rules if x["selection"]["tagStatus"] in ("untagged", "any")
                                  and x["selection"].get("storageClass", "standard") == "standard"), None)
                    if first is None:
                        fired["ECR304"][arn] = "no rule selects untagged images"
                    else:
                        s = first["selection"]
                        action = first.get("action", {})
                        ok = (s["countType"] == "sinceImagePushed" and s.get("countUnit", "days") == "days"
                              and s["countNumber"] <= STALE_UNTAGGED_DAYS
                              and (action.get("type") == "expire"
                                   or (action.get("type") == "transition"
                                       and action.get("targetStorageClass") == "archive")))
                        if not ok:
                            fired["ECR304"][arn] = (f"rule {first['rulePriority']} ({s['tagStatus']}, "
                                                    f"{s['countType']} {s['countNumber']}) does not expire "
                                                    f"untagged images within {STALE_UNTAGGED_DAYS} days")
                # ECR305
                enc = p.get("encryptionConfiguration") or {"encryptionType": "AES256"}
                key = enc.get("kmsKey")
                if enc["encryptionType"] == "AES256" or not key or "alias/aws/ecr" in key:
                    fired["ECR305"][arn] = enc["encryptionType"] + (f" {key}" if key else "")
                # Images: archived ones cannot be pulled and are billed as
                # archive (Amazon ECR User Guide, "Archiving an image"):
                # none of the image rules is about them.
                images = [im for im in p.get("images", []) if im.get("imageStatus", "ACTIVE") != "ARCHIVED"]
                children = {c for im in images for c in im.get("indexManifestDigests", [])}
                stale, unpulled = [], []
                for im in images:
                    pushed = parse_time(im["imagePushedAt"])
                    referrer = bool(im.get("subjectManifestDigest") or im.get("artifactMediaType"))
                    if not im.get("imageTags"):
                        if im["imageDigest"] in children or referrer:
                            continue
                        if now - pushed > dt.timedelta(days=STALE_UNTAGGED_DAYS):
                            stale.append(im["imageDigest"])
                    else:
                        last = pushed
                        if im.get("lastRecordedPullTime"):
                            last = max(last, parse_time(im["lastRecordedPullTime"]))
                        if now - last > dt.timedelta(days=UNPULLED_DAYS):
                            unpulled.append(im["imageDigest"])
                # ECR404: the registry's managed signing rules (Amazon ECR
                # API Reference, "SigningRule": no filter matches every
                # repository; WILDCARD_MATCH filters over repository names)
                # ask for signed images. Signed: a signature artifact in the
                # repository refers to the image (Notation, cosign, Sigstore
                # bundle); an index's platforms go with the index.
                signing = (r.get("registry") or {}).get("signingConfiguration") or {}
                if any(not rule.get("repositoryFilters")
                       or any(glob_match(f["filter"], name) for f in rule["repositoryFilters"])
                       for rule in signing.get("rules", [])):
                    signed = {im["subjectManifestDigest"] for im in images
                              if im.get("subjectManifestDigest")
                              and (im.get("artifactMediaType") in SIGNATURE_TYPES
                                   or (im.get("artifactMediaType") or "").startswith(
                                       "application/vnd.dev.sigstore.bundle"))}
                    unsigned = [im for im in images
                                if im["imageDigest"] not in children and im["imageDigest"] not in signed
                                and not (im.get("subjectManifestDigest") or im.get("artifactMediaType"))]
                    if unsigned:
                        fired["ECR404"][arn] = f"{len(unsigned)} unsigned image(s) where signing is required"
                if stale:
                    fired["ECR401"][arn] = f"{len(stale)} stale untagged image(s)"
                if unpulled:
                    fired["ECR402"][arn] = f"{len(unpulled)} tagged image(s) unused for {UNPULLED_DAYS}+ days"
                if images:
                    order = lambda im: (parse_time(im["imagePushedAt"]), im["imageDigest"])
                    latest = max(images, key=order)
                    runnable = [im for im in images if not im.get("subjectManifestDigest")
                                and not im.get("artifactMediaType") and not im.get("indexManifestDigests")]
                    latest_run = max(runnable, key=order) if runnable else None
                    a1 = high_or_critical(latest)
                    a2 = bool(latest_run) and high_or_critical(latest_run)
                    if strict403 and a1 != a2:
                        raise SystemExit(f"{arn}: ECR403 depends on whether referrers/indexes count as "
                                         f"'most recently pushed'")
                    if a1:
                        c = latest["imageScanFindingsSummary"]["findingSeverityCounts"]
                        fired["ECR403"][arn] = (f"latest image {(latest.get('imageTags') or ['<untagged>'])[0]}: "
                                                f"CRITICAL {c.get('CRITICAL', 0)}, HIGH {c.get('HIGH', 0)}")
    return fired


# --------------------------------------------------------------------------
# Expected policy findings (ECR0xx/1xx/2xx are not computed by the oracle
# above; these are the intended outcomes the demo was built to show).
# --------------------------------------------------------------------------

def rarn(account, region, name):
    return f"`{ACCOUNT_NAMES[account]}` {region} `{name}`"


POLICY_EXPECT = [
    ("ECR001", rarn(DEV, "us-east-1", "ml/notebooks"),
     "condition operator `StringEqualsAnyCase` does not exist: the analysis must say it could not decide "
     "(and, being unsure, may also report ECR101; it must never call the repository private)"),
    ("ECR101", rarn(PROD, "us-east-1", "public/sdk-examples"), "Allow `Principal: \"*\"` pull, no condition"),
    ("ECR101", rarn(PROD, "us-east-1", "identity/auth-service"),
     "`StringLike aws:PrincipalOrgID \"o-*\"` matches every organization: not a restriction"),
    ("ECR101 + ECR102", rarn(DEV, "us-east-1", "sandbox/hackweek-2026"),
     "anyone may push and pull (the demo's critical)"),
    ("ECR101 + ECR107", rarn(DEV, "eu-west-1", "legacy/monolith"),
     "Allow + `NotPrincipal` one role = everyone else, public pull"),
    ("ECR103", rarn(PROD, "us-east-1", "ml/model-serving"), f"account {VENDOR} (outside the org) may pull"),
    ("ECR104", rarn(DEV, "us-east-1", "team-growth/experiments"),
     f"role agency-ci-runner in {AGENCY} (outside) may push"),
    ("ECR105", rarn(PROD, "us-east-1", "payments/fraud-scorer"),
     "`lambda.amazonaws.com` may pull, no aws:SourceAccount/aws:SourceArn"),
    ("ECR106", rarn(DEV, "us-east-1", "web/storefront"),
     f"`ecr:*` granted to a role of account {SHARED} (in the org, so not ECR104)"),
    ("ECR108", rarn(SHARED, "us-east-1", "ci/runner-tools"),
     "repository policy lists `ecr:GetAuthorizationToken` (has no effect there)"),
    ("ECR103", f"`{ACCOUNT_NAMES[PROD]}` us-east-1 registry",
     f"registry policy scope V2: the registry policy lets {VENDOR} (outside) pull every repository"),
    ("ECR111", f"`{ACCOUNT_NAMES[DEV]}` us-east-1 registry",
     f"registry policy lets {LUMEN} (outside) CreateRepository + ReplicateImage"),
    ("ECR101 + ECR302 + ECR303 + ECR305", f"`{ACCOUNT_NAMES[SHARED]}` us-east-1 creation template `dockerhub`",
     "every repository the Docker Hub cache creates gets `Principal: \"*\"` pull with no condition, mutable "
     "tags, no lifecycle policy and AES256"),
    ("ECR114 + ECR302", f"`{ACCOUNT_NAMES[SHARED]}` us-east-1 creation template `ghcr`",
     f"custom role ecr-repository-creator also trusts {AGENCY} (outside); `latest` stays mutable"),
    ("ECR112", f"`{ACCOUNT_NAMES[PROD]}` eu-west-1 registry",
     f"replication rule `data/` to registry {LUMEN} eu-central-1 (outside)"),
    ("ECR201 + ECR202", f"`{ACCOUNT_NAMES[SHARED]}` user ci-bot", "AmazonEC2ContainerRegistryPowerUser"),
    ("ECR201 + ECR202", f"`{ACCOUNT_NAMES[SHARED]}` user alice.nguyen",
     "via group platform-admins: AmazonEC2ContainerRegistryFullAccess"),
    ("ECR201 + ECR202", f"`{ACCOUNT_NAMES[PROD]}` user legacy-deploy",
     "customer policy EcrLegacyAdmin: GetAuthorizationToken + `ecr:*` on `*`"),
    ("ECR201 + ECR202", f"`{ACCOUNT_NAMES[DEV]}` user ci-bot-dev", "inline `ecr:*` on `*`"),
    ("ECR201 + ECR202", f"`{ACCOUNT_NAMES[DEV]}` user dan.kowalski",
     "via group developers: PowerUser, no permissions boundary"),
    ("ECR201 + ECR202", f"`{ACCOUNT_NAMES[PROD]}`, `{ACCOUNT_NAMES[DEV]}` role OrganizationAccountAccessRole",
     "AdministratorAccess (`*` on `*` includes ECR); trusts the management account, so not ECR203"),
    ("ECR201 + ECR202 + ECR204", f"`{ACCOUNT_NAMES[DEV]}` role github-actions-legacy",
     "GitHub OIDC trust with `aud` but no `sub` condition: any GitHub repository; PowerUser"),
    ("ECR203", f"`{ACCOUNT_NAMES[PROD]}` role release-promoter",
     "trust `{\"AWS\": \"*\"}` without condition; may push payments/*"),
    ("ECR203", f"`{ACCOUNT_NAMES[DEV]}` role agency-ci-push",
     f"trusts a role of {AGENCY} (outside) without an org condition; may push team-growth/*"),
    ("ECR201 (read)", "every principal holding AmazonEC2ContainerRegistryReadOnly or PullOnly "
     "(ecr-audit-scanner, ecr-audit-readonly, vendor-image-scanner, eks-node-prod-general, eks-node-dev)",
     "GetAuthorizationToken with read on every repository; expected if ECR201 counts read access"),
]

POLICY_CLEAN = [
    (rarn(SHARED, "us-east-1", "platform/base-images/python"),
     "Principal `*` restricted by `aws:PrincipalOrgID` = the org: not public"),
    (rarn(SHARED, "us-east-1", "platform/base-images/node"),
     "Allow `{\"AWS\":\"*\"}` pull + Deny `*` unless `aws:PrincipalOrgID` = the org: not public"),
    (rarn(SHARED, "us-east-1", "platform/base-images/distroless-java"),
     f"shared with prod, dev and {ANALYTICS} (an org member that is not scanned): not external"),
    (rarn(SHARED, "us-east-1", "payments/api"), "pulled by a prod role and the dev account: same org"),
    (rarn(SHARED, "us-east-1", "web/storefront"), "Deny-only policy (push only by the CI roles)"),
    (rarn(SHARED, "us-east-1", "ci/builder"),
     "`codebuild.amazonaws.com` scoped by aws:SourceAccount + aws:SourceArn: not ECR105"),
    (rarn(PROD, "eu-west-1", "data/etl-spark"), "Principal `*` restricted by `aws:SourceVpce`: not public"),
    (f"`{ACCOUNT_NAMES[PROD]}` us-east-1 / eu-west-1 registries",
     f"registry policy lets {SHARED} (in the org) replicate: not ECR111"),
    (f"`{ACCOUNT_NAMES[DEV]}` eu-west-1 registry",
     f"registry policy lets {AGENCY}'s CI pull every repository, but the registry policy scope is V1 "
     "(only replication, pull-through import and CreateRepository): not ECR103"),
    (f"`{ACCOUNT_NAMES[SHARED]}` us-east-1 registry", "replication to its own eu-west-1 and to prod: not ECR112"),
    (f"`{ACCOUNT_NAMES[SHARED]}` roles github-actions-deploy, ecr-audit-scanner; "
     f"`{ACCOUNT_NAMES[PROD]}` github-actions-payments-deploy", "GitHub OIDC trust with exact `sub`: not ECR204"),
    (f"`{ACCOUNT_NAMES[PROD]}` role ci-promote-images",
     "trust `{\"AWS\":\"*\"}` limited by aws:PrincipalOrgID: not ECR203"),
    (f"`{ACCOUNT_NAMES[PROD]}` role vendor-image-scanner",
     f"trusts {VENDOR} with sts:ExternalId but grants read only: not ECR203"),
    (f"`{ACCOUNT_NAMES[SHARED]}` users bob.okafor, priya.raman; role codebuild-image-builder, github-actions-deploy",
     "GetAuthorizationToken on `*`, repository actions only on repository ARNs"),
    (f"`{ACCOUNT_NAMES[DEV]}` user carol.diaz",
     "PowerUser via group, but permissions boundary DevSandboxBoundary allows writes only to sandbox/*"),
    (f"`{ACCOUNT_NAMES[PROD]}` role eks-node-prod-gpu; `{ACCOUNT_NAMES[DEV]}` role sandbox-builder",
     "scoped customer policies"),
]


def short(arn):
    _, _, _, region, account, rest = arn.split(":", 5)
    return account, region, rest.split("/", 1)[1]


def render_md(inv, fired):
    out = []
    w = out.append
    repos = [(a, r, p) for a in inv["accounts"] for r in a["regions"] for p in r["repositories"]]
    n_images = sum(len(p["images"]) for _, _, p in repos)
    iam = [a["iam"] for a in inv["accounts"]]
    n_users = sum(len(i["users"]) for i in iam)
    n_groups = sum(len(i["groups"]) for i in iam)
    n_roles = sum(len(i["roles"]) for i in iam)
    n_pol = sum(len(i["policies"]) for i in iam)
    n_repo_pol = sum(1 for _, _, p in repos if p.get("policy"))
    n_reg_pol = sum(1 for a in inv["accounts"] for r in a["regions"] if r["registry"].get("policy"))
    kinds = {"index": 0, "child": 0, "referrer": 0, "untagged": 0}
    children = {c for _, _, p in repos for im in p["images"] for c in im.get("indexManifestDigests", [])}
    for _, _, p in repos:
        for im in p["images"]:
            if im.get("indexManifestDigests"):
                kinds["index"] += 1
            if im["imageDigest"] in children:
                kinds["child"] += 1
            if im.get("subjectManifestDigest"):
                kinds["referrer"] += 1
            if not im.get("imageTags"):
                kinds["untagged"] += 1
    w("# The demo organization (`ecr-audit scan --demo`)\n")
    w("Generated by `scripts/gen_demo.py` (deterministic; do not edit by hand: change the script and "
      "rerun it). The inventory is `fixtures/demo-org.json`; everything below is computed from it, "
      "except the policy-rule expectations, which are the intended outcomes the policies were written "
      "to show.\n")
    w(f"Organization `{inv['organization']['id']}` (\"Brightline\"), collected at `{inv['collectedAt']}`. "
      f"Thresholds: untagged images are stale after {STALE_UNTAGGED_DAYS} days, tagged images unused "
      f"after {UNPULLED_DAYS} days.\n")
    w("## Totals\n")
    w("| what | count |\n|---|---|")
    w(f"| accounts scanned | {len(inv['accounts'])} (of {len(inv['organization']['accounts'])} in the organization) |")
    w(f"| regions per account | {len(REGIONS)} ({', '.join(REGIONS)}) |")
    w(f"| registries | {sum(len(a['regions']) for a in inv['accounts'])} |")
    w(f"| repositories | {len(repos)} |")
    w(f"| images | {n_images} (indexes {kinds['index']}, index children {kinds['child']}, "
      f"signatures/SBOMs {kinds['referrer']}, untagged of any kind {kinds['untagged']}) |")
    w(f"| IAM users / groups / roles | {n_users} / {n_groups} / {n_roles} |")
    w(f"| managed policies (AWS + customer) | {n_pol} |")
    w(f"| repository policies / registry policies | {n_repo_pol} / {n_reg_pol} |")
    w("")
    w("Accounts: " + ", ".join(f"`{a['name']}` {a['id']}" for a in inv["accounts"]) +
      f". Also in the organization but not scanned: `{ACCOUNT_NAMES[ANALYTICS]}` {ANALYTICS}, "
      f"`{ACCOUNT_NAMES[SECURITY]}` {SECURITY} (its registries are the upstream of the pull-through caches "
      f"`dockerhub/`, `ghcr/` and `quay/`). Outside the organization: {VENDOR} (image-scanning / "
      f"model-hosting vendor), {AGENCY} (contractor agency CI), {LUMEN} (acquired company, not yet "
      f"migrated).\n")
    w("## Configuration and image rules, per repository\n")
    w("Computed by the reference evaluation in `scripts/gen_demo.py`. A rule listed fires on that "
      "repository; every rule fires on some repositories and not on others.\n")
    w("| account | region | repository | images | fires | why (image rules) |")
    w("|---|---|---|---|---|---|")
    order = ["ECR301", "ECR302", "ECR303", "ECR304", "ECR305", "ECR307", "ECR401", "ECR402", "ECR403", "ECR404"]
    for a, r, p in repos:
        arn = p["repositoryArn"]
        rules = [k for k in order if arn in fired[k]]
        why = "; ".join(f"{k}: {fired[k][arn]}" for k in ("ECR304", "ECR401", "ECR402", "ECR403") if arn in fired[k])
        w(f"| {a['name']} | {r['region']} | `{p['repositoryName']}` | {len(p['images'])} | "
          f"{', '.join(rules) or '—'} | {why} |")
    w("")
    w("| rule | fires on | clean on |\n|---|---|---|")
    for k in order:
        w(f"| {k} | {len(fired[k])} | {len(repos) - len(fired[k])} |")
    w("")
    py = next(p for a, r, p in repos if a["id"] == SHARED and r["region"] == "us-east-1"
              and p["repositoryName"] == "platform/base-images/python")
    py_untagged = [i for i in py["images"] if not i.get("imageTags")]
    oldest = max((COLLECTED_AT - parse_time(i["imagePushedAt"])).days for i in py_untagged)
    w(f"Notable non-firing examples: `platform/base-images/python` (shared, us-east-1) holds "
      f"{len(py_untagged)} untagged images, all index children, signatures or SBOMs, the oldest "
      f"{oldest} days old, and must not fire ECR401; its replica in eu-west-1 likewise. "
      "`platform/base-images/node` expires untagged images at exactly 14 "
      "days (ECR304 clean at the boundary). `sandbox/hackweek-2026` starts its lifecycle with "
      "`tagStatus: any`, 14 days (ECR304 clean), and its untagged images (moved `team-*-latest` tags) "
      "are all younger than 14 days (ECR401 clean). `web/checkout-bff` has an older image with "
      "CRITICAL findings but its latest image is clean (ECR403 clean). Repositories covered only by a registry scanning "
      "rule (`platform/*` replicas in eu-west-1, prod `payments/*`, `web/*`) are ECR301 clean; the dev "
      "us-east-1 rule `prod-*` matches nothing.\n")
    w("## Policy rules (intended outcomes)\n")
    w("| rule(s) | resource | why |\n|---|---|---|")
    for rule, res, why in POLICY_EXPECT:
        w(f"| {rule} | {res} | {why} |")
    w("")
    w("### Must not be flagged\n")
    w("| resource | why it is safe |\n|---|---|")
    for res, why in POLICY_CLEAN:
        w(f"| {res} | {why} |")
    w("")
    return "\n".join(out)


def check_claims(inv, fired):
    """The prose of demo-org.md names a few non-firing examples: keep it true."""
    repos = {(a["id"], r["region"], p["repositoryName"]): p
             for a in inv["accounts"] for r in a["regions"] for p in r["repositories"]}

    def arn(a, r, n):
        return repos[(a, r, n)]["repositoryArn"]

    def must(cond, what):
        if not cond:
            raise SystemExit("demo-org.md claim no longer holds: " + what)

    for region in REGIONS:
        p = arn(SHARED, region, "platform/base-images/python")
        must(p not in fired["ECR401"], f"python ({region}) ECR401 clean")
        imgs = repos[(SHARED, region, "platform/base-images/python")]["images"]
        must(any(not i.get("imageTags") and COLLECTED_AT - parse_time(i["imagePushedAt"]) > dt.timedelta(days=300)
                 for i in imgs) or region == "eu-west-1", "python has year-old untagged children")
    must(arn(SHARED, "us-east-1", "platform/base-images/node") not in fired["ECR304"], "node ECR304 clean")
    must(arn(DEV, "us-east-1", "sandbox/hackweek-2026") not in fired["ECR304"], "hackweek ECR304 clean")
    bff = repos[(PROD, "us-east-1", "web/checkout-bff")]
    must(bff["repositoryArn"] not in fired["ECR403"], "checkout-bff ECR403 clean")
    must(any((i.get("imageScanFindingsSummary") or {}).get("findingSeverityCounts", {}).get("CRITICAL")
             for i in bff["images"]), "checkout-bff has an older CRITICAL image")
    for key in [(DEV, "us-east-1", "sandbox/hackweek-2026")]:
        imgs = repos[key]["images"]
        must(any(not i.get("imageTags") for i in imgs), f"{key[2]} has untagged images")
        must(repos[key]["repositoryArn"] not in fired["ECR401"], f"{key[2]} ECR401 clean")
    must(arn(DEV, "us-east-1", "payments/api") not in fired["ECR301"], "dev payments/api covered by scanOnPush")
    for a, r, n in [(SHARED, "eu-west-1", "platform/base-images/node"), (PROD, "us-east-1", "payments/api"),
                    (PROD, "us-east-1", "web/checkout-bff")]:
        must(not repos[(a, r, n)]["imageScanningConfiguration"]["scanOnPush"]
             and arn(a, r, n) not in fired["ECR301"], f"{n} covered by a registry rule only")


def dump(inv):
    return json.dumps(inv, indent=1) + "\n"


def main(argv):
    inv = build_inventory()
    errs = validate(inv)
    if errs:
        raise SystemExit("demo inventory does not match src/inventory.rs:\n  " + "\n  ".join(errs[:30]))
    fired = evaluate(inv, strict403=True)
    n_repos = sum(len(r["repositories"]) for a in inv["accounts"] for r in a["regions"])
    for k, v in fired.items():
        if not v or len(v) == n_repos:
            raise SystemExit(f"{k} must fire on some repositories and not on others ({len(v)}/{n_repos})")
    check_claims(inv, fired)
    text, md = dump(inv), render_md(inv, fired)
    if "--check" in argv:
        ok = True
        for path, want in ((OUT_JSON, text), (OUT_MD, md)):
            have = open(path).read() if os.path.exists(path) else None
            if have != want:
                print(f"{os.path.relpath(path, ROOT)} is out of date: rerun scripts/gen_demo.py")
                ok = False
        ok = check_fixtures() and ok
        return 0 if ok else 1
    with open(OUT_JSON, "w") as f:
        f.write(text)
    with open(OUT_MD, "w") as f:
        f.write(md)
    n_images = sum(len(p["images"]) for a in inv["accounts"] for r in a["regions"] for p in r["repositories"])
    print(f"wrote {os.path.relpath(OUT_JSON, ROOT)}: {len(inv['accounts'])} accounts, {n_repos} repositories, "
          f"{n_images} images, {len(text) // 1024} KiB")
    for k, v in fired.items():
        print(f"  {k}: {len(v)}/{n_repos}")
    return 0


def check_fixtures():
    """Validate fixtures/inventories/*.json and compare the README table's
    expectations with the reference evaluation."""
    readme = os.path.join(FIXTURE_DIR, "README.md")
    if not os.path.exists(readme):
        return True
    expect = {}
    for line in open(readme):
        m = re.match(r"^\|\s*`([^`]+\.json)`\s*\|\s*(ECR\d+)\s*\|\s*(fires|clean)\s*\|([^|]*)\|([^|]*)\|", line)
        if m:
            res = [x.strip().strip("`") for x in m.group(4).split(",") if x.strip() and x.strip() != "—"]
            also = sorted(set(re.findall(r"ECR\d+", m.group(5))))
            expect[m.group(1)] = (m.group(2), m.group(3), sorted(res), also)
    ok = True
    files = sorted(f for f in os.listdir(FIXTURE_DIR) if f.endswith(".json"))
    for f in files:
        inv = json.load(open(os.path.join(FIXTURE_DIR, f)))
        errs = validate(inv)
        if errs:
            print(f"{f}: " + "; ".join(errs[:5]))
            ok = False
            continue
        if f not in expect:
            print(f"{f}: not listed in README.md")
            ok = False
            continue
        rule, mode, res, also = expect[f]
        fired = evaluate(inv, strict403=True)
        others = sorted(k for k, v in fired.items() if v and k != rule)
        if others != also:
            print(f"{f}: other rules firing {others}, README's 'also fires' says {also}")
            ok = False
        got = sorted(short(a)[2] for a in fired[rule])
        if mode == "clean" and got:
            print(f"{f}: {rule} fires on {got} but the file is -clean-")
            ok = False
        if mode == "fires" and got != res:
            print(f"{f}: {rule} fires on {got}, README says {res}")
            ok = False
        if not f.startswith(rule.lower() + "-" + mode + "-"):
            print(f"{f}: name does not start with {rule.lower()}-{mode}-")
            ok = False
    bad_dir = os.path.join(FIXTURE_DIR, "bad")
    for f in sorted(os.listdir(bad_dir)) if os.path.isdir(bad_dir) else []:
        try:
            errs = validate(json.load(open(os.path.join(bad_dir, f))))
        except ValueError:
            errs = ["not JSON"]
        if not errs:
            print(f"bad/{f} is a valid inventory")
            ok = False
    for f in expect:
        if f not in files:
            print(f"README.md lists {f}, which does not exist")
            ok = False
    print(f"checked {len(files)} fixture inventories" + ("" if ok else " (FAILED)"))
    return ok


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
