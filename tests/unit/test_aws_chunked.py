"""aws-chunked bodies: AWS's own signed examples, boto3's unsigned-trailer uploads, and tampering."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from sagelocal.gateway.aws_chunked import AwsChunkedDecoder, decode_request
from sagelocal.gateway.http import Headers, HttpRequest
from sagelocal.gateway.sigv4 import PayloadMode, SigV4Error, parse_signature
from tests.unit.sigv4_helpers import ACCESS_KEY, REGION, SECRET, capture, client, received, verify

EMPTY = hashlib.sha256(b"").hexdigest()


def feeds(body: bytes, sizes: tuple[int, ...] = (1, 7, 13, 4099, 2, 65537)) -> Iterator[bytes]:
    """`body` in odd-sized pieces, cycling through `sizes`."""
    pos, i = 0, 0
    while pos < len(body):
        yield body[pos : pos + sizes[i % len(sizes)]]
        pos += sizes[i % len(sizes)]
        i += 1


def decode_in_pieces(decoder: AwsChunkedDecoder, body: bytes) -> tuple[bytes, dict[str, str]]:
    out = b"".join(decoder.feed(piece) for piece in feeds(body))
    return out, decoder.finish()


# --- AWS's worked examples (Amazon S3 API reference, "Signature Calculations for ... Multiple Chunks") --

AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def _aws_example(trailer: bool) -> HttpRequest:
    if trailer:
        seed = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
        chunk_sigs = [
            "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
            "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
            "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
        ]
        tail = (
            b"x-amz-checksum-crc32c:sOO8/Q==\r\n"
            b"x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n\r\n"
        )
        signed = "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer"
        mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    else:
        seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
        chunk_sigs = [
            "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
            "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
        ]
        tail = b"\r\n"
        signed = "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class"
        mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    body = (
        b"10000;chunk-signature=%s\r\n%s\r\n" % (chunk_sigs[0].encode(), b"a" * 65536)
        + b"400;chunk-signature=%s\r\n%s\r\n" % (chunk_sigs[1].encode(), b"a" * 1024)
        + b"0;chunk-signature=%s\r\n" % chunk_sigs[2].encode()
        + tail
    )
    auth = f"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders={signed},Signature={seed}"
    headers = [
        ("host", "s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("authorization", auth),
        ("x-amz-content-sha256", mode),
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("content-length", str(len(body))),
    ]
    if trailer:
        headers.append(("x-amz-trailer", "x-amz-checksum-crc32c"))
    return HttpRequest("PUT", "/examplebucket/chunkObject.txt", "", Headers(headers), body)


@pytest.mark.parametrize("trailer", [False, True])
def test_aws_signed_streaming_examples(trailer: bool) -> None:
    request = _aws_example(trailer)
    info = verify(request, "s3", secret=AWS_SECRET, now=datetime(2013, 5, 24, 0, 1, tzinfo=UTC))
    data, trailers = decode_in_pieces(AwsChunkedDecoder.for_request(request, info, AWS_SECRET), request.body)
    assert data == b"a" * 66560
    assert trailers == ({"x-amz-checksum-crc32c": "sOO8/Q=="} if trailer else {})
    assert decode_request(request, info, AWS_SECRET) == (data, trailers)


def test_signed_chunks_are_released_only_once_verified() -> None:
    request = _aws_example(trailer=False)
    info = parse_signature(request, "s3")
    decoder = AwsChunkedDecoder.for_request(request, info, AWS_SECRET)
    first_chunk_end = request.body.index(b"\r\n", 100)  # header line, then 65536 bytes of data
    assert decoder.feed(request.body[:first_chunk_end]) == b""
    assert decoder.feed(request.body[first_chunk_end : first_chunk_end + 2]) == b"a" * 65536
    assert not decoder.done


# --- boto3's uploads: STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer ---------------------


def test_boto3_put_object_over_tls_is_aws_chunked_and_decodes() -> None:
    payload = bytes(range(256)) * 9000 + b"tail"  # ~2.2 MiB: three 1 MiB-sized chunks
    request = capture(
        client("s3", endpoint="https://127.0.0.1:4570"), "put_object", Bucket="b", Key="k", Body=payload
    )
    assert request.headers["content-encoding"] == "aws-chunked"
    info = verify(request, "s3")
    assert info.payload_mode is PayloadMode.STREAMING_UNSIGNED_TRAILER
    data, trailers = decode_in_pieces(AwsChunkedDecoder.for_request(request, info, None), request.body)
    assert data == payload
    crc = base64.b64encode(zlib.crc32(payload).to_bytes(4, "big")).decode()
    assert trailers == {"x-amz-checksum-crc32": crc}


def _unsigned_body(payload: bytes, chunk_size: int = 8192) -> bytes:
    return AwsChunkedWrapper(io.BytesIO(payload), Crc32Checksum, "x-amz-checksum-crc32", chunk_size).read()


def _unsigned_decoder(
    length: int | None, trailers: tuple[str, ...] = ("x-amz-checksum-crc32",)
) -> AwsChunkedDecoder:
    return AwsChunkedDecoder(PayloadMode.STREAMING_UNSIGNED_TRAILER, length, trailers=trailers)


def test_botocore_chunked_wrapper_body_decodes_in_odd_pieces() -> None:
    payload = b"0123456789" * 3000
    data, trailers = decode_in_pieces(_unsigned_decoder(len(payload)), _unsigned_body(payload))
    assert data == payload and list(trailers) == ["x-amz-checksum-crc32"]
    # The AWS SDK for Java v2 sends such bodies as UNSIGNED-PAYLOAD with Content-Encoding: aws-chunked.
    java = AwsChunkedDecoder(PayloadMode.UNSIGNED, len(payload), trailers=["x-amz-checksum-crc32"])
    assert decode_in_pieces(java, _unsigned_body(payload)) == (data, trailers)


def _error(decoder: AwsChunkedDecoder, body: bytes) -> SigV4Error:
    with pytest.raises(SigV4Error) as err:
        decode_in_pieces(decoder, body)
    return err.value


def test_malformed_framing_is_incomplete_body() -> None:
    payload = b"z" * 20000
    body = _unsigned_body(payload)
    for broken in (body[:-3], body.replace(b"2000\r\n", b"2000\n", 1), b"zz\r\n" + body, body + b"extra"):
        err = _error(_unsigned_decoder(len(payload)), broken)
        assert (err.code, err.status, err.message) == (
            "IncompleteBody",
            400,
            "The request body terminated unexpectedly",
        )


def test_decoded_length_must_match() -> None:
    body = _unsigned_body(b"z" * 20000)
    err = _error(_unsigned_decoder(19999), body)
    assert (err.code, err.status) == ("IncompleteBody", 400)
    assert (
        err.message == "You did not provide the number of bytes specified by the Content-Length HTTP header"
    )
    assert err.fields["NumberBytesExpected"] == 19999
    assert _error(_unsigned_decoder(20001), body).fields == {
        "NumberBytesExpected": 20001,
        "NumberBytesProvided": 20000,
    }


def test_missing_decoded_length_header() -> None:
    request = capture(
        client("s3", endpoint="https://127.0.0.1:4570"), "put_object", Bucket="b", Key="k", Body=b"v"
    )
    info = parse_signature(request, "s3")
    kept = [h for h in request.headers.raw() if h[0] != "x-amz-decoded-content-length"]
    stripped = HttpRequest("PUT", request.path, "", Headers(kept), request.body)
    with pytest.raises(SigV4Error) as err:
        decode_request(stripped, info, None)
    assert (err.value.code, err.value.status) == ("MissingContentLength", 411)


def test_only_the_last_chunk_may_be_small() -> None:
    err = _error(_unsigned_decoder(3000), _unsigned_body(b"q" * 3000, chunk_size=1000))
    assert (err.code, err.fields) == ("InvalidChunkSizeError", {"Chunk": 2, "BadChunkSize": 1000})
    assert err.message == "Only the last chunk is allowed to have a size less than 8192 bytes"


def test_trailers_must_be_the_declared_ones() -> None:
    body = _unsigned_body(b"t" * 100)
    err = _error(_unsigned_decoder(100, trailers=()), body)
    assert (err.code, err.status) == ("MalformedTrailerError", 400)
    assert err.message == (
        "The request contained trailing data that was not well-formed or did not conform to our published schema."
    )
    assert _error(_unsigned_decoder(100, ("x-amz-checksum-sha256",)), body).code == "MalformedTrailerError"
    missing = body.replace(body[body.index(b"x-amz") : -2], b"")
    assert _error(_unsigned_decoder(100), missing).code == "IncompleteBody"


# --- signed chunks we build per the spec, to tamper with ------------------------------------------


def _signing_key(date: str) -> bytes:
    key = f"AWS4{SECRET}".encode()
    for part in (date, REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _signed_upload(chunks: list[bytes], trailer: str | None = None) -> HttpRequest:
    """A PUT whose seed botocore signs and whose chunk (and trailer) signatures we chain."""
    mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" + ("-TRAILER" if trailer else "")
    headers = {
        "Content-Encoding": "aws-chunked",
        "X-Amz-Content-SHA256": mode,
        "X-Amz-Decoded-Content-Length": str(sum(map(len, chunks))),
    }
    if trailer:
        headers["X-Amz-Trailer"] = trailer.split(":")[0]
    seed_request = AWSRequest("PUT", "http://127.0.0.1:4570/bkt/upload.bin", headers=headers)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET), "s3", REGION).add_auth(seed_request)
    amz_date = seed_request.context["timestamp"]
    key, scope = _signing_key(amz_date[:8]), f"{amz_date[:8]}/{REGION}/s3/aws4_request"
    previous = seed_request.headers["Authorization"].rsplit("Signature=", 1)[1]
    body = b""
    for chunk in [*chunks, b""]:
        sts = f"AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous}\n{EMPTY}\n{hashlib.sha256(chunk).hexdigest()}"
        previous = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        body += b"%x;chunk-signature=%s\r\n" % (len(chunk), previous.encode()) + (
            chunk + b"\r\n" if chunk else b""
        )
    if trailer:
        trailer_hash = hashlib.sha256(f"{trailer}\n".encode()).hexdigest()
        sts = f"AWS4-HMAC-SHA256-TRAILER\n{amz_date}\n{scope}\n{previous}\n{trailer_hash}"
        signature = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        body += f"{trailer}\r\nx-amz-trailer-signature:{signature}\r\n".encode()
    request = received(seed_request.prepare())
    return HttpRequest(request.method, request.path, "", request.headers, body + b"\r\n")


def _decode(request: HttpRequest) -> tuple[bytes, dict[str, str]]:
    info = verify(request, "s3", now=datetime.now(UTC) + timedelta(seconds=1))
    return decode_in_pieces(AwsChunkedDecoder.for_request(request, info, SECRET), request.body)


def test_signed_chunks_with_and_without_trailer() -> None:
    chunks = [b"A" * 8192, bytes(range(256)) * 40, b"end"]
    assert _decode(_signed_upload(chunks)) == (b"".join(chunks), {})
    request = _signed_upload(chunks, trailer="x-amz-checksum-sha256:c2hhMjU2")
    assert _decode(request) == (b"".join(chunks), {"x-amz-checksum-sha256": "c2hhMjU2"})


def _tampered(request: HttpRequest, old: bytes, new: bytes) -> HttpRequest:
    assert old in request.body
    return HttpRequest(request.method, request.path, "", request.headers, request.body.replace(old, new, 1))


def test_tampered_chunks_are_refused() -> None:
    request = _signed_upload([b"A" * 8192, b"B" * 9000, b"C" * 10])
    for tampered in (
        _tampered(request, b"B" * 9000, b"B" * 8999 + b"b"),  # chunk data
        _tampered(request, b"C" * 10, b"D" * 10),  # last chunk data
        _tampered(request, b"2000;chunk-signature=", b"2000;chunk-signature=0"),  # a signature
    ):
        with pytest.raises(SigV4Error) as err:
            _decode(tampered)
        assert (err.value.code, err.value.status) == ("SignatureDoesNotMatch", 403)
        assert err.value.fields["StringToSign"].startswith("AWS4-HMAC-SHA256-PAYLOAD\n")
    chunks = request.body.split(b"\r\n")
    swapped = b"\r\n".join([chunks[2], chunks[3], chunks[0], chunks[1], *chunks[4:]])  # reordered chunks
    with pytest.raises(SigV4Error):
        _decode(HttpRequest(request.method, request.path, "", request.headers, swapped))


def test_tampered_signed_trailer_is_refused() -> None:
    request = _signed_upload([b"A" * 100], trailer="x-amz-checksum-crc32:AAAAAA==")
    with pytest.raises(SigV4Error) as err:
        _decode(_tampered(request, b"AAAAAA==", b"BBBBBB=="))
    assert err.value.fields["StringToSign"].startswith("AWS4-HMAC-SHA256-TRAILER\n")
    unsigned = request.body[: request.body.index(b"x-amz-trailer-signature")] + b"\r\n"
    with pytest.raises(SigV4Error) as err:
        _decode(HttpRequest(request.method, request.path, "", request.headers, unsigned))
    assert err.value.code == "IncompleteBody"


def test_signed_mode_requires_chunk_signatures() -> None:
    request = _signed_upload([b"A" * 100])
    bare = HttpRequest(
        request.method, request.path, "", request.headers, b"64\r\n" + b"A" * 100 + b"\r\n0\r\n\r\n"
    )
    with pytest.raises(SigV4Error) as err:
        _decode(bare)
    assert err.value.code == "IncompleteBody"
