#!/usr/bin/env python3
"""An AgentFlow DB agent in Python, with the standard library only.

It does what an agent does in a working day, over the HTTP API, printing each step:
  1. asks who its key says it is             GET  /v1/whoami
  2. finds a project to work in              GET  /v1/projects?limit=1 (or AGENTFLOW_PROJECT_ID)
  3. opens a work session                    POST /v1/work-sessions
  4. appends an event, then a batch of them  POST /v1/events, POST /v1/events/batch
  5. reads the session's timeline, page by page (2 events a page, following nextCursor)
                                             GET  /v1/events?sessionId=...&limit=2
  6. stops the session                       POST /v1/work-sessions/{id}/stop

Environment:
  AGENTFLOW_API         base URL of `agentflow serve` (default http://127.0.0.1:3000)
  AGENTFLOW_KEY         the agent's API key (afk_...): `agentflow serve` prints a demo one
  AGENTFLOW_PROJECT_ID  optional: the project to work in (default: the tenant's first project)

Every POST carries an Idempotency-Key, so the one retry on 429 or 503 (after the Retry-After the
server sends) cannot write twice. An error response (application/problem+json) is printed with
its type and detail, and the script exits 1; a server it cannot reach, 2.
"""

import email.utils
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

API = os.environ.get("AGENTFLOW_API", "http://127.0.0.1:3000").rstrip("/")
KEY = os.environ.get("AGENTFLOW_KEY", "")
# Longest wait honoured from a Retry-After header before the one retry.
MAX_RETRY_WAIT_SECONDS = 30


class ApiError(Exception):
    """A response the API answered with an error status: its problem+json document."""

    def __init__(self, status, problem):
        super().__init__(f"{status} {problem.get('type')}")
        self.status = status
        self.problem = problem


def retry_after_seconds(value):
    """Retry-After as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return 1.0
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
        except (TypeError, ValueError):
            return 1.0


def call(method, path, body=None, query=None):
    """One API call; returns the decoded JSON body (None for 204). Raises ApiError."""
    url = API + path
    if query:
        url += "?" + urllib.parse.urlencode(query)
    headers = {
        "Authorization": f"Bearer {KEY}",
        "Accept": "application/json, application/problem+json",
        "User-Agent": "agentflow-python-example/1",
    }
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        headers["Content-Type"] = "application/json"
    if method == "POST":
        # One key per operation, the same on its retry: the server answers a repeat with the first
        # response instead of writing again.
        headers["Idempotency-Key"] = str(uuid.uuid4())
    for attempt in (1, 2):
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                raw = response.read()
                return json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            if error.code in (429, 503) and attempt == 1:
                wait = min(retry_after_seconds(error.headers.get("Retry-After")), MAX_RETRY_WAIT_SECONDS)
                print(f"  ({method} {path} answered {error.code}: retrying once in {wait:.0f} s)")
                time.sleep(wait)
                continue
            raise ApiError(error.code, problem_of(error.code, raw)) from None
    raise AssertionError("unreachable")


def problem_of(status, raw):
    """The problem document of an error response (or one made up when the body is not one)."""
    try:
        problem = json.loads(raw)
        if isinstance(problem, dict) and "type" in problem:
            return problem
    except ValueError:
        pass
    return {"type": "http_error", "status": status, "detail": raw.decode("utf-8", "replace")[:500]}


def find_project():
    given = os.environ.get("AGENTFLOW_PROJECT_ID")
    if given:
        return call("GET", f"/v1/projects/{given}")
    page = call("GET", "/v1/projects", query={"limit": 1})
    if not page["items"]:
        raise SystemExit("the tenant has no project to work in: create one (POST /v1/projects) first")
    return page["items"][0]


def work():
    me = call("GET", "/v1/whoami")
    actor = me["actor"]
    print(f"whoami: {me['kind']} {actor['type']}:{actor['id']} of tenant {me['tenantId']}")
    if actor["type"] != "agent":
        raise SystemExit("this example needs an agent API key (afk_...), not a login session")
    agent_id = actor["id"]

    project = find_project()
    print(f"project: {project['slug']} ({project['id']})")

    started = call("POST", "/v1/work-sessions", {"agentId": agent_id, "projectId": project["id"]})
    session = started["session"]
    updates = started["updates"]
    print(
        f"opened work session {session['id']} ({session['status']}); "
        f"{len(updates['mentions']['items'])} mention(s) since the last session"
    )
    try:
        where = {"projectId": project["id"], "sessionId": session["id"]}
        event = call(
            "POST",
            "/v1/events",
            {
                **where,
                "type": "session_log",
                "payload": {"message": "Reading the project README", "context": {"progress": 10}},
            },
        )
        print(f"appended event {event['id']} ({event['type']})")

        batch = call(
            "POST",
            "/v1/events/batch",
            [
                {
                    **where,
                    "type": "question_asked",
                    "payload": {"question": "Which Python version does the project target?"},
                },
                {
                    **where,
                    "type": "problem_report",
                    "payload": {"title": "Tests need a running PostgreSQL", "severity": "low"},
                },
                {
                    **where,
                    "type": "session_log",
                    "payload": {"message": "Wrote the client; tests pass", "context": {"progress": 90}},
                },
            ],
        )
        print(f"appended a batch of {len(batch['items'])} events: {', '.join(e['type'] for e in batch['items'])}")

        cursor = None
        page_number = 0
        while True:
            query = {"sessionId": session["id"], "limit": 2}
            if cursor:
                query["cursor"] = cursor
            page = call("GET", "/v1/events", query=query)
            page_number += 1
            listed = ", ".join(f"{e['id']} {e['type']}" for e in page["items"])
            print(f"timeline page {page_number}: {listed or '(empty)'}")
            cursor = page.get("nextCursor")
            if not cursor:
                break
    except BaseException:
        # Stopped even when a step failed (an agent has at most one open session), and the
        # step's error is the one reported.
        try:
            call("POST", f"/v1/work-sessions/{session['id']}/stop")
            print(f"stopped work session {session['id']} after the error below")
        except (ApiError, urllib.error.URLError) as error:
            print(f"could not stop work session {session['id']}: {error}", file=sys.stderr)
        raise
    stopped = call("POST", f"/v1/work-sessions/{session['id']}/stop")
    print(f"stopped work session {stopped['id']} ({stopped['status']})")


def main():
    if not KEY:
        print("set AGENTFLOW_KEY to an agent API key (`agentflow serve` prints a demo one)", file=sys.stderr)
        return 2
    try:
        work()
    except ApiError as error:
        problem = error.problem
        print(f"error {error.status} {problem.get('type')}: {problem.get('detail')}", file=sys.stderr)
        for issue in problem.get("errors") or []:
            print(f"  {issue.get('path')}: {issue.get('message')}", file=sys.stderr)
        return 1
    except urllib.error.URLError as error:
        print(f"cannot reach {API}: {error.reason}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
