#!/usr/bin/env python3
"""Writes a generated organization's inventory for scale benchmarks.

usage: gen_org.py SIZE [options] > inventory.json
       gen_org.py --accounts N --repos N ... > inventory.json

SIZE is a preset (options after it override its values):

  small   5 accounts x 2 regions x 100 repositories (1,000), 20,000 images, 500 roles
  medium  10 accounts x 2 regions x 500 repositories (10,000), 200,000 images, 2,000 roles
  large   50 accounts x 2 regions x 1,000 repositories (100,000), 2,000,000 images, 10,000 roles

It looks like an organization, not like one policy copied 100,000 times:
each account templates its own partner accounts, CI role names and source
ARNs into its policies, and --variety (default 0.3) is the fraction of
repositories whose policy text is their own (a partner account or a CI role
of that repository), so the large size has thousands of distinct documents.
Lifecycle policies vary by team; images come as single manifests, image
indexes with their children, signatures referring to a manifest, untagged
leftovers, pulled and never-pulled, scanned or not. Roles: CI roles trusted
by a web-identity provider with a subject condition, deploy roles trusted
by the account, partner roles trusted by a partner account, each with an
identity policy of its own names.

Deterministic: the same arguments give the same bytes.
"""
import argparse
import datetime
import hashlib
import json
import sys

PRESETS = {
    "small": dict(accounts=5, regions=2, repos=100, images=20, roles=100),
    "medium": dict(accounts=10, regions=2, repos=500, images=20, roles=200),
    "large": dict(accounts=50, regions=2, repos=1000, images=20, roles=200),
}
REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"]
AS_OF = datetime.datetime(2026, 11, 20, 6, 0, 0)
ORG = "o-bench00001"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
COSIGN = "application/vnd.dev.cosign.artifact.sig.v1+json"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("size", nargs="?", choices=sorted(PRESETS), default="small")
    p.add_argument("--accounts", type=int)
    p.add_argument("--regions", type=int, help="regions per account (at most 4)")
    p.add_argument("--repos", type=int, help="repositories per region")
    p.add_argument("--images", type=int, help="images per repository (on average)")
    p.add_argument("--roles", type=int, help="IAM roles per account")
    p.add_argument("--variety", type=float, default=0.3,
                   help="fraction of repositories whose policy text is their own")
    args = p.parse_args()
    chosen = dict(PRESETS[args.size])
    for key in chosen:
        if getattr(args, key) is not None:
            chosen[key] = getattr(args, key)
    chosen["regions"] = min(chosen["regions"], len(REGIONS))
    chosen["variety"] = args.variety
    return chosen


def h(*parts):
    return int(hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()[:12], 16)


def digest(*parts):
    return "sha256:" + hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()


def day(n):
    return (AS_OF - datetime.timedelta(days=n)).strftime("%Y-%m-%dT%H:%M:%SZ")


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, separators=(",", ":"))


PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
PUSH = PULL + ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"]


def partner(acct, n):
    """A partner account outside the organization, per account and index."""
    return f"{900000000000 + h('partner', acct, n) % 99999999999:012d}"


def repository_policy(acct, team, r, variety_pick, variety):
    """The policy text of repository r, or None; per-repository text for a
    `variety` share of the repositories with a policy."""
    kind = h("kind", acct, r) % 10
    own = variety_pick < variety
    if kind <= 1:
        return None
    if kind == 2:  # the organization pulls
        return doc({"Sid": "OrgPull", "Effect": "Allow", "Principal": "*", "Action": PULL,
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}})
    if kind == 3:  # a partner pulls: per account, or per repository
        who = partner(acct, r if own else team)
        return doc({"Sid": "PartnerPull", "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{who}:root"}, "Action": PULL})
    if kind == 4:  # CI pushes: the team's role, or the repository's own
        role = f"ci-{team}-repo{r}-push" if own else f"ci-{team}-push"
        return doc({"Sid": "CiPush", "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{acct}:role/{role}"}, "Action": PUSH})
    if kind == 5:  # Lambda pulls for the owner's own functions
        fn = f"svc-{team}-{r}-*" if own else "svc-*"
        return doc({"Sid": "LambdaPull", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    "Condition": {"StringLike": {"aws:SourceArn": f"arn:aws:lambda:*:{acct}:function:{fn}"}}})
    if kind == 6:  # CodeBuild of the owner account
        return doc({"Sid": "CodeBuild", "Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"},
                    "Action": PULL, "Condition": {"StringEquals": {"aws:SourceAccount": acct}}})
    if kind == 7:  # partner pull plus org pull, with a deny for everyone else
        who = partner(acct, r if own else team)
        return doc({"Sid": "PartnerPull", "Effect": "Allow",
                    "Principal": {"AWS": [f"arn:aws:iam::{who}:root", f"arn:aws:iam::{acct}:root"]},
                    "Action": PULL},
                   {"Sid": "NoPushFromOutside", "Effect": "Deny", "Principal": "*", "Action": PUSH[3:],
                    "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": ORG}}})
    if kind == 8:  # a public repository (rare): anyone pulls
        if h("public", acct, r) % 20:
            return doc({"Sid": "OrgPull", "Effect": "Allow", "Principal": "*", "Action": PULL,
                        "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}})
        return doc({"Sid": "PublicPull", "Effect": "Allow", "Principal": "*", "Action": PULL})
    # a NotPrincipal grant: everyone but the account's deployer
    return doc({"Sid": "AllButDeployer", "Effect": "Allow",
                "NotPrincipal": {"AWS": f"arn:aws:iam::{acct}:role/deploy-{team}"},
                "Action": "ecr:BatchGetImage"})


def lifecycle(team, r):
    kind = h("lifecycle", team, r) % 5
    if kind == 0:
        return None
    untagged = {"rulePriority": 1, "description": "untagged",
                "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                              "countUnit": "days", "countNumber": [7, 14, 30][kind % 3]},
                "action": {"type": "expire"}}
    releases = {"rulePriority": 2, "description": "releases",
                "selection": {"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan",
                              "countNumber": 20 + 10 * (team % 5)},
                "action": {"type": "expire"}}
    rules = [untagged, releases] if kind != 4 else [releases]
    return json.dumps({"rules": rules}, separators=(",", ":"))


def images(acct, region, r, count):
    out = []
    i = 0
    while len(out) < count:
        seed = (acct, region, r, i)
        shape = h("shape", *seed) % 10
        pushed = h("pushed", *seed) % 400
        pulled = None if h("pulled", *seed) % 3 == 0 else day(max(0, pushed - h("pull", *seed) % 60))
        scan = {"imageScanStatus": {"status": "COMPLETE"},
                "imageScanFindingsSummary": {"findingSeverityCounts":
                    {k: v for k, v in (("CRITICAL", h("c", *seed) % 4 // 3), ("HIGH", h("hi", *seed) % 5),
                                       ("MEDIUM", h("m", *seed) % 9)) if v}}} if shape % 2 == 0 else {}
        base = {"imagePushedAt": day(pushed), "imageSizeInBytes": 20_000_000 + h("size", *seed) % 400_000_000}
        if pulled:
            base["lastRecordedPullTime"] = pulled
        if shape == 0 and len(out) + 3 <= count:  # an index and its two children
            children = [digest("child", *seed, n) for n in range(2)]
            out.append(dict(base, imageDigest=digest("index", *seed), imageTags=[f"v1.{i}.0"],
                            imageManifestMediaType=OCI_INDEX, indexManifestDigests=children, **scan))
            for c in children:
                out.append(dict(base, imageDigest=c, imageTags=[], imageManifestMediaType=OCI_MANIFEST))
        elif shape == 1 and out:  # a signature of the previous image
            subject = out[-1]["imageDigest"]
            out.append(dict(base, imageDigest=digest("sig", *seed), imageTags=[subject.replace(":", "-") + ".sig"],
                            imageManifestMediaType=OCI_MANIFEST, artifactMediaType=COSIGN,
                            subjectManifestDigest=subject))
        elif shape in (2, 3):  # an untagged leftover
            out.append(dict(base, imageDigest=digest("img", *seed), imageTags=[],
                            imageManifestMediaType=DOCKER_MANIFEST, **scan))
        else:
            tags = [f"v1.{i}.0"] + (["latest"] if i == 0 else [])
            out.append(dict(base, imageDigest=digest("img", *seed), imageTags=tags,
                            imageManifestMediaType=OCI_MANIFEST, **scan))
        i += 1
    return out


def roles(acct, count):
    out = []
    for n in range(count):
        team = n % 25
        kind = n % 4
        if kind == 0:  # CI through GitHub's OIDC provider, limited to the team's repository
            trust = doc({"Effect": "Allow",
                         "Principal": {"Federated": f"arn:aws:iam::{acct}:oidc-provider/token.actions.githubusercontent.com"},
                         "Action": "sts:AssumeRoleWithWebIdentity",
                         "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                                       "StringLike": {"token.actions.githubusercontent.com:sub": f"repo:example/team-{team}-svc{n}:*"}}})
            name = f"ci-team-{team}-push-{n}"
        elif kind == 1:  # deploy roles the account's own principals assume
            trust = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{acct}:root"},
                         "Action": "sts:AssumeRole"})
            name = f"deploy-team-{team}-{n}"
        elif kind == 2:  # a partner's role, with an external id
            trust = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{partner(acct, n)}:root"},
                         "Action": "sts:AssumeRole",
                         "Condition": {"StringEquals": {"sts:ExternalId": f"ext-{h('ext', acct, n) % 10**8}"}}})
            name = f"partner-reader-{n}"
        else:  # a service role
            trust = doc({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                         "Action": "sts:AssumeRole",
                         "Condition": {"StringEquals": {"aws:SourceAccount": acct}}})
            name = f"task-team-{team}-{n}"
        actions = PUSH if kind == 0 else PULL
        resource = f"arn:aws:ecr:*:{acct}:repository/team-{team}/*"
        policy = doc({"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
                     {"Effect": "Allow", "Action": actions, "Resource": resource})
        out.append({"roleName": name, "arn": f"arn:aws:iam::{acct}:role/{name}",
                    "roleId": f"AROA{h('id', acct, n) % 10**16:016d}", "path": "/",
                    "assumeRolePolicyDocument": trust,
                    "inlinePolicies": [{"policyName": "ecr", "policyDocument": policy}]})
    return out


def main():
    o = parse_args()
    accounts = [f"{100000000000 + a}" for a in range(o["accounts"])]
    w = sys.stdout.write
    head = {"format": "ecr-audit/inventory/v1", "collectedAt": AS_OF.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "collector": "benches/gen_org.py",
            "organization": {"id": ORG, "managementAccountId": accounts[0],
                             "accounts": [{"id": a, "name": f"acct-{n}", "status": "ACTIVE"}
                                          for n, a in enumerate(accounts)]}}
    # Written account by account: the large size never sits in memory whole.
    w(json.dumps(head, separators=(",", ":"))[:-1] + ',"accounts":[')
    for n, acct in enumerate(accounts):
        if n:
            w(",")
        w('{"id":"%s","iam":%s,"regions":[' % (acct, json.dumps({"roles": roles(acct, o["roles"])}, separators=(",", ":"))))
        for g, region in enumerate(REGIONS[:o["regions"]]):
            if g:
                w(",")
            w('{"region":"%s","registry":{},"repositories":[' % region)
            for r in range(o["repos"]):
                team = r % 50
                name = f"team-{team}/service-{r}"
                repo = {"repositoryName": name, "repositoryArn": f"arn:aws:ecr:{region}:{acct}:repository/{name}",
                        "registryId": acct,
                        "imageTagMutability": "MUTABLE" if r % 3 else "IMMUTABLE",
                        "imageScanningConfiguration": {"scanOnPush": r % 2 == 0},
                        "images": images(acct, region, r, o["images"])}
                policy = repository_policy(acct, team, r, (h("variety", acct, r) % 1000) / 1000, o["variety"])
                if policy is not None:
                    repo["policy"] = policy
                rules = lifecycle(team, r)
                if rules is not None:
                    repo["lifecyclePolicy"] = rules
                if r:
                    w(",")
                w(json.dumps(repo, separators=(",", ":")))
            w("]}")
        w("]}")
    w("]}\n")


if __name__ == "__main__":
    main()
