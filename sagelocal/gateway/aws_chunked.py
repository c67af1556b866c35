"""Decode `Content-Encoding: aws-chunked` request bodies, checking chunk and trailer signatures.

The framing (S3's SigV4 streaming uploads; boto3 >= 1.36 sends it for every PutObject over TLS)::

    <hex-size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n   ... repeated ...
    0[;chunk-signature=<sig>]\\r\\n
    [<trailer-name>:<value>\\r\\n ...][x-amz-trailer-signature:<sig>\\r\\n]
    \\r\\n

In the signed modes (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`) each chunk's signature chains
from the previous one, starting at the request's seed signature, and a signed trailer closes the
chain. `AwsChunkedDecoder` is incremental: feed it the body as it arrives and it hands back decoded
bytes, so a multi-GB upload never sits in memory. In the signed modes it hands a chunk's bytes back
only once that chunk's signature has been checked, so it holds at most one chunk.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from botocore.auth import EMPTY_SHA256_HASH

from sagelocal.gateway.http import HttpRequest
from sagelocal.gateway.sigv4 import PayloadMode, SignatureInfo, signing_key
from sagelocal.gateway.sigv4_errors import Family, SigV4Error, auth_error

MIN_CHUNK_SIZE = 8192  # S3: only the last chunk may be smaller
_MAX_LINE = 4096  # a chunk header or trailer line; real ones are ~100 bytes
_HEADER, _DATA, _DATA_END, _TRAILER, _DONE = range(5)
_TRAILER_SIGNATURE = "x-amz-trailer-signature"


class ChunkSigner:
    """The chained signatures of a signed streaming upload, from its seed signature."""

    def __init__(
        self, key: bytes, amz_date: str, scope: str, seed_signature: str, access_key_id: str = ""
    ) -> None:
        self.key = key
        self.amz_date = amz_date
        self.scope = scope
        self.previous = seed_signature
        self.access_key_id = access_key_id

    def chunk_string_to_sign(self, data_sha256: str) -> str:
        return f"AWS4-HMAC-SHA256-PAYLOAD\n{self.amz_date}\n{self.scope}\n{self.previous}\n{EMPTY_SHA256_HASH}\n{data_sha256}"

    def trailer_string_to_sign(self, trailer_sha256: str) -> str:
        return f"AWS4-HMAC-SHA256-TRAILER\n{self.amz_date}\n{self.scope}\n{self.previous}\n{trailer_sha256}"

    def sign(self, string_to_sign: str) -> str:
        return hmac.new(self.key, string_to_sign.encode(), hashlib.sha256).hexdigest()

    def check(self, string_to_sign: str, provided: str, family: Family) -> None:
        """Raise SignatureDoesNotMatch unless `provided` signs `string_to_sign`; else chain it."""
        if not hmac.compare_digest(self.sign(string_to_sign).encode(), provided.encode()):
            raise auth_error(
                family,
                "signature_mismatch",
                access_key_id=self.access_key_id,
                canonical_request="",
                string_to_sign=string_to_sign,
                signature=provided,
            )
        self.previous = provided


class AwsChunkedDecoder:
    """Incremental aws-chunked decoder: `feed` bytes as they arrive, then `finish` for the trailers.

    The signed streaming modes check every chunk; any other mode decodes unsigned chunks (also
    what the AWS SDK for Java v2 sends as `UNSIGNED-PAYLOAD` with `Content-Encoding: aws-chunked`).
    """

    def __init__(
        self,
        mode: PayloadMode,
        decoded_length: int | None,
        *,
        trailers: Iterable[str] = (),
        signer: ChunkSigner | None = None,
        family: Family = Family.S3,
        min_chunk_size: int = MIN_CHUNK_SIZE,
    ) -> None:
        if mode.is_signed_streaming and signer is None:
            raise ValueError(f"{mode} needs a ChunkSigner")
        self._signer = signer if mode.is_signed_streaming else None
        self._trailer_signed = mode is PayloadMode.STREAMING_SIGNED_TRAILER
        self._expected = tuple(dict.fromkeys(t.strip().lower() for t in trailers if t.strip()))
        self._length = decoded_length
        self._family = family
        self._min_chunk = min_chunk_size
        self._state = _HEADER
        self._line = bytearray()
        self._remaining = 0
        self._chunk_signature = ""
        self._hash = hashlib.sha256()
        self._pending: list[bytes] = []
        self._chunks = 0
        self._previous_size: int | None = None
        self._decoded = 0
        self._trailer_lines: list[str] = []
        self._trailer_signature: str | None = None
        self.trailers: dict[str, str] = {}

    @classmethod
    def for_request(
        cls, request: HttpRequest, info: SignatureInfo, secret_key: str | None
    ) -> AwsChunkedDecoder:
        """A decoder for `request`'s body; `secret_key` is needed in the signed modes."""
        raw = request.headers.get("x-amz-decoded-content-length")
        if raw is None or not (raw.isascii() and raw.isdigit()):
            raise auth_error(info.family, "decoded_length_missing")
        signer = None
        if info.payload_mode.is_signed_streaming:
            if secret_key is None:
                raise ValueError("a signed streaming payload needs the secret key")
            key = signing_key(secret_key, info.scope_date, info.region, info.service)
            signer = ChunkSigner(key, info.amz_date, info.scope, info.signature, info.access_key_id)
        trailers = request.headers.get("x-amz-trailer", "").split(",")
        return cls(info.payload_mode, int(raw), trailers=trailers, signer=signer, family=info.family)

    @property
    def done(self) -> bool:
        """The terminating chunk and trailers have been read."""
        return self._state == _DONE

    def feed(self, data: bytes) -> bytes:
        """Decode the next piece of the body; returns the payload bytes it completes (maybe b'')."""
        out: list[bytes] = []
        pos, end = 0, len(data)
        while pos < end:
            if self._state == _DATA:
                take = min(self._remaining, end - pos)
                piece = data[pos : pos + take]
                pos += take
                self._remaining -= take
                if self._signer is not None:
                    self._hash.update(piece)
                    self._pending.append(piece)
                else:
                    out.append(piece)
                if not self._remaining:
                    self._state = _DATA_END
                continue
            if self._state == _DONE:
                raise self._error("incomplete_body")
            newline = data.find(b"\n", pos, min(end, pos + _MAX_LINE + 1 - len(self._line)))
            if newline < 0:
                if len(self._line) + end - pos > _MAX_LINE:
                    raise self._error("incomplete_body")
                self._line += data[pos:end]
                break
            self._line += data[pos : newline + 1]
            pos = newline + 1
            line = bytes(self._line)
            self._line.clear()
            if not line.endswith(b"\r\n"):
                raise self._error("incomplete_body")
            self._on_line(line[:-2], out)
        return b"".join(out)

    def finish(self) -> dict[str, str]:
        """Check the body ended where it should; returns the trailers (lower-case names)."""
        if self._state != _DONE:
            raise self._error("incomplete_body")
        if self._length is not None and self._decoded != self._length:
            raise self._error("decoded_length_mismatch", expected=self._length, provided=self._decoded)
        return self.trailers

    def _error(self, kind: str, **ctx: object) -> SigV4Error:
        return auth_error(self._family, kind, **ctx)

    def _on_line(self, line: bytes, out: list[bytes]) -> None:
        if self._state == _HEADER:
            self._chunk_header(line)
        elif self._state == _DATA_END:
            if line:
                raise self._error("incomplete_body")
            if self._signer is not None:
                sts = self._signer.chunk_string_to_sign(self._hash.hexdigest())
                self._signer.check(sts, self._chunk_signature, self._family)
                out.extend(self._pending)
                self._pending = []
            self._state = _HEADER
        elif line:
            self._trailer_line(line)
        else:
            self._end_trailers()

    def _chunk_header(self, line: bytes) -> None:
        size_text, _, extension = line.partition(b";")
        if not size_text or len(size_text) > 16 or not all(c in b"0123456789abcdefABCDEF" for c in size_text):
            raise self._error("incomplete_body")
        size = int(size_text, 16)
        if extension:
            name, eq, value = extension.partition(b"=")
            if name.strip() != b"chunk-signature" or not eq:
                raise self._error("incomplete_body")
            self._chunk_signature = value.strip().decode("ascii", "replace")
        elif self._signer is not None:
            raise self._error("incomplete_body")
        if size and self._previous_size is not None and self._previous_size < self._min_chunk:
            raise self._error("chunk_size", chunk=self._chunks + 1, size=self._previous_size)
        self._chunks += 1
        self._previous_size = size
        self._decoded += size
        if self._length is not None and self._decoded > self._length:
            raise self._error("decoded_length_mismatch", expected=self._length, provided=self._decoded)
        if size:
            self._remaining = size
            self._hash = hashlib.sha256()
            self._state = _DATA
            return
        if self._signer is not None:
            self._signer.check(
                self._signer.chunk_string_to_sign(EMPTY_SHA256_HASH), self._chunk_signature, self._family
            )
        self._state = _TRAILER

    def _trailer_line(self, line: bytes) -> None:
        name_bytes, colon, value_bytes = line.partition(b":")
        if not colon or not name_bytes.isascii():
            raise self._error("malformed_trailer")
        name = name_bytes.strip().lower().decode()
        value = value_bytes.strip().decode("latin-1")
        if name == _TRAILER_SIGNATURE:
            if not self._trailer_signed or self._trailer_signature is not None:
                raise self._error("malformed_trailer")
            self._trailer_signature = value
            return
        if self._trailer_signature is not None or name not in self._expected or name in self.trailers:
            raise self._error("malformed_trailer")
        self.trailers[name] = value
        self._trailer_lines.append(f"{name}:{value}\n")

    def _end_trailers(self) -> None:
        if any(name not in self.trailers for name in self._expected):
            raise self._error("incomplete_body")
        if self._trailer_signed and self._signer is not None:
            if self._trailer_signature is None:
                raise self._error("incomplete_body")
            digest = hashlib.sha256("".join(self._trailer_lines).encode("latin-1")).hexdigest()
            self._signer.check(
                self._signer.trailer_string_to_sign(digest), self._trailer_signature, self._family
            )
        self._state = _DONE


def decode_request(
    request: HttpRequest, info: SignatureInfo, secret_key: str | None
) -> tuple[bytes, dict[str, str]]:
    """The whole decoded body of an aws-chunked request already in memory, and its trailers."""
    decoder = AwsChunkedDecoder.for_request(request, info, secret_key)
    data = decoder.feed(request.body)
    return data, decoder.finish()
