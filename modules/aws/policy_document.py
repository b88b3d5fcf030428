"""An IAM policy document built from typed statements, with the no-wildcard rule enforced.

Every policy in the AWS modules (key, bucket, role, trust) goes through here, so
the rule "no ``*`` action in any grant" is checked once, at synth, before a test
or checkov ever sees it. A ``Deny`` may name a whole service (``s3:*``): denying
everything over plain HTTP is stricter than listing actions, never looser.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from constructs import Construct


@dataclass(frozen=True)
class Condition:
    test: str
    variable: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    sid: str
    actions: tuple[str, ...]
    #: Empty only in a trust policy, where IAM forbids a Resource element.
    resources: tuple[str, ...] = ()
    effect: str = "Allow"
    #: ``(type, identifiers)`` pairs, for resource policies and trust policies only.
    principals: tuple[tuple[str, tuple[str, ...]], ...] = ()
    conditions: tuple[Condition, ...] = ()

    def __post_init__(self) -> None:
        if self.effect not in ("Allow", "Deny"):
            raise ValueError(f"{self.sid}: effect must be Allow or Deny, not {self.effect!r}")
        if not self.actions:
            raise ValueError(f"{self.sid}: a statement needs at least one action")
        for action in self.actions:
            if action == "*" or (self.effect == "Allow" and "*" in action):
                raise ValueError(f"{self.sid}: wildcard action {action!r}; list the actions this grant needs")


def _render(statement: Statement) -> DataAwsIamPolicyDocumentStatement:
    return DataAwsIamPolicyDocumentStatement(
        sid=statement.sid,
        effect=statement.effect,
        actions=list(statement.actions),
        resources=list(statement.resources) or None,
        principals=[
            DataAwsIamPolicyDocumentStatementPrincipals(type=kind, identifiers=list(ids))
            for kind, ids in statement.principals
        ] or None,
        condition=[
            DataAwsIamPolicyDocumentStatementCondition(test=c.test, variable=c.variable, values=list(c.values))
            for c in statement.conditions
        ] or None,
    )


def policy_document(scope: Construct, id_: str, statements: list[Statement]) -> str:
    """The document's JSON (a Terraform reference), for a ``policy`` argument."""
    sids = [s.sid for s in statements]
    if len(set(sids)) != len(sids):
        raise ValueError(f"{id_}: statement ids must be unique: {sids}")
    return DataAwsIamPolicyDocument(scope, id_, statement=[_render(s) for s in statements]).json


def policy_json(statements: list[Statement]) -> str:
    """The same statements as literal policy JSON, for a KMS key policy.

    A key policy's ``Resource: "*"`` means "this key"; rendered as a policy
    document data source, scanners would read it as an identity policy granting
    every resource. Literal JSON keeps it what it is: a resource policy.
    """

    def render(statement: Statement) -> dict:
        body: dict = {"Sid": statement.sid, "Effect": statement.effect, "Action": list(statement.actions)}
        if statement.resources:
            body["Resource"] = list(statement.resources)
        if statement.principals:
            body["Principal"] = {kind: list(ids) for kind, ids in statement.principals}
        conditions: dict = {}
        for c in statement.conditions:
            conditions.setdefault(c.test, {})[c.variable] = list(c.values)
        if conditions:
            body["Condition"] = conditions
        return body

    return json.dumps({"Version": "2012-10-17", "Statement": [render(s) for s in statements]}, sort_keys=True)


def service_principal(*services: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return (("Service", tuple(services)),)


def account_principal(account_id: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The account itself, which delegates to IAM policies (the key-policy default)."""
    return (("AWS", (f"arn:aws:iam::{account_id}:root",)),)


def same_account(account_id: str) -> Condition:
    """Confused-deputy guard for service principals."""
    return Condition("StringEquals", "aws:SourceAccount", (account_id,))
