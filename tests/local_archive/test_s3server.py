"""The loopback S3 server: file-backed GETs that answer like moto, fast, and count what they send."""

from __future__ import annotations

import socket
import statistics
import time

import numpy as np
import pytest
import requests

from local_archive import S3Server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with S3Server() as s3:
        s3.create_bucket("nasa-heasarc")
        big = tmp_path_factory.mktemp("s3") / "big.bin"
        big.write_bytes(np.random.default_rng(5).integers(0, 256, 64 << 20, dtype=np.uint8).tobytes())
        s3.put_file("nasa-heasarc", "big/file.bin", big)
        small = bytes(range(256)) * 40
        s3.put_bytes("nasa-heasarc", "moto/small.bin", small)
        (tmp_path_factory.getbasetemp() / "small.bin").write_bytes(small)
        s3.put_file("nasa-heasarc", "file/small.bin", tmp_path_factory.getbasetemp() / "small.bin")
        yield s3, big.read_bytes(), small


@pytest.mark.parametrize("header", ["bytes=0-99", "bytes=5000-", "bytes=-300", "bytes=10235-20000", None])
def test_file_backed_gets_answer_as_moto_does(server, header):
    s3, _, small = server
    headers = {"Range": header} if header else {}
    by_moto = requests.get(f"{s3.endpoint}/nasa-heasarc/moto/small.bin", headers=headers, timeout=10)
    by_file = requests.get(f"{s3.endpoint}/nasa-heasarc/file/small.bin", headers=headers, timeout=10)
    assert by_file.status_code == by_moto.status_code
    assert by_file.content == by_moto.content
    for name in ("ETag", "Content-Range", "Content-Length", "Accept-Ranges"):
        assert by_file.headers.get(name) == by_moto.headers.get(name), name


def test_unsatisfiable_range_is_416(server):
    s3, _, small = server
    answer = requests.get(f"{s3.endpoint}/nasa-heasarc/file/small.bin", headers={"Range": "bytes=99999-"}, timeout=10)
    assert answer.status_code == 416
    assert b"InvalidRange" in answer.content


def test_counters_count_requests_and_body_bytes(server):
    s3, big, _ = server
    s3.reset_stats()
    got = requests.get(f"{s3.endpoint}/nasa-heasarc/big/file.bin", headers={"Range": "bytes=1000-1999"}, timeout=10)
    assert got.content == big[1000:2000]
    requests.head(f"{s3.endpoint}/nasa-heasarc/big/file.bin", timeout=10)
    stats = s3.stats("nasa-heasarc", "big/file.bin")
    assert (stats.requests, stats.bytes, stats.ranges) == (2, 1000, ["bytes=1000-1999"])
    assert s3.totals().bytes == 1000


def test_ranged_gets_of_a_large_object_cost_well_under_2_ms_of_server_time(server):
    """moto itself spends ~25 ms of CPU per ranged GET of a large object; file-backed GETs must not."""
    s3, big, _ = server
    s3.reset_stats()
    with requests.Session() as session:
        for row in range(200):
            start = 3_000_000 + row * 16380
            got = session.get(f"{s3.endpoint}/nasa-heasarc/big/file.bin",
                              headers={"Range": f"bytes={start}-{start + 943}"}, timeout=10)
            assert got.content == big[start:start + 944]
    deadline = time.monotonic() + 5  # the server files a request's time just after its last byte leaves
    while len(cpu := s3.stats("nasa-heasarc", "big/file.bin").server_seconds) < 200 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(cpu) == 200
    assert statistics.median(cpu) < 0.002, f"median server CPU per GET {statistics.median(cpu) * 1e3:.2f} ms"


def test_latency_and_bandwidth_are_injected(server):
    s3, _, _ = server
    s3.latency, s3.bandwidth = 0.05, 1_000_000
    began = time.perf_counter()
    try:
        got = requests.get(f"{s3.endpoint}/nasa-heasarc/big/file.bin", headers={"Range": "bytes=0-199999"},
                           timeout=10)
    finally:
        s3.latency, s3.bandwidth = 0.0, None
    # 50 ms round trip + 200 kB at 1 MB/s: 0.25 s at the least (a lower bound holds on any machine)
    assert time.perf_counter() - began >= 0.25
    assert len(got.content) == 200_000


def _raw_get(s3, path: str, listen: float = 1.5) -> tuple[str, bytes]:
    """GET over a bare socket: ("reset" | "eof" | "still sending", the bytes that arrived)."""
    host, port = s3.endpoint.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        received, began = b"", time.monotonic()
        try:
            while time.monotonic() - began < listen:
                chunk = raw.recv(65536)
                if not chunk:
                    return "eof", received
                received += chunk
        except ConnectionResetError:
            return "reset", received
    return "still sending", received


def test_a_reset_is_a_tcp_reset_before_any_response_byte(server):
    s3, _, _ = server
    s3.inject("reset", key="file/small.bin")
    outcome, received = _raw_get(s3, "/nasa-heasarc/file/small.bin")
    assert (outcome, received) == ("reset", b"")  # no "HTTP/1.1 500": the client sees ECONNRESET


def test_a_truncated_body_is_shorter_than_its_content_length(server):
    s3, _, small = server
    s3.inject("truncate", key="file/small.bin")
    outcome, received = _raw_get(s3, "/nasa-heasarc/file/small.bin")
    head, _, body = received.partition(b"\r\n\r\n")
    assert outcome == "eof" and head.startswith(b"HTTP/1.1 200")
    assert f"Content-Length: {len(small)}".encode() in head
    assert body == small[: len(small) // 2]


def test_a_drip_sends_one_byte_at_a_time(server):
    s3, _, small = server
    s3.inject("drip", key="file/small.bin", seconds=0.2)
    outcome, received = _raw_get(s3, "/nasa-heasarc/file/small.bin", listen=1.5)
    head, _, body = received.partition(b"\r\n\r\n")
    assert outcome == "still sending" and head.startswith(b"HTTP/1.1 200")
    assert 3 <= len(body) <= 9 and body == small[: len(body)]


@pytest.mark.parametrize(("kind", "status", "code"), [("500", 500, b"InternalError"), ("502", 502, b"BadGateway"),
                                                      ("503", 503, b"SlowDown"), ("504", 504, b"GatewayTimeout"),
                                                      ("403", 403, b"AccessDenied"), ("404", 404, b"NoSuchKey")])
def test_status_faults_answer_as_s3_does(server, kind, status, code):
    s3, _, _ = server
    s3.inject(kind, key="file/small.bin")
    answer = requests.get(f"{s3.endpoint}/nasa-heasarc/file/small.bin", timeout=10)
    assert answer.status_code == status
    assert f"<Code>{code.decode()}</Code>".encode() in answer.content


def test_signed_requests_are_counted(server):
    s3, _, small = server
    s3.reset_stats()
    assert s3.client.get_object(Bucket="nasa-heasarc", Key="file/small.bin")["Body"].read() == small  # signed
    requests.get(f"{s3.endpoint}/nasa-heasarc/file/small.bin", timeout=10)  # anonymous
    assert s3.signed_requests == 1
    assert s3.stats("nasa-heasarc", "file/small.bin").requests == 2


def test_file_backed_heads_answer_as_moto_does(server):
    s3, _, small = server
    by_moto = requests.head(f"{s3.endpoint}/nasa-heasarc/moto/small.bin", timeout=10)
    by_file = requests.head(f"{s3.endpoint}/nasa-heasarc/file/small.bin", timeout=10)
    assert by_file.status_code == by_moto.status_code == 200
    assert by_file.content == by_moto.content == b""
    for name in ("ETag", "Content-Length", "Content-Type", "Last-Modified"):
        assert by_file.headers.get(name) == by_moto.headers.get(name), name
    assert by_file.headers["Content-Length"] == str(len(small))


def test_another_server_in_the_process_does_not_change_this_ones_objects(server):
    """moto keeps one object store per process: a test's own S3Server writing the same key must not
    change what this server answers (the notebooks' local archive shares the pytest process with the tests)."""
    s3, big, _ = server
    with S3Server() as other:
        other.create_bucket("nasa-heasarc")
        other.put_bytes("nasa-heasarc", "big/file.bin", b"SIMPLE  =                    T" + b" " * 2850)
        head = requests.head(f"{s3.endpoint}/nasa-heasarc/big/file.bin", timeout=10)
        tail = requests.get(f"{s3.endpoint}/nasa-heasarc/big/file.bin", headers={"Range": "bytes=-100"}, timeout=10)
    assert head.headers["Content-Length"] == str(len(big)) == str(64 << 20)
    assert tail.content == big[-100:]


def test_a_file_object_is_in_moto_as_a_put_would_leave_it(server):
    """put_file stores straight in moto's backend: listing, ACL and metadata as after a PutObject."""
    import hashlib
    import xml.etree.ElementTree as ET

    s3, _, small = server
    ns = {"s3": "http://s3.amazonaws.com/doc/2006-03-01/"}
    listing = ET.fromstring(requests.get(f"{s3.endpoint}/nasa-heasarc?list-type=2&prefix=file/", timeout=10).content)
    (entry,) = listing.findall("s3:Contents", ns)
    assert entry.findtext("s3:Key", namespaces=ns) == "file/small.bin"
    assert entry.findtext("s3:Size", namespaces=ns) == str(len(small))
    assert entry.findtext("s3:ETag", namespaces=ns) == f'"{hashlib.md5(small).hexdigest()}"'  # noqa: S324
    assert entry.find("s3:ChecksumAlgorithm", ns) is None  # uploaded without an additional checksum
    for key in ("file/small.bin", "moto/small.bin"):  # public-read, exactly as PutObject's ACL= leaves it
        acl = ET.fromstring(requests.get(f"{s3.endpoint}/nasa-heasarc/{key}?acl", timeout=10).content)
        grants = {(g.findtext("s3:Grantee/s3:URI", namespaces=ns), g.findtext("s3:Permission", namespaces=ns))
                  for g in acl.iter(f"{{{ns['s3']}}}Grant")}
        assert ("http://acs.amazonaws.com/groups/global/AllUsers", "READ") in grants, key
    # Served by moto itself (a query string), unsigned: the object's bytes and its content type.
    by_moto = requests.get(f"{s3.endpoint}/nasa-heasarc/file/small.bin?partNumber=1", timeout=10)
    assert by_moto.content == small and by_moto.headers["Content-Type"] == "application/octet-stream"
