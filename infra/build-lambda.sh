#!/usr/bin/env bash
# Packages both Lambda functions into build/lambda, the CodeUri of infra/template.yaml: the
# `lambdas` extra of pyproject.toml at the versions the tests ran (requirements-dev.txt), as
# Linux x86_64 wheels for the python3.11 runtime, plus the lambdas/ package itself.
set -euo pipefail
cd "$(dirname "$0")/.."

out=build/lambda
uv=${UV:-.venv/bin/uv}
pip=${PIP:-.venv/bin/pip}
[[ -d lambdas ]] || { echo "no lambdas/ folder to package" >&2; exit 1; }

rm -rf "$out" && mkdir -p "$out"
"$uv" pip compile --quiet pyproject.toml --extra lambdas \
    --constraint requirements-dev.txt --output-file build/requirements-lambda.txt
"$pip" install --quiet --disable-pip-version-check --target "$out" \
    --implementation cp --python-version 3.11 --only-binary=:all: \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux_2_28_x86_64 \
    --requirement build/requirements-lambda.txt
cp -R lambdas "$out/lambdas"
find "$out" -name __pycache__ -type d -prune -exec rm -rf {} +
echo "packaged $(du -sh "$out" | cut -f1) into $out"
