#!/usr/bin/env bash
# Creates or updates one environment's stack (see infra/README.md):
#
#   ARTIFACTS_BUCKET=my-artifacts infra/deploy.sh staging ApiImageTag=abc123 ...
#
# Packages the Lambda code, uploads it with the template (`aws cloudformation package`), then
# deploys with infra/parameters/<environment>.json plus the Key=Value overrides given. A
# parameter given neither way keeps its current value, so image tags move only when named.
set -euo pipefail

usage() {
    echo "usage: ARTIFACTS_BUCKET=<bucket> $0 staging|production [Key=Value ...]" >&2
    exit 64
}
[[ $# -ge 1 ]] || usage
environment=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
parameters="$here/parameters/$environment.json"
[[ -f $parameters ]] || usage
: "${ARTIFACTS_BUCKET:?set ARTIFACTS_BUCKET to an S3 bucket for packaged code}"
stack=${STACK_NAME:-reframer-$environment}
packaged="$here/../build/$stack.packaged.yaml"

"$here/build-lambda.sh"
aws cloudformation package \
    --template-file "$here/template.yaml" \
    --s3-bucket "$ARTIFACTS_BUCKET" --s3-prefix "$stack" \
    --output-template-file "$packaged"

mapfile -t from_file < <(python3 -c '
import json, sys
for entry in json.load(open(sys.argv[1])):
    print(entry["ParameterKey"] + "=" + entry["ParameterValue"])
' "$parameters")

aws cloudformation deploy \
    --stack-name "$stack" \
    --template-file "$packaged" \
    --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND \
    --no-fail-on-empty-changeset \
    --tags "Application=reframer" "Environment=$environment" \
    --parameter-overrides "${from_file[@]}" "$@"
