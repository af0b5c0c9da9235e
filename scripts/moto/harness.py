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
   "body": "html" | "json" | "xml", "code": "...", "message": "...",
   "region": optional, "match": optional substring of the request body,
   "times": optional count}              answer matching requests with an error
                                          (the first `times` of them, if given)
  {"cmd": "clear_faults"}
  {"cmd": "requests", "reset": bool}     requests served by operation
                                          ("ecr:DescribeImages") and the peak
                                          number in flight, since the last reset,
                                          and the parameters of sts:AssumeRole calls
  {"cmd": "enforce_iam"}                 POST /moto-api/reset-auth: from now on
                                          moto enforces IAM (403 on denials)
  {"cmd": "stop"}

What it adds to moto, in-process:
  - a WSGI layer in front of moto that counts the requests it serves (by
    operation, and the most in flight at once) and answers chosen operations
    with an error, the way AWS (or moto itself) would, to test partial
    failure;
  - ecr:DescribePullThroughCacheRules, which moto does not implement (it
    answers 500), backed by rules the seed defines;
  - image attributes moto never returns (last pull time, scan findings) and
    push times in the past, set directly on moto's stored images.
"""

import io
import json
import logging
import re
import sys
import threading
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

CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")


def describe_request(environ, body):
    """Returns (operation, region) of a signed AWS request, e.g.
    ("ecr:DescribeImages", "us-east-1")."""
    region, service = None, None
    match = CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match:
        region, service = match.group(1), match.group(2)
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        prefix, _, action = target.partition(".")
        service = JSON_TARGET_SERVICES.get(prefix, service)
        return f"{service}:{action}", region
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    action = form.get("Action", [""])[0]
    return f"{service}:{action}", region


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

    def add(self, rule):
        with self.lock:
            self.rules.append(dict(rule))

    def clear(self):
        with self.lock:
            self.rules.clear()

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
        with self.lock:
            if call is not None:
                self.assume_role_calls.append(call)
            self.seen[operation] = self.seen.get(operation, 0) + 1
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            rule = self.match(operation, region, body)
        try:
            if rule is not None:
                return self.answer(rule, start_response)
            return self.app(environ, start_response)
        finally:
            with self.lock:
                self.in_flight -= 1

    def match(self, operation, region, body):
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
            if rule.get("match") and rule["match"] not in text and rule["match"] not in urllib.parse.unquote_plus(text):
                continue
            if "times" in rule:
                if rule["times"] <= 0:
                    continue
                rule["times"] -= 1
            return rule
        return None

    def requests(self, reset):
        with self.lock:
            answer = {
                "operations": dict(self.seen),
                "peak": self.peak,
                "assumeRole": list(self.assume_role_calls),
            }
            if reset:
                self.seen.clear()
                self.assume_role_calls.clear()
                self.peak = self.in_flight
        return answer

    @staticmethod
    def answer(rule, start_response):
        status = int(rule.get("status", 500))
        code = rule.get("code", "InternalFailure")
        message = rule.get("message", "injected by the test harness")
        kind = rule.get("body", "json")
        if kind == "html":
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
        reason = {403: "Forbidden", 400: "Bad Request", 500: "Internal Server Error"}.get(status, "Error")
        start_response(
            f"{status} {reason}",
            [("Content-Type", content_type), ("x-amzn-ErrorType", code)],
        )
        return [payload.encode("utf-8")]


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
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
