"""The whole local archive, started once for these tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def local_archive():
    from local_archive import LocalArchive

    with LocalArchive() as archive:
        yield archive


@pytest.fixture
def archive(local_archive, monkeypatch):
    """The local archive with this process's S3 and HTTP calls pointed at it, counters reset."""
    from local_archive import redirect

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", local_archive.s3.endpoint)
    redirect.install(local_archive.http.base_url)
    local_archive.s3.reset_stats()
    yield local_archive
    redirect.uninstall()
