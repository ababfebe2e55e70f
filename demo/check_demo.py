#!/usr/bin/env python3
"""Runs resync-demo for a ctest entry and checks what it did.

    check_demo.py --expect-exit N [--schema FILE] -- DEMO ARGS...

Checks the exit code; with --schema, that stdout is JSON valid under FILE (docs/
demo-report.schema.json), and that its check says nothing was lost exactly when the exit code
is 0; with --expect-exit 2, that the usage was printed. The schema is checked with a small
validator of the subset of JSON Schema the file uses (type, const, enum, required, properties,
additionalProperties: false, items, minimum, $ref into $defs), so CI needs only python3.
"""
import argparse
import json
import subprocess
import sys

TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "null": lambda v: v is None,
}
KNOWN = {"$schema", "$id", "$defs", "$ref", "title", "description", "type", "const", "enum", "required",
         "properties", "additionalProperties", "items", "minimum"}


def validate(value, schema, root, where, errors):
    unknown = set(schema) - KNOWN
    if unknown:
        errors.append(f"{where}: the schema uses {sorted(unknown)}, which this checker does not know")
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return validate(value, root["$defs"][name], root, where, errors)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(TYPES[t](value) for t in types):
            errors.append(f"{where}: {value!r} is not of type {types}")
            return
    if "const" in schema and value != schema["const"]:
        errors.append(f"{where}: {value!r} is not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if "minimum" in schema and TYPES["number"](value) and value < schema["minimum"]:
        errors.append(f"{where}: {value} is below {schema['minimum']}")
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{where}: no {key!r}")
        properties = schema.get("properties", {})
        for key, item in value.items():
            if key in properties:
                validate(item, properties[key], root, f"{where}.{key}", errors)
            elif schema.get("additionalProperties") is False:
                errors.append(f"{where}: {key!r} is not in the schema")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            validate(item, schema["items"], root, f"{where}[{i}]", errors)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--expect-exit", type=int, required=True)
    parser.add_argument("--schema")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command

    run = subprocess.run(command, capture_output=True, text=True, timeout=240)
    failures = []
    if run.returncode != args.expect_exit:
        failures.append(f"exit code {run.returncode}, expected {args.expect_exit}")
    if args.expect_exit == 2 and "Usage:" not in run.stderr:
        failures.append("no usage on stderr")
    if args.schema:
        try:
            report = json.loads(run.stdout)
        except json.JSONDecodeError as e:
            failures.append(f"stdout is not JSON: {e}")
        else:
            with open(args.schema, encoding="utf-8") as f:
                schema = json.load(f)
            validate(report, schema, schema, "$", failures)
            check = report.get("check", {})
            passed = check.get("nothing_lost") is True and check.get("converged") is True
            if passed != (run.returncode == 0):
                failures.append(f"exit code {run.returncode} but the check says nothing_lost="
                                f"{check.get('nothing_lost')}, converged={check.get('converged')}")
            if not report.get("resets"):
                failures.append("no reset in the report")
    if failures:
        print("command:", " ".join(command))
        print(run.stdout[-4000:])
        print(run.stderr[-4000:], file=sys.stderr)
        for f in failures:
            print("FAILED:", f)
        return 1
    print("ok:", " ".join(command[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
