#!/usr/bin/env bash
# Packages both Lambda functions into one folder, the CodeUri of infra/template.yaml
# (build/lambda, or the folder given): requirements-lambdas.txt (the `lambdas` extra, pinned
# with hashes from the one resolution, `make lock`) as Linux x86_64 wheels for the python3.11
# runtime (Amazon Linux 2: manylinux 2.17 at most), plus the lambdas/ and contracts/ packages.
# tests/lambdas/test_built_package.py runs each handler of the template from this folder alone.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-build/lambda}
uv=${UV:-.venv/bin/uv}
for package in lambdas contracts; do
    [[ -d $package ]] || { echo "no $package/ folder to package" >&2; exit 1; }
done

rm -rf "$out" && mkdir -p "$out"
"$uv" pip install --quiet --require-hashes --no-deps --target "$out" \
    --python-version 3.11 --python-platform x86_64-manylinux_2_17 --only-binary :all: \
    --no-compile-bytecode --requirement requirements-lambdas.txt
cp -R lambdas contracts "$out/"
find "$out" -name __pycache__ -type d -prune -exec rm -rf {} +
echo "packaged $(du -sh "$out" | cut -f1) into $out"
