"""Validates the JSON document on stdin against the JSON Schema named on
the command line (draft 2020-12); prints every error and exits 1 if any."""

import json
import sys

import jsonschema

with open(sys.argv[1], encoding="utf-8") as f:
    schema = json.load(f)
jsonschema.Draft202012Validator.check_schema(schema)
document = json.load(sys.stdin)
errors = list(jsonschema.Draft202012Validator(schema).iter_errors(document))
for error in errors:
    path = "/".join(str(p) for p in error.absolute_path)
    print(f"{path or '(root)'}: {error.message}")
sys.exit(1 if errors else 0)
