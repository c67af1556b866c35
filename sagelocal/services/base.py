"""What every service provider shares: the caller, the request context, and AWS-shaped errors.

Providers are plain Python. The gateway parses a request into a dict of the operation's input
members (as botocore's model names them), calls `provider.<snake_case_operation>(ctx, params)`
and serializes the dict it returns. Providers raise `ServiceError` for anything AWS answers
with an error; they never see HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

PrincipalKind = Literal["root", "user", "assumed-role"]

# A result key a provider sets when AWS's HTTP status depends on what the operation did and the
# model has no status-code member for it (S3 answers a ranged GetObject with 206).
HTTP_STATUS = "__http_status__"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of a request."""

    account_id: str
    arn: str  # arn:aws:iam::<acct>:user/admin or arn:aws:sts::<acct>:assumed-role/<role>/<session>
    user_id: str  # AIDA... for users; AROA...:<session> for assumed roles
    kind: PrincipalKind
    access_key_id: str = ""
    # For assumed roles: the role's ARN (arn:aws:iam::<acct>:role/<path><name>) and session name.
    role_arn: str | None = None
    session_name: str | None = None

    @property
    def name(self) -> str:
        """The user's or role's name (last ARN path element for users, role name for sessions)."""
        if self.kind == "assumed-role":
            return self.arn.split("/")[1]
        return self.arn.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class RequestContext:
    """Everything a provider may know about the request besides its parameters."""

    service: str
    operation: str
    region: str
    account_id: str
    principal: Principal | None
    request_id: str
    source_ip: str | None = None
    secure_transport: bool = False
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class ServiceError(Exception):
    """An error AWS would answer with: its code, message and HTTP status.

    `fields` carries extra members of a modeled error shape (e.g. S3's BucketName, the runtime's
    OriginalStatusCode); the serializer writes those the error shape declares.
    """

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        *,
        sender_fault: bool = True,
        fields: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.sender_fault = sender_fault
        self.fields = fields or {}
        self.headers = headers or {}


class NotImplementedOperation(ServiceError):
    """An operation the model defines but sagelocal does not implement (yet)."""

    def __init__(self, service: str, operation: str) -> None:
        super().__init__(
            "NotImplemented",
            f"The operation {operation} of service {service} is not implemented by sagelocal yet.",
            501,
            sender_fault=False,
        )


class Provider:
    """Base of a service's business logic.

    `service_name` is botocore's service name (`sts`, `iam`, `logs`, ...). An operation is handled
    by the method named like botocore's `xform_name(operation)` (GetCallerIdentity ->
    get_caller_identity), taking `(ctx, params)` and returning the output members as a dict.
    Operations run on a worker thread; one that only waits on I/O may be a coroutine instead.
    """

    service_name: ClassVar[str]
    # Operations bound on the instance in `__init__` (delegated to a part) rather than defined as
    # methods: named here so the class alone tells which operations it serves.
    delegated_operations: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def serves(cls, operation: str) -> bool:
        """Whether an instance has the gateway's handler for `operation` (botocore's name)."""
        from botocore import xform_name

        name = xform_name(operation)
        return name in cls.delegated_operations or callable(getattr(cls, name, None))

    def recover(self) -> object:
        """Called once at start-up, before any request: clean up what a crash left half-done."""
        return None

    def shutdown(self) -> None:
        """Called once when the server stops: end the processes the provider supervises."""

    def authz_actions(self, ctx: RequestContext, operation: str, params: dict[str, Any]) -> list[Any]:
        """The permissions an operation needs (`authz_requests.ActionRequest`s); by default
        `<service>:<Operation>` on any resource. Services override it with AWS's mapping."""
        from sagelocal.services.authz_requests import ActionRequest

        return [ActionRequest(f"{self.service_name}:{operation}")]


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (what every stored timestamp is)."""
    return datetime.now(UTC)
