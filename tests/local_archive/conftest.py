"""The local archive for these tests: the session's one archive (the root conftest's ``local_archive``).

The notebooks of the same session run against it too; while one runs, its registry answers in reversed
order, and afterwards in production order again, as these tests expect.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def archive(local_archive, monkeypatch):
    """The local archive with this process's S3 and HTTP calls pointed at it, counters reset."""
    from local_archive import redirect

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", local_archive.s3.endpoint)
    redirect.install(local_archive.http.base_url)
    local_archive.s3.reset_stats()
    yield local_archive
    redirect.uninstall()
