"""Project rules for the translated template that neither cfn-lint nor checkov knows.

Each returns a list of problems (empty when the template keeps the rule), so a test can show a
rule holds for the real template and catches a template that breaks it.
"""

from __future__ import annotations

import json
import re
from typing import Any

Resources = dict[str, dict[str, Any]]

# AWS asks for a queue visibility timeout of at least six times the function timeout.
VISIBILITY_TO_TIMEOUT_RATIO = 6
SQS_DEFAULT_VISIBILITY_SECONDS = 30
LAMBDA_DEFAULT_TIMEOUT_SECONDS = 3
# Actions that cannot be scoped to a resource, so "*" is their only possible resource.
UNSCOPABLE_ACTIONS = frozenset(
    {
        "ecr:GetAuthorizationToken",
        # A Lambda function in a VPC manages its network interfaces (AWS documents "*").
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
    }
)


def of_type(resources: Resources, type_name: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in resources.items() if r["Type"] == type_name}


def referenced(value: Any) -> str | None:
    """The logical id behind {"Ref": X} or {"Fn::GetAtt": [X, ...]}."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return str(target[0] if isinstance(target, list) else target.split(".")[0])
    return None


def sqs_event_source_problems(resources: Resources) -> list[str]:
    problems = []
    for name, mapping in of_type(resources, "AWS::Lambda::EventSourceMapping").items():
        properties = mapping["Properties"]
        queue_id = referenced(properties["EventSourceArn"])
        function_id = referenced(properties["FunctionName"])
        queue = resources.get(queue_id or "")
        if queue is None or queue["Type"] != "AWS::SQS::Queue" or function_id is None:
            continue
        if "ReportBatchItemFailures" not in properties.get("FunctionResponseTypes", []):
            problems.append(f"{name}: without ReportBatchItemFailures one bad record fails all")
        timeout = int(
            resources[function_id]["Properties"].get("Timeout", LAMBDA_DEFAULT_TIMEOUT_SECONDS)
        )
        visibility = int(
            queue["Properties"].get("VisibilityTimeout", SQS_DEFAULT_VISIBILITY_SECONDS)
        )
        if visibility != VISIBILITY_TO_TIMEOUT_RATIO * timeout:
            problems.append(
                f"{queue_id}: visibility {visibility}s should be {VISIBILITY_TO_TIMEOUT_RATIO} x "
                f"the {timeout}s timeout of {function_id}"
            )
    return problems


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for policy in role["Properties"].get("Policies", []):
        found.extend(policy["PolicyDocument"]["Statement"])
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def iam_wildcard_problems(resources: Resources) -> list[str]:
    """No role may allow every action of a service, nor an action on every resource."""
    problems = []
    for name, role in of_type(resources, "AWS::IAM::Role").items():
        for statement in statements(role):
            if statement["Effect"] != "Allow":
                continue
            actions = as_list(statement["Action"])
            for action in actions:
                if action == "*" or action.endswith(":*"):
                    problems.append(f"{name}: allows {action}")
            if "*" in as_list(statement["Resource"]) and not set(actions) <= UNSCOPABLE_ACTIONS:
                problems.append(f"{name}: allows {actions} on every resource")
    return problems


def allowed_actions(role: dict[str, Any]) -> dict[str, list[Any]]:
    """Each allowed action with the resources it is allowed on."""
    found: dict[str, list[Any]] = {}
    for statement in statements(role):
        if statement["Effect"] == "Allow":
            for action in as_list(statement["Action"]):
                found.setdefault(action, []).extend(as_list(statement["Resource"]))
    return found


def container_settings(task_definition: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(environment, secrets) of the task definition's one container, by variable name."""
    (container,) = task_definition["Properties"]["ContainerDefinitions"]
    environment = {e["Name"]: e["Value"] for e in container.get("Environment", [])}
    secrets = {s["Name"]: s["ValueFrom"] for s in container.get("Secrets", [])}
    return environment, secrets


def render(value: Any, parameters: dict[str, str]) -> str:
    """A plain value, Ref or Fn::Sub as CloudFormation would resolve it, resources shown as
    <LogicalId> and pseudo parameters as a stand-in region and account."""
    pseudo = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012"}
    known = {**pseudo, **parameters}
    if isinstance(value, str | int | float):
        return str(value)
    if "Ref" in value:
        return known.get(value["Ref"], f"<{value['Ref']}>")
    if "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        return re.sub(
            r"\$\{([^}!]+)\}",
            lambda match: known.get(match.group(1), f"<{match.group(1)}>"),
            value["Fn::Sub"],
        )
    return json.dumps(value)
