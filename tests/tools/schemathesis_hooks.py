"""Schemathesis hooks for tests/api/fuzz.rs: what lets generated requests get past the preconditions a
generator cannot guess (a fresh Idempotency-Key, the current ETag, an NDJSON import), so that they reach
the handlers. Nothing here hides a failure.

Environment (set by fuzz.rs): FUZZ_URL (the server), FUZZ_READER (a token that reads the world's cases),
FUZZ_ADMIN (the administrator's token), FUZZ_IMPORT_DOC (a file holding one exported case document).
"""

import itertools
import json
import os
from datetime import date

import requests
import schemathesis
from hypothesis import strategies as st

URL = os.environ["FUZZ_URL"]
READER = {"Authorization": f"Bearer {os.environ['FUZZ_READER']}"}
ADMIN = {"Authorization": f"Bearer {os.environ['FUZZ_ADMIN']}"}
with open(os.environ["FUZZ_IMPORT_DOC"], encoding="utf-8") as f:
    IMPORT_DOC = json.load(f)

# The If-Match dictionary's placeholder for "the version the resource has right now".
CURRENT = '"current"'
_keys = itertools.count(1)


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if isinstance(value, bytes):
        return {"data": value}
    if not isinstance(value, str):
        value = json.dumps(value)
    return {"data": value.encode("utf-8")}


def _text(value):
    return value if isinstance(value, str) else json.dumps(value)


@schemathesis.hook
def flatmap_body(context, body):
    """An import gets, besides the generated text, a real case document: unchanged, with the generated
    text as its concern (an update of the stored case), and under a new reference with the generated text
    as the child's name (a new case)."""
    if context.operation is None or context.operation.label != "POST /api/v1/imports":
        return st.just(body)
    text = _text(body)
    updated = json.loads(json.dumps(IMPORT_DOC))
    updated["case"]["concern"] = text
    created = json.loads(json.dumps(IMPORT_DOC))
    created["case"]["external_refs"] = [{"system": "fuzz", "id": f"F-{abs(hash(text)) % 10**9}"}]
    created["case"]["subject"]["given_name"] = text
    return st.sampled_from(
        [body, json.dumps(IMPORT_DOC), json.dumps(updated), json.dumps(created) + "\n" + text]
    )


def _get(path, headers):
    return requests.get(URL + path, headers=headers, timeout=10)


def _current_etag(path):
    """The ETag the resource at `path` (or, for an action on a case, the case) has now."""
    headers = ADMIN if not path.startswith("/api/v1/cases") else READER
    for suffix in ("/close", "/level-changes", "/steps", "/decision", "/reopen"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
    res = _get(path, headers)
    if res.status_code == 200 and res.headers.get("ETag"):
        return res.headers["ETag"]
    # No GET of its own (a participant, a service, a level): its version in the list of its parent.
    parent, _, last = path.rpartition("/")
    res = _get(parent + ("?limit=200" if parent.endswith("/services") else ""), headers)
    if res.status_code == 200:
        body = res.json()
        for item in body.get("items", body if isinstance(body, list) else []):
            if str(item.get("id")) == last or str(item.get("level")) == last:
                return f'"{item.get("version")}"'
    return None


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers or {}
    # A fresh key for each request, as a client makes one: a key reused for another body is a 422 that
    # would stop the request before the handler (replays are proven by tests/api/idempotency.rs).
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and key and all("!" <= c <= "~" for c in key):
        headers["Idempotency-Key"] = f"{key[:240]}-{next(_keys)}"
    if headers.get("If-Match") == CURRENT:
        etag = _current_etag(case.formatted_path)
        if etag is not None:
            headers["If-Match"] = etag
    case.headers = headers
