"""A moto server for ecr-audit's live tests, with the few things tests need
that plain `moto_server` cannot do.

Run with the project's virtualenv (see scripts/setup-python-env):

    .venv/bin/python scripts/moto/harness.py

It serves moto on a free loopback port and prints one JSON line on stdout,
`{"port": N}`. It then reads one JSON command per line on stdin and answers
each with one JSON line on stdout (`{"ok": true, ...}` or
`{"ok": false, "error": "..."}`). When stdin closes (the test ended, even by a
crash), the server stops and the process exits.

Commands:
  {"cmd": "seed", "world": "org"}        the test organization (seeds.py);
                                          answers with the expected facts
  {"cmd": "seed", "world": "bulk", "repositories": R, "images": I}
                                          one account, R repositories × I images
  {"cmd": "fault", "operation": "ecr:GetLifecyclePolicy", "status": 500,
   "body": "html" | "json" | "xml" | "malformed", "code": "...",
   "message": "...", "region": optional, "account": optional (the account
   of the request's credentials), "match": optional substring of the request
   body, "times": optional count, "delay": optional seconds,
   "rewrite": optional "repeat-token"}
                                          answer matching requests with an error
                                          (the first `times` of them, if given).
                                          "malformed": status 200 (unless given)
                                          and a truncated body in the service's
                                          format (JSON or XML). "delay": wait
                                          first; a rule with neither "status"
                                          nor "body" then lets moto answer.
                                          "rewrite": "repeat-token": moto
                                          answers, and its answer is given a
                                          next-page token that is always the
                                          same (nextToken, NextToken, or
                                          IsTruncated + Marker for IAM)
  {"cmd": "throttle", "fraction": 0.3, "account": optional,
   "in_a_row": 3}                         answer that fraction of requests (of
                                          one account's, if given) with the
                                          service's throttling error (ECR
                                          ThrottlingException, Organizations
                                          TooManyRequestsException, IAM/STS
                                          Throttling, as HTTP 400 in the
                                          service's format). Deterministic in
                                          number: every 1/fraction-th request
                                          in order of arrival, but never the
                                          same request more than in_a_row
                                          times in a row. Fraction 0 turns it
                                          off.
  {"cmd": "unimplement", "operation": "ecr:DescribeRegistry"}
                                          moto answers the operation as one it
                                          does not implement (HTTP 500, HTML)
  {"cmd": "clear_faults"}                 removes faults, throttling and
                                          unimplemented operations
  {"cmd": "requests", "reset": bool}     requests served by operation
                                          ("ecr:DescribeImages") and the peak
                                          number in flight, since the last reset,
                                          the parameters of sts:AssumeRole calls,
                                          the throttled answers (in all, by
                                          operation), the requests in flight
                                          now, and per account of the
                                          credentials the requests served and
                                          the seconds from its first to its
                                          last
  {"cmd": "enforce_iam"}                 POST /moto-api/reset-auth: from now on
                                          moto enforces IAM (403 on denials)
  {"cmd": "stop"}

What it adds to moto, in-process:
  - a WSGI layer in front of moto that counts the requests it serves (by
    operation, and the most in flight at once) and answers chosen operations
    with an error, the way AWS (or moto itself) would, to test partial
    failure;
  - ecr:DescribePullThroughCacheRules, which moto does not implement (it
    answers 500), backed by rules the seed defines, and
    ecr:GetAccountSetting / ecr:PutAccountSetting,
    ecr:DescribeRepositoryCreationTemplates (paged) and
    ecr:GetSigningConfiguration (also missing from moto), shaped as the ECR
    API reference describes them (`unimplement` takes them away again);
  - image attributes moto never returns (last pull time, scan findings) and
    push times in the past, set directly on moto's stored images.
"""

import io
import json
import logging
import re
import sys
import threading
import time
import urllib.parse
import urllib.request

from werkzeug.serving import make_server

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)

import extensions
import seeds

JSON_TARGET_SERVICES = {
    "AmazonEC2ContainerRegistry_V20150921": "ecr",
    "AWSOrganizationsV20161128": "organizations",
}

CREDENTIAL_SCOPE = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")

# Services whose errors and answers are XML (the query protocol); the others
# the harness meets speak JSON.
XML_SERVICES = {"iam", "sts"}

# The code each service throttles with.
THROTTLING_CODES = {
    "ecr": "ThrottlingException",
    "organizations": "TooManyRequestsException",
    "iam": "Throttling",
    "sts": "Throttling",
}

# The next-page token of `"rewrite": "repeat-token"`.
REPEATED_TOKEN = "harness-same-token"
REPEATED_MARKER = "harness-same-marker"

# moto's response class of each service, for `unimplement`.
RESPONSE_CLASSES = {
    "ecr": ("moto.ecr.responses", "ECRResponse"),
    "iam": ("moto.iam.responses", "IamResponse"),
    "sts": ("moto.sts.responses", "TokenResponse"),
    "organizations": ("moto.organizations.responses", "OrganizationsResponse"),
}


def describe_request(environ, body):
    """Returns (operation, region) of a signed AWS request, e.g.
    ("ecr:DescribeImages", "us-east-1")."""
    region, service = None, None
    match = CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match:
        region, service = match.group(2), match.group(3)
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        prefix, _, action = target.partition(".")
        service = JSON_TARGET_SERVICES.get(prefix, service)
        return f"{service}:{action}", region
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    action = form.get("Action", [""])[0]
    return f"{service}:{action}", region


def request_account(environ):
    """The account of the request's credentials (moto's mapping of access
    keys, assumed roles included), or None."""
    match = CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if not match:
        return None
    from moto.iam.models import get_account_id_from

    return get_account_id_from(match.group(1))


def service_of(operation):
    return operation.partition(":")[0]


class Throttle:
    """A share of requests answered with throttling errors: of the requests
    it applies to, in the order they arrive, request n is throttled when
    floor((n + 1) * fraction) > floor(n * fraction) -- exactly that share,
    spread evenly -- unless the same request (operation, account, region,
    body) was throttled `in_a_row` times in a row already."""

    def __init__(self, fraction, account=None, in_a_row=3):
        self.fraction = float(fraction)
        self.account = account
        self.in_a_row = int(in_a_row)
        self.arrived = 0
        self.streaks = {}

    def decide(self, operation, account, region, body):
        """True when this attempt is to be throttled (lock held)."""
        if self.account is not None and account != self.account:
            return False
        n = self.arrived
        self.arrived += 1
        key = (operation, account, region, body)
        due = int((n + 1) * self.fraction) > int(n * self.fraction)
        if due and self.streaks.get(key, 0) < self.in_a_row:
            self.streaks[key] = self.streaks.get(key, 0) + 1
            return True
        self.streaks.pop(key, None)
        return False


class Faults:
    """Chosen operations answered with an error instead of moto's answer."""

    def __init__(self, app):
        self.app = app
        self.rules = []
        self.lock = threading.Lock()
        self.seen = {}
        self.assume_role_calls = []
        self.in_flight = 0
        self.peak = 0
        self.throttle = None
        self.throttled = 0
        self.throttled_by_operation = {}
        self.unimplemented = {}
        # account -> requests, monotonic time of the first and the last
        self.accounts = {}

    def add(self, rule):
        with self.lock:
            self.rules.append(dict(rule))

    def set_throttle(self, command):
        with self.lock:
            fraction = float(command.get("fraction", 0))
            if fraction <= 0:
                self.throttle = None
            else:
                self.throttle = Throttle(fraction, command.get("account"), command.get("in_a_row", 3))

    def unimplement(self, operation):
        """moto answers `operation` as one it does not implement: its
        response class loses the method (shadowed by a non-function)."""
        service, _, action = operation.partition(":")
        module, name = RESPONSE_CLASSES[service]
        cls = getattr(__import__(module, fromlist=[name]), name)
        method = re.sub(r"(?<!^)(?=[A-Z])", "_", action).lower()
        with self.lock:
            if (cls, method) not in self.unimplemented:
                self.unimplemented[(cls, method)] = cls.__dict__.get(method)
                setattr(cls, method, None)

    def clear(self):
        with self.lock:
            self.rules.clear()
            self.throttle = None
            for (cls, method), original in self.unimplemented.items():
                if original is None:
                    delattr(cls, method)
                else:
                    setattr(cls, method, original)
            self.unimplemented.clear()

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        operation, region = describe_request(environ, body)
        if operation == "sts:AssumeRole":
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            call = {k: v[0] for k, v in form.items() if k in ("RoleArn", "RoleSessionName", "ExternalId", "DurationSeconds")}
        else:
            call = None
        account = request_account(environ)
        now = time.monotonic()
        with self.lock:
            seen = self.accounts.setdefault(account, {"requests": 0, "first": now, "last": now})
            seen["requests"] += 1
            seen["last"] = now
            if call is not None:
                self.assume_role_calls.append(call)
            self.seen[operation] = self.seen.get(operation, 0) + 1
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            throttled = self.throttle is not None and self.throttle.decide(operation, account, region, body)
            if throttled:
                self.throttled += 1
                self.throttled_by_operation[operation] = self.throttled_by_operation.get(operation, 0) + 1
                rule = None
            else:
                rule = self.match(operation, region, account, body)
        try:
            if throttled:
                code = THROTTLING_CODES.get(service_of(operation), "ThrottlingException")
                body = "xml" if service_of(operation) in XML_SERVICES else "json"
                return self.answer({"status": 400, "body": body, "code": code, "message": "Rate exceeded"},
                                   operation, start_response)
            if rule is None:
                return self.app(environ, start_response)
            if rule.get("delay"):
                time.sleep(float(rule["delay"]))
            if "status" in rule or "body" in rule:
                return self.answer(rule, operation, start_response)
            if rule.get("rewrite") == "repeat-token":
                return self.repeat_token(environ, body, operation, start_response)
            return self.app(environ, start_response)
        finally:
            with self.lock:
                self.in_flight -= 1

    def match(self, operation, region, account, body):
        """The first rule for this request (called with the lock held). A
        rule with "times": N answers N requests, then lets them through."""
        if not self.rules:
            return None
        text = body.decode("utf-8", "replace")
        for rule in self.rules:
            if rule["operation"] != operation:
                continue
            if rule.get("region") and rule["region"] != region:
                continue
            if rule.get("account") and rule["account"] != account:
                continue
            if rule.get("match") and rule["match"] not in text and rule["match"] not in urllib.parse.unquote_plus(text):
                continue
            if "times" in rule:
                if rule["times"] <= 0:
                    continue
                rule["times"] -= 1
            return rule
        return None

    def repeat_token(self, environ, body, operation, start_response):
        """moto's answer with a next-page token that never changes (moto is
        asked without it: it would refuse a token it did not make)."""
        if service_of(operation) in XML_SERVICES:
            form = [(k, v) for k, v in urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)
                    if not (k == "Marker" and v == REPEATED_MARKER)]
            body = urllib.parse.urlencode(form).encode("utf-8")
        elif body:
            request = json.loads(body)
            for key in ("nextToken", "NextToken"):
                if request.get(key) == REPEATED_TOKEN:
                    del request[key]
            body = json.dumps(request).encode("utf-8")
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        chunks = self.app(environ, capture)
        try:
            payload = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        if captured["status"].startswith("200"):
            if service_of(operation) in XML_SERVICES:
                text = payload.decode("utf-8")
                text = re.sub(r"<IsTruncated>\w+</IsTruncated>", "<IsTruncated>true</IsTruncated>", text)
                text = re.sub(r"<Marker>[^<]*</Marker>", "", text)
                text = text.replace("<IsTruncated>true</IsTruncated>",
                                    f"<IsTruncated>true</IsTruncated><Marker>{REPEATED_MARKER}</Marker>", 1)
                payload = text.encode("utf-8")
            else:
                answer = json.loads(payload or b"{}")
                key = "NextToken" if service_of(operation) == "organizations" else "nextToken"
                answer[key] = REPEATED_TOKEN
                payload = json.dumps(answer).encode("utf-8")
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(payload))))
        start_response(captured["status"], headers)
        return [payload]

    def requests(self, reset):
        with self.lock:
            answer = {
                "operations": dict(self.seen),
                "peak": self.peak,
                "assumeRole": list(self.assume_role_calls),
                "throttled": self.throttled,
                "throttledByOperation": dict(self.throttled_by_operation),
                "inFlight": self.in_flight,
                "accounts": {
                    str(a): {"requests": v["requests"], "seconds": round(v["last"] - v["first"], 3)}
                    for a, v in self.accounts.items()
                },
            }
            if reset:
                self.seen.clear()
                self.assume_role_calls.clear()
                self.peak = self.in_flight
                self.throttled = 0
                self.throttled_by_operation.clear()
                self.accounts.clear()
        return answer

    @staticmethod
    def answer(rule, operation, start_response):
        kind = rule.get("body", "json")
        status = int(rule.get("status", 200 if kind == "malformed" else 500))
        code = rule.get("code", "InternalFailure")
        message = rule.get("message", "injected by the test harness")
        xml = service_of(operation) in XML_SERVICES
        if kind == "malformed":
            # A success answer cut short: what a proxy or a broken
            # connection can leave of a real one.
            action = operation.partition(":")[2]
            if xml:
                payload = (
                    f'<{action}Response xmlns="https://harness/doc/">'
                    f"<{action}Result><Arn>arn:aws:iam::1234"
                )
                content_type = "text/xml"
            else:
                payload = '{"registryId": "123456789012", "repositories": [{"repositoryName": "tru'
                content_type = "application/x-amz-json-1.1"
            code = None
        elif kind == "html":
            payload = (
                "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
                "<h1>Internal Server Error</h1>\n<p>The server encountered an internal error.</p>\n"
            )
            content_type = "text/html; charset=utf-8"
        elif kind == "xml":
            payload = (
                "<ErrorResponse><Error><Type>Sender</Type>"
                f"<Code>{code}</Code><Message>{message}</Message></Error>"
                "<RequestId>harness</RequestId></ErrorResponse>"
            )
            content_type = "text/xml"
        else:
            payload = json.dumps({"__type": code, "message": message})
            content_type = "application/x-amz-json-1.1"
        reason = {200: "OK", 403: "Forbidden", 400: "Bad Request", 500: "Internal Server Error"}.get(status, "Error")
        headers = [("Content-Type", content_type)]
        if code:
            headers.append(("x-amzn-ErrorType", code))
        start_response(f"{status} {reason}", headers)
        return [payload.encode("utf-8")]


class QuietNotImplemented(logging.Filter):
    """werkzeug logs moto's answer to an operation it does not implement
    (a NotImplementedError) with its traceback: expected, not worth the
    noise. Other errors are still logged."""

    def filter(self, record):
        text = record.getMessage()
        return not ("NotImplementedError" in text and "has not been implemented" in text)


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("werkzeug").addFilter(QuietNotImplemented())
    extensions.install()
    app = Faults(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    port = server.server_address[1]
    endpoint = f"http://127.0.0.1:{port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    reply({"port": port})

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            command = json.loads(line)
            name = command.get("cmd")
            if name == "seed":
                reply({"ok": True, "world": seeds.seed(endpoint, command)})
            elif name == "fault":
                app.add(command)
                reply({"ok": True})
            elif name == "requests":
                reply({"ok": True, **app.requests(bool(command.get("reset")))})
            elif name == "throttle":
                app.set_throttle(command)
                reply({"ok": True})
            elif name == "unimplement":
                app.unimplement(command["operation"])
                reply({"ok": True})
            elif name == "clear_faults":
                app.clear()
                reply({"ok": True})
            elif name == "enforce_iam":
                request = urllib.request.Request(
                    f"{endpoint}/moto-api/reset-auth",
                    data=b"0",
                    headers={"Content-Type": "text/plain"},
                    method="POST",
                )
                urllib.request.urlopen(request).read()
                reply({"ok": True})
            elif name == "stop":
                reply({"ok": True})
                break
            else:
                reply({"ok": False, "error": f"unknown command {name!r}"})
        except Exception as error:  # report, keep serving
            reply({"ok": False, "error": f"{type(error).__name__}: {error}"})
    server.shutdown()


if __name__ == "__main__":
    main()
