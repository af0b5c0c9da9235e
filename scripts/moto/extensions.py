"""What the harness adds to moto in-process (see harness.py)."""

import copy
import json
import threading

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.ecr.exceptions import InvalidParameterException
from moto.ecr.models import ECRBackend, ecr_backends
from moto.ecr.responses import ECRResponse
from moto.iam.exceptions import MalformedPolicyDocument

# (account, region) -> list of pull-through cache rules, in the API's shape.
PULL_THROUGH_CACHE_RULES = {}
# (account, region) -> {setting name: value}; unset names answer AWS's
# defaults for an account created today.
ACCOUNT_SETTINGS = {}
# (account, region) -> list of repository creation templates, in the API's
# shape (RepositoryCreationTemplate).
CREATION_TEMPLATES = {}
# (account, region) -> signing configuration ({"rules": [...]}), in the
# API's shape (SigningConfiguration); absent: none.
SIGNING_CONFIGURATIONS = {}
ACCOUNT_SETTING_DEFAULTS = {"BASIC_SCAN_TYPE_VERSION": "AWS_NATIVE", "REGISTRY_POLICY_SCOPE": "V2"}
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


def add_creation_template(account, region, template):
    with _LOCK:
        CREATION_TEMPLATES.setdefault((account, region), []).append(template)


def set_signing_configuration(account, region, configuration):
    with _LOCK:
        SIGNING_CONFIGURATIONS[(account, region)] = configuration


def _describe_repository_creation_templates(self):
    """DescribeRepositoryCreationTemplates as the ECR API reference shapes it:
    request {"prefixes", "nextToken", "maxResults"}, response {"registryId",
    "repositoryCreationTemplates", "nextToken"}. Paged by maxResults (the
    token is the index of the next template)."""
    with _LOCK:
        templates = list(CREATION_TEMPLATES.get((self.current_account, self.region), []))
    prefixes = self._get_param("prefixes")
    if prefixes:
        templates = [t for t in templates if t["prefix"] in prefixes]
    # A token this emulation did not issue restarts the listing (as the
    # harness's repeat-token fault needs: the client must notice).
    token = self._get_param("nextToken") or ""
    start = int(token) if token.isdigit() else 0
    size = int(self._get_param("maxResults") or 100)
    page = templates[start:start + size]
    answer = {"registryId": self.current_account, "repositoryCreationTemplates": page}
    if start + size < len(templates):
        answer["nextToken"] = str(start + size)
    return ActionResult(answer)


def _get_signing_configuration(self):
    """GetSigningConfiguration as the ECR API reference shapes it: response
    {"registryId", "signingConfiguration"}; a registry without one answers
    SigningConfigurationNotFoundException (HTTP 400)."""
    with _LOCK:
        configuration = SIGNING_CONFIGURATIONS.get((self.current_account, self.region))
    if configuration is None:
        raise SigningConfigurationNotFound(self.current_account)
    return ActionResult({"registryId": self.current_account, "signingConfiguration": configuration})


class SigningConfigurationNotFound(ServiceException):
    code = "SigningConfigurationNotFoundException"

    def __init__(self, registry_id):
        super().__init__(f"No signing configuration exists for the registry with id '{registry_id}'.")


def _account_setting_answer(self, value_of):
    """GetAccountSetting / PutAccountSetting as the ECR API reference shapes
    them: request {"name", ["value"]}, response {"name", "value"}; a name
    it does not know is an InvalidParameterException (HTTP 400)."""
    name = self._get_param("name")
    if name not in ACCOUNT_SETTING_DEFAULTS:
        raise InvalidParameterException(f"Invalid parameter at 'name' failed to satisfy constraint: '{name}'")
    with _LOCK:
        settings = ACCOUNT_SETTINGS.setdefault((self.current_account, self.region), {})
        value = value_of(settings, name)
    return ActionResult({"name": name, "value": value})


def _get_account_setting(self):
    return _account_setting_answer(
        self, lambda settings, name: settings.get(name, ACCOUNT_SETTING_DEFAULTS[name]))


def _put_account_setting(self):
    def put(settings, name):
        settings[name] = self._get_param("value")
        return settings[name]
    return _account_setting_answer(self, put)


# The actions registry policy scope V1 governs ("Private registry
# permissions in Amazon ECR", Amazon ECR User Guide).
REGISTRY_POLICY_V1_ACTIONS = {"ecr:ReplicateImage", "ecr:BatchImportUpstreamImage", "ecr:CreateRepository"}


def _validate_registry_policy_action(self, policy_text):
    """moto accepts only CreateRepository and ReplicateImage in a registry
    policy (scope V1 as it was); under V2, AWS's default, a registry policy
    may name every ECR action. The account's REGISTRY_POLICY_SCOPE decides."""
    with _LOCK:
        scope = ACCOUNT_SETTINGS.get((self.account_id, self.region_name), {}).get(
            "REGISTRY_POLICY_SCOPE", ACCOUNT_SETTING_DEFAULTS["REGISTRY_POLICY_SCOPE"])
    for statement in json.loads(policy_text)["Statement"]:
        actions = statement["Action"]
        if isinstance(actions, str):
            actions = [actions]
        for action in actions:
            if scope == "V1" and action not in REGISTRY_POLICY_V1_ACTIONS:
                raise MalformedPolicyDocument()
            if not action.startswith("ecr:"):
                raise MalformedPolicyDocument()


def _describe_images(self):
    """DescribeImages with the API reference's `filter.imageStatus`
    (DescribeImagesFilter): without it only ACTIVE images are listed; ANY
    lists every status. moto ignores the filter and knows no archived
    images; an image without a status is ACTIVE. As AWS does, an empty
    `imageTags` list is left out of an image's details."""
    wanted = ((self._get_param("filter") or {}).get("imageStatus") or "ACTIVE").upper()
    images = self.ecr_backend.describe_images(
        self._get_param("repositoryName"), self._get_param("registryId"), self._get_param("imageIds"))
    details = []
    for image in images:
        status = getattr(image, "image_status", None) or "ACTIVE"
        if wanted != "ANY" and status != wanted:
            continue
        detail = copy.copy(image)
        if not detail.image_tags:
            del detail.image_tags
        details.append(detail)
    return ActionResult({"imageDetails": details})


def install():
    """moto 5.2 answers DescribePullThroughCacheRules, GetAccountSetting,
    PutAccountSetting, DescribeRepositoryCreationTemplates and
    GetSigningConfiguration with 500 (not implemented); give them minimal
    implementations. Its registry policy check is V1's; make it follow the
    account's registry policy scope. Its DescribeImages ignores the
    imageStatus filter; apply it."""
    ECRResponse.describe_pull_through_cache_rules = _describe_pull_through_cache_rules
    ECRResponse.get_account_setting = _get_account_setting
    ECRResponse.put_account_setting = _put_account_setting
    ECRResponse.describe_repository_creation_templates = _describe_repository_creation_templates
    ECRResponse.get_signing_configuration = _get_signing_configuration
    ECRBackend._validate_registry_policy_action = _validate_registry_policy_action
    ECRResponse.describe_images = _describe_images


def stored_image(account, region, repository, digest):
    repo = ecr_backends[account][region].repositories[repository]
    for image in repo.images:
        if image.get_image_digest() == digest:
            return image
    raise KeyError(f"{account}/{region}/{repository}@{digest}")


def set_image_attributes(account, region, repository, digest, pushed_at=None,
                         last_pull=None, findings=None, artifact_media_type=None,
                         subject=None, archived_at=None):
    """Sets what moto never returns by itself. Times are Unix seconds;
    `archived_at` puts the image in the archive storage class (status
    ARCHIVED, lastArchivedAt)."""
    image = stored_image(account, region, repository, digest)
    if archived_at is not None:
        image.image_status = "ARCHIVED"
        image.last_archived_at = int(archived_at)
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
