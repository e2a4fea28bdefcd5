"""Expands infra/template.yaml (SAM) into plain CloudFormation, offline.

This is the transform `sam deploy` has CloudFormation run; the tests deploy its output into moto.
It needs aws-sam-translator and cfn-lint, which live in the tools virtualenv:

    .venv-tools/bin/python infra/sam_translate.py infra/template.yaml \
        --code-uri s3://artifacts/lambda.zip > build/template.json

`--code-uri` stands in for `aws cloudformation package`: every function whose CodeUri is a
local folder gets that S3 location instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from cfnlint.decode import decode
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

SERVERLESS_FUNCTION = "AWS::Serverless::Function"


def point_code_at(template: dict[str, Any], code_uri: str) -> None:
    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties", {})
        if resource.get("Type") == SERVERLESS_FUNCTION and not str(
            properties.get("CodeUri", "")
        ).startswith("s3://"):
            properties["CodeUri"] = code_uri


def translate(template_path: str, code_uri: str | None) -> dict[str, Any]:
    template, problems = decode(template_path)
    if problems or template is None:
        raise SystemExit("\n".join(str(problem) for problem in problems) or "empty template")
    if code_uri:
        point_code_at(template, code_uri)
    # Functions name their roles explicitly, so no managed-policy lookup (an IAM call) is needed.
    translated: dict[str, Any] = Translator(managed_policy_map={}, sam_parser=Parser()).translate(
        sam_template=template, parameter_values={}
    )
    return translated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("template")
    parser.add_argument("--code-uri", help="s3:// location of the packaged Lambda code")
    args = parser.parse_args()
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    json.dump(translate(args.template, args.code_uri), sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
