"""Worlds the live tests scan. Each seed builds its world through the AWS API
(boto3 against the harness' own endpoint), sets in-process what the API cannot
(past push times, pulls, scan findings; see extensions.py), and answers with
the facts a complete collection must find, in a shape the Rust tests compare
with the inventory (see tests/it/support.rs).
"""

import hashlib
import json
import time

import boto3

import extensions

MANAGEMENT = "123456789012"  # moto's default account: the caller
REGIONS = ["us-east-1", "eu-west-1"]
DAY = 86400


def seed(endpoint, command):
    world = command.get("world")
    if world == "org":
        return OrgWorld(endpoint).build()
    if world == "small":
        return seed_small(endpoint)
    if world == "auditor":
        return seed_auditor(endpoint, command["policy"], command.get("deny", []))
    if world == "bulk":
        return seed_bulk(int(command.get("repositories", 50)), int(command.get("images", 200)))
    raise ValueError(f"unknown world {world!r}")


def client(endpoint, service, region, credentials=None):
    keys = credentials or {"AccessKeyId": "testing", "SecretAccessKey": "testing"}
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys.get("SessionToken"),
    )


def image_manifest(name, size):
    """A Docker v2 image manifest; its config.size is what moto reports as
    imageSizeInBytes. Returns (manifest text, digest)."""
    config_digest = "sha256:" + hashlib.sha256(f"config {name}".encode()).hexdigest()
    layer_digest = "sha256:" + hashlib.sha256(f"layer {name}".encode()).hexdigest()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": size,
                "digest": config_digest,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": size * 10,
                    "digest": layer_digest,
                }
            ],
        },
        sort_keys=True,
    )
    return manifest, "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()


def index_manifest(children):
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                    "digest": digest,
                    "size": 500,
                    "platform": {"architecture": arch, "os": "linux"},
                }
                for arch, digest in children
            ],
        },
        sort_keys=True,
    )
    return manifest, "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()


def policy(statements):
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


PULL_ACTIONS = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]

LIFECYCLE = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "description": "expire untagged images after 14 days",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": 14,
                },
                "action": {"type": "expire"},
            }
        ]
    }
)


class OrgWorld:
    """An organization of three accounts (the caller is its management
    account) × two regions, with every kind of resource the inventory holds."""

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.now = int(time.time())
        self.expected = {"accounts": {}}

    # -- bookkeeping of what a complete collection must find ---------------

    def account(self, account_id):
        return self.expected["accounts"].setdefault(
            account_id, {"regions": {r: {"registry": {"accountSettings": dict(extensions.ACCOUNT_SETTING_DEFAULTS)},
                                         "repositories": {}} for r in REGIONS}, "iam": {}}
        )

    def repo_facts(self, account_id, region, name):
        return self.account(account_id)["regions"][region]["repositories"][name]

    # -- building ----------------------------------------------------------

    def build(self):
        org = client(self.endpoint, "organizations", "us-east-1")
        organization = org.create_organization(FeatureSet="ALL")["Organization"]
        dev = org.create_account(Email="dev@example.com", AccountName="dev")["CreateAccountStatus"]["AccountId"]
        prod = org.create_account(Email="prod@example.com", AccountName="prod")["CreateAccountStatus"]["AccountId"]
        self.ids = {"management": MANAGEMENT, "dev": dev, "prod": prod}
        self.org_id = organization["Id"]

        creds = {MANAGEMENT: None}
        sts = client(self.endpoint, "sts", "us-east-1")
        for account_id in (dev, prod):
            creds[account_id] = sts.assume_role(
                RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
                RoleSessionName="seed",
            )["Credentials"]
        self.creds = creds
        for account_id in (MANAGEMENT, dev, prod):
            self.account(account_id)

        self.seed_management()
        self.seed_dev()
        self.seed_prod()
        for account_id in (dev, prod):
            self.record_existing_role(account_id, "OrganizationAccountAccessRole")

        accounts = org.list_accounts()["Accounts"]
        self.expected["organization"] = {
            "id": self.org_id,
            "managementAccountId": MANAGEMENT,
            "accounts": sorted(a["Id"] for a in accounts),
        }
        self.expected["ids"] = self.ids
        self.expected["now"] = self.now
        return self.expected

    def ecr(self, account_id, region):
        return client(self.endpoint, "ecr", region, self.creds[account_id])

    def iam(self, account_id):
        return client(self.endpoint, "iam", "us-east-1", self.creds[account_id])

    def repository(self, account_id, region, name, mutability="MUTABLE", scan_on_push=False,
                   kms_key=None, tags=None, repo_policy=None, lifecycle=None, exclusions=None):
        ecr = self.ecr(account_id, region)
        args = {
            "repositoryName": name,
            "imageTagMutability": mutability,
            "imageScanningConfiguration": {"scanOnPush": scan_on_push},
        }
        if exclusions:
            args["imageTagMutabilityExclusionFilters"] = [
                {"filterType": "WILDCARD", "filter": f} for f in exclusions]
        if kms_key:
            args["encryptionConfiguration"] = {"encryptionType": "KMS", "kmsKey": kms_key}
        if tags:
            args["tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        ecr.create_repository(**args)
        if repo_policy:
            ecr.set_repository_policy(repositoryName=name, policyText=repo_policy)
        if lifecycle:
            ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=lifecycle)
        self.account(account_id)["regions"][region]["repositories"][name] = {
            "imageTagMutability": mutability,
            "exclusions": list(exclusions or []),
            "scanOnPush": scan_on_push,
            "encryptionType": "KMS" if kms_key else "AES256",
            "kmsKey": kms_key,
            "tags": dict(sorted((tags or {}).items())),
            "policy": json.loads(repo_policy) if repo_policy else None,
            "lifecyclePolicy": json.loads(lifecycle) if lifecycle else None,
            "images": {},
        }

    def image(self, account_id, region, repo, name, tag=None, size=1000, pushed_days_ago=None,
              pulled_days_ago=None, findings=None, archived_days_ago=None):
        manifest, digest = image_manifest(f"{account_id}/{region}/{repo}/{name}", size)
        args = {"repositoryName": repo, "imageManifest": manifest, "imageDigest": digest}
        if tag:
            args["imageTag"] = tag
        self.ecr(account_id, region).put_image(**args)
        self.backdate(account_id, region, repo, digest, pushed_days_ago, pulled_days_ago, findings)
        if archived_days_ago is not None:
            extensions.set_image_attributes(account_id, region, repo, digest,
                                            archived_at=self.now - archived_days_ago * DAY)
        self.repo_facts(account_id, region, repo)["images"][digest] = {
            "tags": [tag] if tag else [],
            "size": size,
            "pushedAt": self.now - pushed_days_ago * DAY if pushed_days_ago is not None else None,
            "lastPull": self.now - pulled_days_ago * DAY if pulled_days_ago is not None else None,
            "findings": dict(findings) if findings else None,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "children": [],
        }
        if archived_days_ago is not None:
            # Present only on archived images.
            self.repo_facts(account_id, region, repo)["images"][digest]["status"] = "ARCHIVED"
        return digest

    def signature(self, account_id, region, repo, subject, pushed_days_ago=None):
        """An untagged artifact (a cosign-style signature) referring to
        `subject`; moto cannot store one, so the attributes are set on it."""
        digest = self.image(account_id, region, repo, f"sig-{subject}", size=300,
                            pushed_days_ago=pushed_days_ago)
        media_type = "application/vnd.dev.cosign.artifact.sig.v1+json"
        extensions.set_image_attributes(account_id, region, repo, digest,
                                        artifact_media_type=media_type, subject=subject)
        facts = self.repo_facts(account_id, region, repo)["images"][digest]
        facts["artifactMediaType"] = media_type
        facts["subject"] = subject
        return digest

    def index(self, account_id, region, repo, tag, children, pushed_days_ago=None):
        manifest, digest = index_manifest(children)
        self.ecr(account_id, region).put_image(
            repositoryName=repo, imageManifest=manifest, imageDigest=digest, imageTag=tag
        )
        self.backdate(account_id, region, repo, digest, pushed_days_ago, None, None)
        self.repo_facts(account_id, region, repo)["images"][digest] = {
            "tags": [tag],
            "size": None,
            "pushedAt": self.now - pushed_days_ago * DAY if pushed_days_ago is not None else None,
            "lastPull": None,
            "findings": None,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "children": sorted(d for _, d in children),
        }
        return digest

    def backdate(self, account_id, region, repo, digest, pushed_days_ago, pulled_days_ago, findings):
        extensions.set_image_attributes(
            account_id,
            region,
            repo,
            digest,
            pushed_at=self.now - pushed_days_ago * DAY if pushed_days_ago is not None else None,
            last_pull=self.now - pulled_days_ago * DAY if pulled_days_ago is not None else None,
            findings=findings,
        )

    def registry(self, account_id, region, registry_policy=None, replication=None, scanning=None,
                 pull_through=None, settings=None, templates=None, signing=None):
        ecr = self.ecr(account_id, region)
        facts = self.account(account_id)["regions"][region]["registry"]
        # The policy first, under the default scope (V2): a registry
        # reverted to V1 afterwards keeps a policy written for V2.
        if registry_policy:
            ecr.put_registry_policy(policyText=registry_policy)
            facts["policy"] = json.loads(registry_policy)
        for name, value in (settings or {}).items():
            ecr.put_account_setting(name=name, value=value)
            facts["accountSettings"][name] = value
        if replication:
            ecr.put_replication_configuration(replicationConfiguration={"rules": replication})
            facts["replicationDestinations"] = sorted(
                f"{d['registryId']}/{d['region']}" for rule in replication for d in rule["destinations"]
            )
        if scanning:
            ecr.put_registry_scanning_configuration(**scanning)
            facts["scanType"] = scanning["scanType"]
        for rule in pull_through or []:
            extensions.add_pull_through_cache_rule(account_id, region, dict(rule, registryId=account_id))
            facts.setdefault("pullThroughCacheRules", []).append(rule["ecrRepositoryPrefix"])
        for template in templates or []:
            extensions.add_creation_template(account_id, region, template)
            facts.setdefault("creationTemplates", []).append(template["prefix"])
        if signing:
            extensions.set_signing_configuration(account_id, region, signing)
            facts["signingProfiles"] = [rule["signingProfileArn"] for rule in signing["rules"]]

    def principals(self, account_id, users=(), groups=(), roles=(), policies=()):
        """Creates IAM principals; each entry is a dict of the create call's
        arguments plus `inline` (name -> document), `attach` (policy names of
        this account's managed policies) and, for users, `groups`."""
        iam = self.iam(account_id)
        arns = {}
        facts = self.account(account_id)["iam"]
        for p in policies:
            arn = iam.create_policy(PolicyName=p["name"], PolicyDocument=p["versions"][0])["Policy"]["Arn"]
            for document in p["versions"][1:]:
                iam.create_policy_version(PolicyArn=arn, PolicyDocument=document, SetAsDefault=True)
            arns[p["name"]] = arn
            facts.setdefault("policies", {})[p["name"]] = json.loads(p["versions"][-1])
        for g in groups:
            iam.create_group(GroupName=g["name"])
            for name, document in g.get("inline", {}).items():
                iam.put_group_policy(GroupName=g["name"], PolicyName=name, PolicyDocument=document)
            for name in g.get("attach", []):
                iam.attach_group_policy(GroupName=g["name"], PolicyArn=arns[name])
            facts.setdefault("groups", {})[g["name"]] = {
                "inline": {k: json.loads(v) for k, v in g.get("inline", {}).items()},
                "attached": sorted(g.get("attach", [])),
            }
        for u in users:
            iam.create_user(UserName=u["name"])
            for name, document in u.get("inline", {}).items():
                iam.put_user_policy(UserName=u["name"], PolicyName=name, PolicyDocument=document)
            for name in u.get("attach", []):
                iam.attach_user_policy(UserName=u["name"], PolicyArn=arns[name])
            for group in u.get("groups", []):
                iam.add_user_to_group(GroupName=group, UserName=u["name"])
            facts.setdefault("users", {})[u["name"]] = {
                "inline": {k: json.loads(v) for k, v in u.get("inline", {}).items()},
                "attached": sorted(u.get("attach", [])),
                "groups": sorted(u.get("groups", [])),
            }
        for r in roles:
            iam.create_role(RoleName=r["name"], AssumeRolePolicyDocument=r["trust"])
            for name, document in r.get("inline", {}).items():
                iam.put_role_policy(RoleName=r["name"], PolicyName=name, PolicyDocument=document)
            for name in r.get("attach", []):
                iam.attach_role_policy(RoleName=r["name"], PolicyArn=arns[name])
            facts.setdefault("roles", {})[r["name"]] = {
                "trust": json.loads(r["trust"]),
                "inline": {k: json.loads(v) for k, v in r.get("inline", {}).items()},
                "attached": sorted(r.get("attach", [])),
            }

    def record_existing_role(self, account_id, name):
        """A role the organization made (as AWS does when it creates an
        account): part of what a collection must find."""
        iam = self.iam(account_id)
        role = iam.get_role(RoleName=name)["Role"]
        trust = role["AssumeRolePolicyDocument"]
        inline = {
            n: iam.get_role_policy(RoleName=name, PolicyName=n)["PolicyDocument"]
            for n in iam.list_role_policies(RoleName=name)["PolicyNames"]
        }
        attached = [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]]
        self.account(account_id)["iam"].setdefault("roles", {})[name] = {
            "trust": trust if isinstance(trust, dict) else json.loads(trust),
            "inline": {k: v if isinstance(v, dict) else json.loads(v) for k, v in inline.items()},
            "attached": sorted(attached),
        }

    def scanner_role(self, account_id):
        """The ecr-audit role of docs/trust-policy.json, as a member account
        would have it."""
        trust = policy([
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
                "Action": "sts:AssumeRole",
            }
        ])
        read = policy([{"Effect": "Allow", "Action": ["ecr:Describe*", "ecr:Get*", "ecr:List*", "ecr:BatchGet*"], "Resource": "*"}])
        return {"name": "ecr-audit", "trust": trust, "inline": {"read": read}}

    # -- the three accounts -------------------------------------------------

    def seed_management(self):
        m, dev = MANAGEMENT, self.ids["dev"]
        r1, r2 = REGIONS
        public = policy([{"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": PULL_ACTIONS}])
        self.repository(m, r1, "web/public-app", tags={"team": "web", "env": "prod"}, repo_policy=public)
        self.image(m, r1, "web/public-app", "v1", tag="v1", size=2048)

        cross = policy([
            {"Sid": "DevPull", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{dev}:root"}, "Action": PULL_ACTIONS}
        ])
        kms = f"arn:aws:kms:{r1}:{m}:key/0b6c1d4e-1111-2222-3333-444455556666"
        self.repository(m, r1, "base/shared", mutability="IMMUTABLE", scan_on_push=True, kms_key=kms,
                        repo_policy=cross, lifecycle=LIFECYCLE)
        released = self.image(m, r1, "base/shared", "1.0", tag="1.0", size=4096)
        self.signature(m, r1, "base/shared", released)
        amd = self.image(m, r1, "base/shared", "multi-amd64", size=1111, pushed_days_ago=30)
        arm = self.image(m, r1, "base/shared", "multi-arm64", size=2222, pushed_days_ago=30)
        self.index(m, r1, "base/shared", "multi", [("amd64", amd), ("arm64", arm)], pushed_days_ago=30)

        self.repository(m, r1, "svc/api")
        self.image(m, r1, "svc/api", "latest", tag="latest", size=3000, pulled_days_ago=1,
                   findings={"HIGH": 2, "LOW": 5})
        self.image(m, r1, "svc/api", "stale-untagged", size=5000, pushed_days_ago=400)
        # In the archive storage class: neither stale nor unused (only
        # listed with DescribeImages' imageStatus filter ANY).
        self.image(m, r1, "svc/api", "archived-untagged", size=7000, pushed_days_ago=300, archived_days_ago=200)
        self.image(m, r1, "svc/api", "old", tag="old", size=6000, pushed_days_ago=200, pulled_days_ago=190)

        self.registry(
            m, r1,
            registry_policy=policy([
                {"Sid": "DevReplicates", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{dev}:root"},
                 "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"], "Resource": f"arn:aws:ecr:{r1}:{m}:repository/*"},
                # A partner outside the organization: a registry finding (ECR111).
                {"Sid": "PartnerReplicates", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
                 "Action": ["ecr:ReplicateImage"], "Resource": f"arn:aws:ecr:{r1}:{m}:repository/*"},
                # Under scope V2 (the default) a registry policy governs
                # pulls too: the partner reads every repository (ECR103).
                {"Sid": "PartnerPulls", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
                 "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                 "Resource": f"arn:aws:ecr:{r1}:{m}:repository/*"}
            ]),
            replication=[{"destinations": [{"region": r2, "registryId": dev}],
                          "repositoryFilters": [{"filter": "base", "filterType": "PREFIX_MATCH"}]}],
            scanning={"scanType": "BASIC", "rules": [
                {"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "svc/*", "filterType": "WILDCARD"}]}
            ]},
            pull_through=[{"ecrRepositoryPrefix": "docker-hub", "upstreamRegistryUrl": "registry-1.docker.io",
                           "upstreamRegistry": "docker-hub",
                           "credentialArn": f"arn:aws:secretsmanager:{r1}:{m}:secret:ecr-pullthroughcache/docker-hub"},
                          # The partner's private registry as an upstream (ECR113).
                          {"ecrRepositoryPrefix": "partner", "upstreamRegistry": "ecr",
                           "upstreamRegistryUrl": f"999988887777.dkr.ecr.{r1}.amazonaws.com"},
                          # The dev account's registry, pulled as a partner's
                          # role (ECR113).
                          {"ecrRepositoryPrefix": "dev-mirror", "upstreamRegistry": "ecr",
                           "upstreamRegistryUrl": f"{dev}.dkr.ecr.{r1}.amazonaws.com",
                           "customRoleArn": "arn:aws:iam::999988887777:role/ecr-ptc-pull",
                           "upstreamRepositoryPrefix": "ROOT"}],
            templates=[
                # What every repository the docker-hub cache creates gets: a
                # public pull policy (ECR101), mutable tags (ECR302), no
                # lifecycle policy (ECR303), AES256 (ECR305), and a custom
                # role a partner can assume too (ECR114).
                {"prefix": "docker-hub", "appliedFor": ["PULL_THROUGH_CACHE"],
                 "imageTagMutability": "MUTABLE",
                 "encryptionConfiguration": {"encryptionType": "AES256"},
                 "repositoryPolicy": public,
                 "customRoleArn": f"arn:aws:iam::{m}:role/ecr-template-creator",
                 "createdAt": self.now, "updatedAt": self.now},
                # Every other repository ECR creates: immutable, expiring
                # untagged images, a customer-managed key, the organization
                # only. Nothing to report.
                {"prefix": "ROOT", "appliedFor": ["REPLICATION", "CREATE_ON_PUSH"],
                 "imageTagMutability": "IMMUTABLE",
                 "encryptionConfiguration": {"encryptionType": "KMS", "kmsKey": kms},
                 "lifecyclePolicy": LIFECYCLE,
                 "repositoryPolicy": policy([
                     {"Sid": "OrgPull", "Effect": "Allow", "Principal": "*", "Action": PULL_ACTIONS,
                      "Condition": {"StringEquals": {"aws:PrincipalOrgID": self.org_id}}}]),
                 "createdAt": self.now, "updatedAt": self.now},
            ],
            # Images pushed to base/* are signed: base/shared's index is not
            # (ECR404); its released image is.
            signing={"rules": [{"signingProfileArn": f"arn:aws:signer:{r1}:{m}:/signing-profiles/base",
                                "repositoryFilters": [{"filter": "base/*", "filterType": "WILDCARD_MATCH"}]}]},
        )

        self.repository(m, r2, "eu/app", tags={"team": "eu"})
        self.image(m, r2, "eu/app", "2.1", tag="2.1", size=700)

        admin = policy([{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}])
        # The docker-hub template's custom role: ECR's, and a partner's too.
        creator_trust = policy([
            {"Effect": "Allow", "Principal": {"Service": "ecr.amazonaws.com"}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"}, "Action": "sts:AssumeRole"}])
        creator = policy([{"Effect": "Allow", "Action": ["kms:CreateGrant", "ecr:TagResource"], "Resource": "*"}])
        self.principals(
            m,
            roles=[{"name": "ecr-template-creator", "trust": creator_trust, "inline": {"create": creator}}],
            groups=[{"name": "ecr-admins", "inline": {"ecr-admin": admin}}],
            users=[{"name": "alice", "groups": ["ecr-admins"],
                    "inline": {"token": policy([{"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}])}}],
        )

    def seed_dev(self):
        dev, prod = self.ids["dev"], self.ids["prod"]
        r1 = REGIONS[0]
        org_only = policy([
            {"Sid": "OrgPull", "Effect": "Allow", "Principal": "*", "Action": PULL_ACTIONS,
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": self.org_id}}}
        ])
        self.repository(dev, r1, "dev/sandbox", repo_policy=org_only, tags={"owner": "dev-team"})
        for n in range(3):
            self.image(dev, r1, "dev/sandbox", f"scratch-{n}", size=100 + n, pushed_days_ago=120 + n)
        # Enhanced scanning: dev/service is scanned on push only, yet pulled
        # (ECR307); dev/sandbox is scanned continuously.
        self.repository(dev, r1, "dev/service", scan_on_push=True, lifecycle=LIFECYCLE)
        self.image(dev, r1, "dev/service", "1.0", tag="1.0", size=500, pushed_days_ago=10, pulled_days_ago=1)
        self.registry(dev, r1, scanning={"scanType": "ENHANCED", "rules": [
            {"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": [{"filter": "dev/sandbox", "filterType": "WILDCARD"}]},
            {"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "dev/service", "filterType": "WILDCARD"}]}]})
        # eu-west-1 of dev stays empty: an empty region is data too.

        pull = policy([{"Effect": "Allow", "Action": PULL_ACTIONS, "Resource": f"arn:aws:ecr:*:{dev}:repository/*"}])
        pull_v2 = policy([
            {"Effect": "Allow", "Action": PULL_ACTIONS + ["ecr:DescribeImages"], "Resource": f"arn:aws:ecr:*:{dev}:repository/*"},
            {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        ])
        push = policy([{"Effect": "Allow", "Action": ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
                                                      "ecr:CompleteLayerUpload"] + PULL_ACTIONS,
                        "Resource": f"arn:aws:ecr:*:{dev}:repository/*"},
                       {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}])
        github = policy([
            {"Effect": "Allow",
             "Principal": {"Federated": f"arn:aws:iam::{dev}:oidc-provider/token.actions.githubusercontent.com"},
             "Action": "sts:AssumeRoleWithWebIdentity",
             "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}}
        ])
        cross = policy([{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{prod}:root"}, "Action": "sts:AssumeRole"}])
        self.principals(
            dev,
            policies=[{"name": "EcrPull", "versions": [pull, pull_v2]}, {"name": "EcrPush", "versions": [push]}],
            groups=[{"name": "developers", "attach": ["EcrPull"]}],
            users=[{"name": "ci", "groups": ["developers"], "attach": ["EcrPush"]}],
            roles=[
                {"name": "github-actions", "trust": github, "attach": ["EcrPush"]},
                {"name": "cross-reader", "trust": cross, "inline": {"read": pull}},
                self.scanner_role(dev),
            ],
        )

    def seed_prod(self):
        prod, m = self.ids["prod"], MANAGEMENT
        r1, r2 = REGIONS
        for region in (r1, r2):
            # In r2 every tag is immutable but `latest` (an exclusion filter).
            self.repository(prod, region, "prod/api",
                            mutability="IMMUTABLE" if region == r1 else "IMMUTABLE_WITH_EXCLUSION",
                            exclusions=None if region == r1 else ["latest"], scan_on_push=True,
                            lifecycle=LIFECYCLE, tags={"env": "prod"})
            self.image(prod, region, "prod/api", "3.0", tag="3.0", size=9000, pulled_days_ago=2)
            self.image(prod, region, "prod/api", "2.9", tag="2.9", size=8900, pushed_days_ago=60, pulled_days_ago=45)
        # Basic scanning still on the retired Clair engine, and the registry
        # policy scope of registries created before V2.
        # Its registry policy, written for V2, lets the partner pull every
        # repository: under V1 that grant has no effect (no ECR103), the
        # replication grant still does (ECR111).
        self.registry(prod, r2, replication=[{"destinations": [{"region": r1, "registryId": prod}]}],
                      registry_policy=policy([
                          {"Sid": "PartnerPullsUnderV2", "Effect": "Allow",
                           "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
                           "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                           "Resource": f"arn:aws:ecr:{r2}:{prod}:repository/*"},
                          {"Sid": "PartnerReplicates", "Effect": "Allow",
                           "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
                           "Action": ["ecr:ReplicateImage"], "Resource": f"arn:aws:ecr:{r2}:{prod}:repository/*"}]),
                      settings={"BASIC_SCAN_TYPE_VERSION": "CLAIR", "REGISTRY_POLICY_SCOPE": "V1"})
        deployer_trust = policy([{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{m}:root"}, "Action": "sts:AssumeRole"}])
        self.principals(
            prod,
            roles=[{"name": "deployer", "trust": deployer_trust,
                    "inline": {"push": policy([{"Effect": "Allow", "Action": "ecr:*", "Resource": f"arn:aws:ecr:*:{prod}:repository/prod/*"}])}},
                   self.scanner_role(prod)],
        )


def seed_bulk(repositories, images):
    """One account (the caller's), us-east-1: `repositories` repositories of
    `images` images each, stored directly in moto's backend (seeding 10,000
    images through the API would take minutes; collecting them is what is
    measured)."""
    from moto.ecr.models import ecr_backends

    backend = ecr_backends[MANAGEMENT]["us-east-1"]
    for r in range(repositories):
        name = f"bulk/repo-{r:03d}"
        backend.create_repository(
            repository_name=name, registry_id=None, encryption_config=None,
            image_scan_config=None, image_tag_mutability=None, tags=[],
        )
        for i in range(images):
            manifest, digest = image_manifest(f"{name}/{i}", 1000 + i)
            tag = f"v{i}" if i % 2 == 0 else None
            backend.put_image(name, manifest, tag, None, digest)
    return {"repositories": repositories, "images": repositories * images}


def seed_small(endpoint):
    """The caller's account in us-east-1 and eu-west-1: two repositories with
    one image each, one with a policy and a lifecycle policy."""
    facts = {}
    for region in REGIONS:
        ecr = client(endpoint, "ecr", region)
        for name in ("team/app", "team/lib"):
            ecr.create_repository(repositoryName=name)
            manifest, digest = image_manifest(f"{region}/{name}", 1234)
            ecr.put_image(repositoryName=name, imageManifest=manifest, imageDigest=digest, imageTag="v1")
        ecr.set_repository_policy(
            repositoryName="team/app",
            policyText=policy([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::210987654321:root"}, "Action": PULL_ACTIONS}]),
        )
        ecr.put_lifecycle_policy(repositoryName="team/app", lifecyclePolicyText=LIFECYCLE)
        facts[region] = ["team/app", "team/lib"]
    return {"account": MANAGEMENT, "regions": facts}


def seed_auditor(endpoint, scanner_policy, deny):
    """seed_small, plus an IAM user `auditor` holding `scanner_policy`
    (docs/iam-policy.json) and an explicit deny of the actions in `deny`.
    Answers with the user's access key, for a run under IAM enforcement."""
    facts = seed_small(endpoint)
    iam = client(endpoint, "iam", "us-east-1")
    iam.create_user(UserName="auditor")
    iam.put_user_policy(UserName="auditor", PolicyName="ecr-audit", PolicyDocument=scanner_policy)
    if deny:
        iam.put_user_policy(
            UserName="auditor",
            PolicyName="deny-some",
            PolicyDocument=policy([{"Effect": "Deny", "Action": deny, "Resource": "*"}]),
        )
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    facts["accessKeyId"] = key["AccessKeyId"]
    facts["secretAccessKey"] = key["SecretAccessKey"]
    return facts
