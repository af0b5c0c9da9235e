"""What the harness adds to moto in-process (see harness.py)."""

import threading

from moto.core.responses import ActionResult
from moto.ecr.models import ecr_backends
from moto.ecr.responses import ECRResponse

# (account, region) -> list of pull-through cache rules, in the API's shape.
PULL_THROUGH_CACHE_RULES = {}
_LOCK = threading.Lock()


def add_pull_through_cache_rule(account, region, rule):
    with _LOCK:
        PULL_THROUGH_CACHE_RULES.setdefault((account, region), []).append(rule)


def _describe_pull_through_cache_rules(self):
    with _LOCK:
        rules = list(PULL_THROUGH_CACHE_RULES.get((self.current_account, self.region), []))
    prefixes = self._get_param("ecrRepositoryPrefixes")
    if prefixes:
        rules = [r for r in rules if r["ecrRepositoryPrefix"] in prefixes]
    return ActionResult({"pullThroughCacheRules": rules})


def install():
    """moto 5.2 answers DescribePullThroughCacheRules with 500 (not
    implemented); give it a minimal read-only implementation."""
    ECRResponse.describe_pull_through_cache_rules = _describe_pull_through_cache_rules


def stored_image(account, region, repository, digest):
    repo = ecr_backends[account][region].repositories[repository]
    for image in repo.images:
        if image.get_image_digest() == digest:
            return image
    raise KeyError(f"{account}/{region}/{repository}@{digest}")


def set_image_attributes(account, region, repository, digest, pushed_at=None,
                         last_pull=None, findings=None, artifact_media_type=None,
                         subject=None):
    """Sets what moto never returns by itself. Times are Unix seconds."""
    image = stored_image(account, region, repository, digest)
    if pushed_at is not None:
        image.image_pushed_at = int(pushed_at)
    if last_pull is not None:
        image.last_recorded_pull_time = int(last_pull)
    if findings is not None:
        image.image_scan_findings_summary = {
            "findingSeverityCounts": dict(findings),
        }
        image.image_scan_status = {"status": "COMPLETE", "description": "The scan was completed successfully."}
    if artifact_media_type is not None:
        image.artifact_media_type = artifact_media_type
    if subject is not None:
        image.subject_manifest_digest = subject
