#!/usr/bin/env python3
"""Checks the committed OpenAPI document with tools we did not write.

1. openapi-spec-validator validates it as OpenAPI 3.1 (this also resolves every `$ref`).
2. Every `$ref` resolves inside the document (checked again by hand, with the failing pointer named).
3. Every `example` validates against the schema it stands in (JSON Schema 2020-12, `jsonschema`).
4. No object schema is closed (`additionalProperties: false`) while an `allOf` beside it adds properties,
   which would make the schema impossible to satisfy.

With `--bodies FILE` (a JSON list of `{"schema": "<$ref>", "label": ..., "body": ...}`), each body must
also validate against its schema: the proof that every request schema can be satisfied.

Exit code 0 when all hold; otherwise each failure is printed on its own line and the exit code is 1.
Usage: check_spec.py [openapi.json] [--bodies FILE]
"""
import json
import sys

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

args = sys.argv[1:]
bodies_file = None
if "--bodies" in args:
    i = args.index("--bodies")
    bodies_file = args[i + 1]
    del args[i:i + 2]
path = args[0] if args else "openapi/openapi.json"
doc = json.load(open(path, encoding="utf-8"))
failures = []


def walk(node, pointer=""):
    if isinstance(node, dict):
        yield pointer, node
        for k, v in node.items():
            yield from walk(v, f"{pointer}/{k.replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, f"{pointer}/{i}")


def resolve(ref):
    node = doc
    for part in ref.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


for pointer, node in walk(doc):
    ref = node.get("$ref")
    if isinstance(ref, str):
        try:
            resolve(ref)
        except (KeyError, IndexError, TypeError):
            failures.append(f"{pointer}: $ref {ref} resolves to nothing")

if not failures:
    try:
        validate(doc)
    except Exception as e:  # the validator's own error names the place
        failures.append(f"openapi-spec-validator: {str(e).splitlines()[0][:500]}")

def errors_against(schema, instance):
    # Local `#/components/...` references resolve against the whole document.
    full = dict(doc)
    full.update({"$schema": "https://json-schema.org/draft/2020-12/schema", "allOf": [schema]})
    checker = Draft202012Validator.FORMAT_CHECKER
    return [e.message[:200] for e in Draft202012Validator(full, format_checker=checker).iter_errors(instance)]


def check_example(pointer, schema, example):
    for message in errors_against(schema, example):
        failures.append(f"{pointer}: example {json.dumps(example)[:80]} fails: {message}")


for pointer, node in walk(doc):
    if "example" in node and isinstance(node.get("schema"), dict):
        # A parameter or media type: the example belongs to `schema`.
        check_example(pointer, node["schema"], node["example"])
    elif "example" in node and pointer.startswith("/components/schemas") and "type" in node or "example" in node and pointer.count("/properties/"):
        schema = {k: v for k, v in node.items() if k != "example"}
        check_example(pointer, schema, node["example"])

for pointer, node in walk(doc):
    if node.get("additionalProperties") is False and "allOf" in node:
        failures.append(f"{pointer}: closed object combined with allOf")
    for branch_list in ("allOf",):
        for i, branch in enumerate(node.get(branch_list, []) if isinstance(node.get(branch_list), list) else []):
            if isinstance(branch, dict) and "$ref" in branch:
                try:
                    target = resolve(branch["$ref"])
                except Exception:
                    continue
                others = [b for j, b in enumerate(node[branch_list]) if j != i and isinstance(b, dict)]
                added = {p for b in others for p in b.get("properties", {})}
                if target.get("additionalProperties") is False and added - set(target.get("properties", {})):
                    failures.append(
                        f"{pointer}/{branch_list}: {branch['$ref']} is closed but the allOf adds "
                        f"{sorted(added - set(target.get('properties', {})))}: no body can satisfy it")

if bodies_file:
    for item in json.load(open(bodies_file, encoding="utf-8")):
        for message in errors_against({"$ref": item["schema"]}, item["body"]):
            failures.append(f"body {item['label']} does not fit {item['schema']}: {message}")

for f in failures:
    print(f)
if failures:
    sys.exit(1)
print(f"{path}: valid OpenAPI {doc.get('openapi')}, every $ref resolves, every example fits its schema")
