#!/usr/bin/env python3
"""Writes a generated inventory of a given size for scan benchmarks.

usage: gen_inventory.py ACCOUNTS REPOS_PER_REGION IMAGES_PER_REPO > inventory.json

Two regions per account, a handful of distinct repository policies reused
across repositories (as organizations do), 40 IAM roles per account.
Deterministic: the same arguments give the same file.
"""
import datetime
import hashlib
import json
import sys

accounts, repos_per_region, images_per_repo = (int(a) for a in sys.argv[1:4])
AS_OF = "2026-11-20T06:00:00Z"

def digest(seed):
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()

def day(n):
    # n days before AS_OF, as an RFC 3339 time (real calendar dates only).
    t = datetime.datetime(2026, 11, 20, 6, 0, 0) - datetime.timedelta(days=n)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")

POLICIES = [
    None,
    {"Version": "2012-10-17", "Statement": [{"Sid": "OrgPull", "Effect": "Allow", "Principal": "*",
      "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
      "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-bench00001"}}}]},
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
      "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]}]},
    {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "*", "Action": "ecr:*"}},
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111111111111:root"},
      "Action": "ecr:BatchGetImage"},
      {"Effect": "Deny", "Principal": "*", "Action": "ecr:*",
       "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-bench00001"}}}]},
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"},
      "Action": ["ecr:BatchGetImage"], "Condition": {"StringLike": {"aws:SourceAccount": "*"}}}]},
]
LIFECYCLE = json.dumps({"rules": [{"rulePriority": 1, "selection": {"tagStatus": "untagged",
    "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7}, "action": {"type": "expire"}}]})
ROLE_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Action": ["ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:PutImage"], "Resource": "*"}]})

out = {"format": "ecr-audit/inventory/v1", "collectedAt": AS_OF,
       "organization": {"id": "o-bench00001", "managementAccountId": "100000000000",
                        "accounts": [{"id": f"{100000000000 + a}", "name": f"acct-{a}", "status": "ACTIVE"} for a in range(accounts)]},
       "accounts": []}
for a in range(accounts):
    acct = f"{100000000000 + a}"
    regions = []
    for region in ["us-east-1", "eu-west-1"]:
        repos = []
        for r in range(repos_per_region):
            name = f"team-{r % 50}/service-{r}"
            policy = POLICIES[r % len(POLICIES)]
            images = []
            for i in range(images_per_repo):
                images.append({"imageDigest": digest(f"{acct}{region}{r}{i}"),
                               "imageTags": [] if i % 4 == 3 else [f"v1.{i}.0"],
                               "imagePushedAt": day(i * 3 % 400), "imageSizeInBytes": 50_000_000 + i,
                               "imageScanFindingsSummary": {"findingSeverityCounts": {"HIGH": i % 3}}})
            repo = {"repositoryName": name, "repositoryArn": f"arn:aws:ecr:{region}:{acct}:repository/{name}",
                    "imageTagMutability": "MUTABLE" if r % 3 else "IMMUTABLE",
                    "imageScanningConfiguration": {"scanOnPush": r % 2 == 0},
                    "images": images}
            if policy is not None:
                repo["policy"] = json.dumps(policy)
            if r % 5:
                repo["lifecyclePolicy"] = LIFECYCLE
            repos.append(repo)
        regions.append({"region": region, "registry": {}, "repositories": repos})
    roles = [{"roleName": f"role-{n}", "arn": f"arn:aws:iam::{acct}:role/role-{n}",
              "assumeRolePolicyDocument": json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                  "Principal": {"AWS": f"arn:aws:iam::{acct}:root"}, "Action": "sts:AssumeRole"}]}),
              "inlinePolicies": [{"policyName": "ecr", "policyDocument": ROLE_POLICY}]} for n in range(40)]
    out["accounts"].append({"id": acct, "iam": {"roles": roles}, "regions": regions})
json.dump(out, sys.stdout)
