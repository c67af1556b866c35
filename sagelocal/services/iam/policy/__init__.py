"""IAM policy evaluation: pure functions over plain values (no HTTP, no database).

policy = compile_policy(document_json, source="arn:aws:iam::aws:policy/AmazonSageMakerFullAccess")
decision = evaluate(AuthzRequest(principal_arn, account_id, "s3:GetObject", "arn:aws:s3:::b/k",
                                 {"aws:SecureTransport": "true"}), [policy])
if not decision.allowed:
    raise AccessDenied(access_denied_message(request, decision))
"""

from sagelocal.services.iam.policy.compile import compile_policy
from sagelocal.services.iam.policy.engine import access_denied_message, evaluate
from sagelocal.services.iam.policy.model import (
    AuthzRequest,
    CompiledPolicy,
    Decision,
    PolicyError,
    StatementRef,
)
from sagelocal.services.iam.policy.principals import PrincipalInfo, parse_principal

__all__ = [
    "AuthzRequest",
    "CompiledPolicy",
    "Decision",
    "PolicyError",
    "PrincipalInfo",
    "StatementRef",
    "access_denied_message",
    "compile_policy",
    "evaluate",
    "parse_principal",
]
