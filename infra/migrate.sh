#!/usr/bin/env bash
# Runs the one-off migration task of a deployed stack and waits for it (see infra/README.md):
#
#   infra/migrate.sh staging                  # alembic upgrade head
#   infra/migrate.sh staging downgrade -1     # any other alembic command, for a rollback
#
# The task runs the image of the stack's MigrationImageTag. Exits non-zero when it failed.
set -euo pipefail

[[ $# -ge 1 ]] || { echo "usage: $0 staging|production [alembic arguments]" >&2; exit 64; }
environment=$1
shift
stack=${STACK_NAME:-reframer-$environment}

output() {
    aws cloudformation describe-stacks --stack-name "$stack" \
        --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
cluster=$(output ClusterName)
network="awsvpcConfiguration={subnets=[$(output MigrationSubnetIds)],"
network+="securityGroups=[$(output MigrationSecurityGroupId)],assignPublicIp=DISABLED}"
overrides=()
if [[ $# -gt 0 ]]; then
    command_json=$(python3 -c 'import json, sys; print(json.dumps(["alembic", *sys.argv[1:]]))' "$@")
    overrides=(--overrides "{\"containerOverrides\": [{\"name\": \"migrate\", \"command\": $command_json}]}")
fi

task=$(aws ecs run-task \
    --cluster "$cluster" \
    --task-definition "$(output MigrationTaskDefinitionArn)" \
    --launch-type FARGATE \
    --network-configuration "$network" \
    "${overrides[@]}" \
    --query 'tasks[0].taskArn' --output text)
echo "migration task $task started; waiting for it to stop"
aws ecs wait tasks-stopped --cluster "$cluster" --tasks "$task"
exit_code=$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task" \
    --query 'tasks[0].containers[0].exitCode' --output text)
echo "migration task exited with $exit_code (logs: $(output ApiLogGroupName), streams migrate/...)"
[[ $exit_code == 0 ]]
