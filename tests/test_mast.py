"""MAST products rows: path_lookup on loopback HTTP, an unsigned head_object on loopback S3, no astroquery state.

MAST's ``path_lookup`` answers from the recorded response (tests/data/mast_relative_path.json) plus the
two other shapes astroquery handles; the objects live in a real moto S3 server's ``stpubdata``.
"""

from __future__ import annotations

import json
import time

import pytest
import requests
from astropy.table import Table

from helpers import ArchiveError, CloudInputError, CloudLocation, DeadlineError, cloud_uri
from helpers.mast import PATH_LOOKUP_URL, data_uri_of, mast_key, mast_location
from local_archive.httpserver import Response

# These tests count tries and check bounds: a tenth of the real pauses (tests/test_deadline.py has those).
pytestmark = pytest.mark.usefixtures("quick_backoff")

FOUND = "mast:HST/product/u9o40504m_c3m.fits"
KEY = "hst/public/u9o4/u9o40504m/u9o40504m_c3m.fits"
# Answers of the other shapes: an old relative path of a Pan-STARRS stack, and a cloud path (use_cloud_path=True).
PS1 = "mast:PS1/product/rings.v3.skycell.1784.059.stk.g.unconv.fits"
PS1_KEY = "panstarrs/ps1/public/rings.v3.skycell/1784/059/rings.v3.skycell.1784.059.stk.g.unconv.fits"
CLOUD_PATH = "mast:HST/product/u9o40505m_c3m.fits"
CLOUD_KEY = "hst/public/u9o4/u9o40505m/u9o40505m_c3m.fits"
MISSING = "mast:HST/product/u9o40504m_flt.fits"  # MAST knows a path; the bucket has no such object
EXTRA = {
    PS1: {"status_code": 200, "path": "/ps1/rings.v3.skycell/1784/059/rings.v3.skycell.1784.059.stk.g.unconv.fits"},
    CLOUD_PATH: {"status_code": 200, "path": "/" + CLOUD_KEY},
    MISSING: {"status_code": 200, "path": "/hst/public/u9o4/u9o40504m/u9o40504m_flt.fits"},
}


@pytest.fixture(scope="module")
def mast_service(http_server, s3_server, data_dir):
    """MAST's path_lookup answered from the recorded response; the objects in stpubdata; each request recorded."""
    recorded = json.loads((data_dir / "mast_relative_path.json").read_text())
    recorded.update(EXTRA)
    state = {"mode": "ok", "requests": []}

    def path_lookup(request, path):
        state["requests"].append({"method": request.method, "args": request.args.to_dict(flat=False),
                                  "authorization": request.headers.get("Authorization")})
        mode = state["mode"]
        if mode == "html":
            return Response("<!DOCTYPE html><html><body>MAST is down for maintenance</body></html>",
                            content_type="text/html")
        if mode == "500":
            return Response("Internal Server Error", status=500)
        if mode == "no-entry":
            return Response("{}", content_type="application/json")
        uris = request.args.getlist("uri")
        answer = {uri: recorded.get(uri, {"status_code": 404, "path": None}) for uri in uris}
        return Response(json.dumps(answer), content_type="application/json")

    http_server.route("mast.stsci.edu", "/api/v0.1/path_lookup", path_lookup)
    s3_server.create_bucket("stpubdata")
    for key in (KEY, PS1_KEY, CLOUD_KEY):
        s3_server.put_bytes("stpubdata", key, b"SIMPLE  =                    T" + b" " * 2850)
    return state


@pytest.fixture
def mast(mast_service, s3, http, data_dir):
    """The recorded products table (astroquery's Observations.get_product_list shape)."""
    mast_service["mode"] = "ok"
    mast_service["requests"].clear()
    products = json.loads((data_dir / "products.json").read_text())
    return Table(rows=[[row[f["name"]] for f in products["fields"]] for row in products["data"]],
                 names=[f["name"] for f in products["fields"]])


def test_recorded_products_row_resolves_to_stpubdata(mast, mast_service, s3):
    row = mast[mast["dataURI"] == FOUND][0]
    assert cloud_uri(row) == CloudLocation("stpubdata", KEY, "us-east-1", "open")
    # One GET of path_lookup with the URI, as astroquery sends it (use_cloud_path as astroquery 0.4.12 does) ...
    assert mast_service["requests"] == [{"method": "GET", "args": {"uri": [FOUND], "use_cloud_path": ["True"]},
                                         "authorization": None}]
    # ... and one unsigned check that the object exists.
    assert s3.stats("stpubdata", KEY).requests == 1
    assert s3.signed_requests == 0


def test_product_mast_knows_no_path_for_is_none(mast, s3):
    row = mast[mast["dataURI"] == "mast:HST/product/u9o40504m_drz.fits"][0]
    assert cloud_uri(row) is None
    assert s3.totals().requests == 0  # nothing to check in the bucket


def test_product_with_a_path_but_not_in_the_bucket_is_none(mast, s3):
    assert mast_location(MISSING) is None
    assert s3.stats("stpubdata", "hst/public/u9o4/u9o40504m/u9o40504m_flt.fits").requests == 1
    # Without the check the path is taken on MAST's word.
    assert mast_location(MISSING, check=False).key == "hst/public/u9o4/u9o40504m/u9o40504m_flt.fits"


@pytest.mark.parametrize("uri, key", [(PS1, PS1_KEY), (CLOUD_PATH, CLOUD_KEY), (FOUND, KEY)])
def test_both_answer_shapes(mast, uri, key):
    assert mast_location(uri) == CloudLocation("stpubdata", key, "us-east-1")


@pytest.mark.parametrize(
    "path, key",
    [
        ("/hst/public/u9o4/u9o40504m/u9o40504m_c3m.fits", KEY),
        ("/ps1/rings.v3.skycell/1784/059/x.fits", "panstarrs/ps1/public/rings.v3.skycell/1784/059/x.fits"),
        ("/panstarrs/ps1/public/rings.v3.skycell/1784/059/x.fits",  # a cloud path is not mapped a second time
         "panstarrs/ps1/public/rings.v3.skycell/1784/059/x.fits"),
        ("/hlsp_local/public/hlsp_x/y.fits", "mast/hlsp_x/y.fits"),
        ("/mast/galex/data/x.fits", "galex/data/x.fits"),
        ("/mast/hlsp/x/y.fits", "mast/hlsp/x/y.fits"),
    ],
)
def test_mast_key(path, key):
    assert mast_key(path) == key


def test_observations_table_rows_are_not_products(mast):
    """An observations row (no dataURI) has nothing to resolve: None, not a wrong guess."""
    obs = Table({"obsid": ["2003520266"], "dataURL": ["https://mast.stsci.edu/portal/Download/x.fits"]})
    assert cloud_uri(obs[0]) is None
    assert data_uri_of(obs[0]) is None


def test_no_astroquery_state_and_no_aws_credentials(mast, mast_service, s3, tmp_path, monkeypatch):
    """A user's AWS set-up (a missing profile, fake keys, a fake profile in ~/.aws) changes nothing."""
    import boto3
    import botocore.exceptions
    from astroquery.mast import Observations

    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text("[default]\naws_access_key_id = AKIAFAKEFAKEFAKE\n"
                                     "aws_secret_access_key = fake\n[other]\naws_access_key_id = AKIAOTHER\n"
                                     "aws_secret_access_key = fake\n")
    (aws / "config").write_text("[default]\nregion = eu-west-1\n")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFAKEFAKEFAKE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake")
    monkeypatch.setattr(Observations, "_cloud_connection", None)  # whatever earlier tests did
    # Control: the default boto3 session, which astroquery's enable_cloud_dataset uses, fails here.
    with pytest.raises(botocore.exceptions.ProfileNotFound):
        boto3.session.Session().client("s3")

    row = mast[mast["dataURI"] == FOUND][0]
    assert cloud_uri(row) == CloudLocation("stpubdata", KEY, "us-east-1", "open")
    assert s3.signed_requests == 0
    assert s3.stats("stpubdata", KEY).requests == 1
    assert Observations._cloud_connection is None  # later download_products() calls are not sent to S3


def test_no_netrc_password_is_sent_to_mast(mast, mast_service, tmp_path, monkeypatch):
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine mast.stsci.edu login someone password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("NETRC", raising=False)
    requests.get(f"{PATH_LOOKUP_URL}?uri={FOUND}", timeout=10)  # control: plain requests sends it
    assert mast_service["requests"][-1]["authorization"].startswith("Basic ")
    assert mast_location(FOUND).key == KEY
    assert mast_service["requests"][-1]["authorization"] is None


@pytest.mark.parametrize("mode, fragment", [("html", "not JSON"), ("500", "500"), ("no-entry", "no entry")])
def test_mast_failures_are_archive_errors(mast, mast_service, s3, mode, fragment):
    mast_service["mode"] = mode
    with pytest.raises(ArchiveError, match=fragment) as info:
        mast_location(FOUND)
    assert "path_lookup" in str(info.value) and FOUND in str(info.value)
    assert info.value.url.startswith(PATH_LOOKUP_URL)
    assert s3.totals().requests == 0


def test_mast_deadline(mast, mast_service, s3):
    mast_service["mode"] = "500"  # retried with backoff: 0.025 + 0.05 + 0.1 s here, so a 0.1 s deadline comes first
    began = time.monotonic()
    with pytest.raises(DeadlineError):
        mast_location(FOUND, timeout=0.1)
    assert time.monotonic() - began < 1.5


@pytest.mark.parametrize("uri", [None, "", "https://mast.stsci.edu/x.fits", 5, "hst/public/x.fits"])
def test_not_a_mast_uri(uri):
    with pytest.raises(CloudInputError, match="mast:"):
        mast_location(uri)


def test_mast_comes_after_cloud_access_and_before_the_mirror(mast, mast_service):
    value = '{"aws": {"bucket_name": "nasa-heasarc", "key": "rosat/x.fits"}}'
    assert cloud_uri({"dataURI": FOUND, "cloud_access": value}).uri == "s3://nasa-heasarc/rosat/x.fits"
    assert mast_service["requests"] == []
    ftp = "https://heasarc.gsfc.nasa.gov/FTP/rosat/x.fits"  # would map to nasa-heasarc if MAST were not asked
    location = cloud_uri({"dataURI": FOUND, "dataURL": ftp})
    assert location == CloudLocation("stpubdata", KEY, "us-east-1")
    assert location.https_url == ftp
    assert len(mast_service["requests"]) == 1
