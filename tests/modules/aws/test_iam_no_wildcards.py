"""No IAM grant anywhere in the AWS stacks uses a wildcard action, and every policy is one we can read.

Policies reach AWS in two shapes: ``aws_iam_policy_document`` data sources (roles,
trusts, bucket policies) and literal JSON (KMS key policies). Both are checked, and
any ``policy``-like argument in another shape fails the test, so a new resource
cannot slip a policy past it. The only wildcard action allowed is in a Deny
(``s3:*`` over plain HTTP), which can only take access away.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO
from tests.modules.aws.support import documents

POLICY_ARGUMENTS = ("policy", "assume_role_policy")
#: Resources whose ``policy`` is no IAM policy: an ECR lifecycle policy is a list of image-expiry rules.
NOT_IAM = ("aws_ecr_lifecycle_policy",)


def aws_stacks(stacks):
    return [s for name, s in stacks.items() if "-aws-" in name]


def wildcard_problems(where: str, effect: str, actions: list[str]) -> list[str]:
    return [
        f"{where}: {effect} {action!r}"
        for action in actions
        if action == "*" or (effect == "Allow" and "*" in action)
    ]


def test_no_policy_document_grants_a_wildcard_action(stacks):
    problems, checked = [], 0
    for stack in aws_stacks(stacks):
        for name, statements in documents(stack).items():
            for statement in statements:
                checked += 1
                problems += wildcard_problems(f"{stack.name} {name}", statement.get("effect", "Allow"), statement["actions"])
                assert "not_actions" not in statement, f"{stack.name} {name}: NotAction grants everything else"
    assert checked > 50 and problems == []


def test_every_policy_argument_is_a_document_reference_or_checked_json(stacks):
    problems, literal = [], 0
    for stack in aws_stacks(stacks):
        for rtype, name, body in stack.all_resources():
            for argument in POLICY_ARGUMENTS:
                if argument not in body or rtype in NOT_IAM:
                    continue
                value = body[argument]
                if value.startswith("${data.aws_iam_policy_document.") and value.endswith(".json}"):
                    continue
                literal += 1
                document = json.loads(value)  # anything else must at least be a policy we can read
                for statement in document["Statement"]:
                    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                    problems += wildcard_problems(f"{stack.name} {rtype}.{name}", statement["Effect"], actions)
                    assert "NotAction" not in statement
    assert literal > 0 and problems == []  # the KMS key policies are literal JSON


def test_the_only_wildcard_is_the_tls_deny(stacks):
    wildcards = {
        (s.get("sid"), s["effect"], tuple(s["actions"]))
        for stack in aws_stacks(stacks) for statements in documents(stack).values() for s in statements
        if any("*" in a for a in s["actions"])
    }
    assert wildcards == {("DenyInsecureTransport", "Deny", ("s3:*",))}


def test_a_wildcard_grant_is_refused_at_construction():
    """The rule also holds for code not yet written: the Statement type refuses it."""
    code = (
        "import modules\n"
        "from modules.aws.policy_document import Statement\n"
        "for actions, effect in [(('s3:*',), 'Allow'), (('*',), 'Deny'), (('s3:Get*',), 'Allow')]:\n"
        "    try:\n"
        "        Statement('x', actions, ('arn:aws:s3:::b',), effect=effect)\n"
        "    except ValueError as error:\n"
        "        print('refused', error)\n"
        "    else:\n"
        "        print('accepted', actions)\n"
        "Statement('ok', ('s3:*',), ('arn:aws:s3:::b',), effect='Deny')\n"
        "print('deny accepted')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["refused", "refused", "refused", "deny"]
    assert "wildcard action 's3:*'" in lines[0]
