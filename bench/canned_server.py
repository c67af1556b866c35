"""The benchmark's baseline: the same uvicorn stack answering every request with a canned,
valid STS GetCallerIdentity response and doing nothing else."""

from __future__ import annotations

import sys
from typing import Any

import uvicorn

BODY = b"""<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::123456789012:user/admin</Arn>
    <UserId>AIDAEXAMPLEEXAMPLEXX</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>"""
HEADERS = [
    (b"content-type", b"text/xml"),
    (b"content-length", str(len(BODY)).encode()),
    (b"x-amzn-requestid", b"00000000-0000-0000-0000-000000000000"),
]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", lifespan="off")
