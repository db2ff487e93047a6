"""No credentials: S3 requests are unsigned and HTTPS requests carry no Authorization, whatever the environment.

The environment here is hostile: ``AWS_PROFILE`` names a profile that does not exist (a
default botocore session refuses to start), fake keys are exported, ``HOME`` holds a fake
``~/.aws/credentials`` and ``~/.aws/config``, and a ``~/.netrc`` with passwords for
127.0.0.1 and the archive hosts (a default requests session sends them).  fetch_bytes,
open_fits with cutout, and the HTTPS fallback of both must work and send nothing signed,
whether the helpers' clients were built before the environment changed ("warm") or after
("cold"), so the result does not depend on the order tests run in.
"""

from __future__ import annotations

import warnings

import astropy.units as u
import numpy as np
import pytest
import requests
from astropy.coordinates import SkyCoord
from astropy.io import fits

import helpers.http
import helpers.s3
from helpers import CloudLocation, cutout, fetch_bytes, open_fits
from helpers.errors import CloudFallbackWarning

BUCKET = "nasa-irsa-wise"
KEY = "wise/credentials/wise-like.fits"
URI = f"s3://{BUCKET}/{KEY}"
HOST = "irsa.credentials.example.nasa.gov"
HTTPS_URL = f"https://{HOST}/ibe/data/wise-like.fits"
CRAB = SkyCoord(83.63321, 22.01446, unit="deg")


@pytest.fixture
def archive(s3, http, wise_like_file):
    """The S3 object and its HTTPS copy, both on loopback."""
    from werkzeug.utils import send_file

    s3.create_bucket(BUCKET, region="us-west-2")
    s3.put_file(BUCKET, KEY, wise_like_file)
    if not getattr(http, "_test_credentials_route", False):
        http.route(HOST, "/ibe/data/", lambda request, path: send_file(
            wise_like_file, request.environ, mimetype="application/fits", conditional=True))
        http._test_credentials_route = True
    s3.reset_stats()
    yield s3, http, wise_like_file
    s3.clear_faults()


def _hostile(monkeypatch, tmp_path) -> None:
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text(
        "[default]\naws_access_key_id = AKIAFAKEFROMFILE0001\naws_secret_access_key = fake-file-secret\n")
    (home / ".aws" / "config").write_text("[default]\nregion = eu-west-3\nmax_attempts = 10\n"
                                          "[profile other]\nregion = ap-south-1\n")
    netrc = home / ".netrc"
    netrc.write_text(f"machine 127.0.0.1 login tutorial password netrc-secret\n"
                     f"machine {HOST} login tutorial password netrc-secret\n"
                     f"machine irsa.ipac.caltech.edu login tutorial password netrc-secret\n"
                     f"machine heasarc.gsfc.nasa.gov login tutorial password netrc-secret\n"
                     f"default login tutorial password netrc-secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFAKEFROMENV00001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake-env-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "fake-env-token")
    monkeypatch.delenv("AWS_CONFIG_FILE", raising=False)
    monkeypatch.delenv("AWS_SHARED_CREDENTIALS_FILE", raising=False)


def _cold(monkeypatch) -> None:
    """Forget every client the helpers built, so the next calls build them in the current environment."""
    import fsspec

    monkeypatch.setattr(helpers.s3, "_clients", {})
    monkeypatch.setattr(helpers.s3, "_aio_sessions", {})
    helpers.s3._single_try_class().clear_instance_cache()
    fsspec.get_filesystem_class("https").clear_instance_cache()
    helpers.http.session.cache_clear()


def _read_everything(s3, wise_like_file) -> None:
    expected = wise_like_file.read_bytes()
    assert fetch_bytes(URI) == expected
    with open_fits(URI) as hdul:
        part = cutout(hdul[0], CRAB, 0.02 * u.deg)
    np.testing.assert_array_equal(part.data, fits.getdata(wise_like_file)[part.slices_original])
    # S3 refuses: both readers fall back to the HTTPS copy
    location = CloudLocation(BUCKET, KEY, "us-west-2", https_url=HTTPS_URL)
    s3.inject("403", key=KEY, count=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CloudFallbackWarning)
        assert fetch_bytes(location) == expected
        with open_fits(location) as hdul:
            part = cutout(hdul[0], CRAB, 0.02 * u.deg)
    np.testing.assert_array_equal(part.data, fits.getdata(wise_like_file)[part.slices_original])


def test_the_environment_really_is_hostile(archive, monkeypatch, tmp_path):
    """Controls: default clients do read these settings, so the zero counts below mean something."""
    import boto3
    import botocore.exceptions

    _, http, _ = archive
    _hostile(monkeypatch, tmp_path)
    with pytest.raises(botocore.exceptions.ProfileNotFound, match="no-such-profile"):
        boto3.session.Session().client("s3")
    before = http.authorized_requests
    with requests.Session() as plain:  # trust_env: reads ~/.netrc
        plain.get(HTTPS_URL, headers={"Range": "bytes=0-9"}, timeout=10)
    assert http.authorized_requests == before + 1


@pytest.mark.parametrize("caches", ["cold", "warm"])
def test_nothing_is_signed_and_no_credentials_are_read(archive, monkeypatch, tmp_path, caches):
    import aiobotocore.session
    import botocore.session

    s3, http, wise_like_file = archive
    if caches == "warm":
        _read_everything(s3, wise_like_file)  # clients built in a clean environment, then reused below
    else:
        _cold(monkeypatch)
    _hostile(monkeypatch, tmp_path)

    def no_lookup(*args, **kwargs):
        raise AssertionError("the helpers looked up AWS credentials")

    # Unsigned clients never ask for credentials: any lookup (environment, ~/.aws, IMDS) fails the test.
    monkeypatch.setattr(botocore.session.Session, "get_credentials", no_lookup)
    monkeypatch.setattr(aiobotocore.session.AioSession, "get_credentials", no_lookup)
    s3.reset_stats()
    authorized = http.authorized_requests
    hits = http.hits[f"{HOST}/ibe/data/wise-like.fits"]

    _read_everything(s3, wise_like_file)

    assert s3.totals().requests >= 6  # GET, HEAD + ranges, and the two refused requests
    assert http.hits[f"{HOST}/ibe/data/wise-like.fits"] - hits >= 3  # GET, then HEAD and ranges
    assert s3.signed_requests == 0
    assert http.authorized_requests == authorized


def test_the_endpoint_of_the_environment_is_followed_by_cached_clients(archive, monkeypatch):
    """A client built for one endpoint is not reused for another (the caches are keyed by it)."""
    s3, _, _ = archive
    first = helpers.s3.s3_client("us-west-2")
    assert first.meta.endpoint_url == s3.endpoint
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")
    assert helpers.s3.s3_client("us-west-2").meta.endpoint_url == "http://127.0.0.1:9"
    assert helpers.s3.s3_filesystem("us-west-2").client_kwargs["endpoint_url"] == "http://127.0.0.1:9"
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3.endpoint)
    assert helpers.s3.s3_client("us-west-2") is first
