"""The loopback S3 server: file-backed GETs that answer like moto, fast, and count what they send."""

from __future__ import annotations

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
