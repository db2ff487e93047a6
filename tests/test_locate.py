"""helpers.locate.cloud_uri: the order of the places it tries, on real-shaped rows, within one deadline.

DataLink answers come from a real HTTP server on loopback; each test checks which
requests reached it, so "tried in this order" is what the server saw, not a mock's call list.
"""

from __future__ import annotations

import ast
import io
import time
from pathlib import Path

import pytest
from astropy.io.votable import parse
from astropy.table import Table
from pyvo.dal import SIAResults

import helpers
from helpers import CloudInputError, CloudLocation, DeadlineError, cloud_uri
from helpers.errors import MAX_QUOTED
from local_archive.httpserver import Response
from local_archive.votables import (
    DATALINK_MIME,
    IRSA_SIA1_FIELDS,
    cloud_access_json,
    datalink_votable,
    table_votable,
    to_bytes,
)

# These tests count tries and check bounds: a tenth of the real pauses (tests/test_deadline.py has those).
pytestmark = pytest.mark.usefixtures("quick_backoff")

HOST = "heasarc.gsfc.nasa.gov"
LINKS_URL = f"https://{HOST}/locate-tests/datalink"
DRIP_URL = f"https://{HOST}/locate-tests/drip"
FTP_FILE = f"https://{HOST}/FTP/chandra/data/byobsid/9/639/primary/acisf00639N005_pha2.fits.gz"
FTP_KEY = "chandra/data/byobsid/9/639/primary/acisf00639N005_pha2.fits.gz"
LINK_KEY = "chandra/data/byobsid/4/1994/primary/acisf01994N004_cntr_img2.fits.gz"
HEASARC_VALUE = cloud_access_json("nasa-heasarc", FTP_KEY, "us-east-1", style="heasarc")


@pytest.fixture(scope="module")
def service(http_server):
    """A DataLink service on loopback answering ``?kind=cloud`` (one #this link in nasa-heasarc) or
    ``?kind=nowhere`` (one #this link that is not in the cloud), and a server that drips bytes."""
    seen: list[tuple[str, str]] = []

    def links(request, path):
        kind = request.values.get("kind") or request.values.get("ID") or "cloud"  # GET ?kind=, or the POSTed ID
        seen.append((request.method, kind))
        link = {"ID": "ivo://x?1", "semantics": "#this", "description": "Center Image", "content_type": "image/fits"}
        if kind == "cloud":
            link["access_url"] = f"https://{HOST}/FTP/{LINK_KEY}"
            link["cloud_access"] = cloud_access_json("nasa-heasarc", LINK_KEY, "us-east-1", style="heasarc")
        else:
            link["access_url"] = "https://data.example.org/products/x.fits"
        return Response(to_bytes(datalink_votable([link])), content_type="text/xml")

    def drip(request, path):
        def body():
            yield b"<"
            for _ in range(40):
                time.sleep(0.5)
                yield b" "

        seen.append((request.method, "drip"))
        return Response(body(), content_type="text/xml")

    http_server.route(HOST, "/locate-tests/datalink", links)
    http_server.route(HOST, "/locate-tests/drip", drip)
    return seen


@pytest.fixture
def seen(service, http):
    service.clear()
    return service


def _datalink_row(kind: str = "cloud", **columns):
    return Table({"access_url": [f"{LINKS_URL}?kind={kind}"], "access_format": [DATALINK_MIME],
                  **{k: [v] for k, v in columns.items()}})[0]


def _irsa_sia1(rows) -> SIAResults:
    """An IRSA SIA v1 result with the real service's columns and UCDs."""
    return SIAResults(parse(io.BytesIO(to_bytes(table_votable(IRSA_SIA1_FIELDS, rows)))))


def _irsa_row(band: int, cloud_access: str | None):
    tile = "0830p227_ac51"
    url = f"https://irsa.ipac.caltech.edu/ibe/data/wise/allwise/p3am_cdd/08/0830/{tile}/{tile}-w{band}-int-3.fits"
    return [f"W{band} Coadd {tile}", url, cloud_access, 2, "image/fits", 83.076923, 22.716667,
            [4095, 4095], [2048.0, 2048.0], [83.076923, 22.716667], "SIN",
            [-0.0003819444391411, 0.0003819444391411], [-0.0003819444391411, 0.0, 0.0, 0.0003819444391411],
            f"W{band}", 3.35e-06, 3.78e-06, 3.13e-06, "m", 20.5, 0.006, url.replace("int-3.fits", "unc-3.fits.gz"),
            url.replace("int-3.fits", "cov-3.fits.gz"), tile]


class TestIrsaRows:
    def test_pyvo_sia1_record_with_cloud_access(self):
        key = "wise/allwise/images/p3am_cdd/08/0830/0830p227_ac51/0830p227_ac51-w1-int-3.fits"
        value = f'{{"aws": {{"bucket_name": "nasa-irsa-wise", "key":"{key}", "region": "us-west-2"}}}}'
        results = _irsa_sia1([_irsa_row(1, value)])
        location = cloud_uri(results[0])
        assert location == CloudLocation("nasa-irsa-wise", key, "us-west-2", "open")
        assert location.https_url == results[0]["sia_url"]

    def test_pyvo_sia1_record_without_cloud_access_maps_the_documented_url(self):
        results = _irsa_sia1([_irsa_row(2, None)])
        assert cloud_uri(results[0]).uri == (
            "s3://nasa-irsa-wise/wise/allwise/images/p3am_cdd/08/0830/0830p227_ac51/0830p227_ac51-w2-int-3.fits"
        )

    def test_astropy_row_and_dict(self):
        table = Table({"access_url": ["https://example.org/x.fits"], "cloud_access": [HEASARC_VALUE]})
        assert cloud_uri(table[0]).key == FTP_KEY
        assert cloud_uri({"access_url": "https://example.org/x.fits", "cloud_access": HEASARC_VALUE}).key == FTP_KEY
        assert cloud_uri(table[0]).https_url == "https://example.org/x.fits"

    def test_row_with_nothing_gives_none(self):
        table = Table({"access_url": ["https://example.org/x.fits"], "cloud_access": [""]})
        assert cloud_uri(table[0]) is None
        assert cloud_uri({}) is None

    def test_malformed_cloud_access_on_a_row_raises(self):
        table = Table({"cloud_access": ['{"aws": {"bucket_name": "nasa-heasarc"}}']})
        with pytest.raises(CloudInputError, match="needs a bucket_name and a key"):
            cloud_uri(table[0])


class TestOrder:
    def test_cloud_access_comes_before_datalink(self, seen):
        assert cloud_uri(_datalink_row(cloud_access=HEASARC_VALUE)).key == FTP_KEY
        assert seen == []  # the DataLink was never asked

    def test_datalink_comes_before_mast(self, seen, http_server):
        before = http_server.hits["mast.stsci.edu/api/v0.1/path_lookup/"]
        row = _datalink_row(dataURI="mast:HST/product/not_asked_for.fits")
        location = cloud_uri(row)
        assert location == CloudLocation("nasa-heasarc", LINK_KEY, "us-east-1")
        assert location.https_url == f"https://{HOST}/FTP/{LINK_KEY}"  # the link's file, not the DataLink URL
        assert seen == [("GET", "cloud")]
        assert http_server.hits["mast.stsci.edu/api/v0.1/path_lookup/"] == before

    def test_a_datalink_without_a_cloud_copy_falls_back_to_the_mirror(self, seen):
        fields = (("access_url", "char", "*", None, "VOX:Image_AccessReference"),
                  ("kind", "char", "*", None, "meta.id"))
        votable = table_votable(fields, [[FTP_FILE, "nowhere"]], datalink_url=LINKS_URL, datalink_ref="kind")
        results = SIAResults(parse(io.BytesIO(to_bytes(votable))))
        location = cloud_uri(results[0])
        assert location == CloudLocation("nasa-heasarc", FTP_KEY, "us-east-1")
        assert location.https_url == FTP_FILE
        assert seen == [("POST", "nowhere")]  # the descriptor was asked first, with the row's ID

    def test_the_mirror_alone(self):
        location = cloud_uri({"access_url": FTP_FILE})
        assert location == CloudLocation("nasa-heasarc", FTP_KEY, "us-east-1")
        assert location.https_url == FTP_FILE
        assert cloud_uri({"access_url": f"https://{HOST}/FTP/"}) is None  # a directory, not a file

    def test_a_datalink_row_without_a_cloud_copy_is_none(self, seen):
        assert cloud_uri(_datalink_row("nowhere")) is None
        assert seen == [("GET", "nowhere")]


class TestInputs:
    @pytest.mark.parametrize("kwargs", [{"provider": None}, {"provider": 5}, {"provider": " "},
                                        {"semantics": None}, {"semantics": ""}, {"semantics": 3}])
    def test_provider_and_semantics_must_be_text_before_any_request(self, seen, kwargs):
        for row in (_datalink_row(), {"cloud_access": HEASARC_VALUE}, {"access_url": FTP_FILE}):
            with pytest.raises(CloudInputError):
                cloud_uri(row, **kwargs)
        assert seen == []

    @pytest.mark.parametrize("timeout", [0, -5, float("nan"), "soon"])
    def test_timeout_must_be_a_positive_number(self, timeout):
        with pytest.raises(CloudInputError, match="timeout"):
            cloud_uri({"access_url": FTP_FILE}, timeout=timeout)

    def test_deeply_nested_cloud_access_on_a_row(self):
        with pytest.raises(CloudInputError):
            cloud_uri({"cloud_access": "[" * 200_000})

    def test_a_huge_cloud_access_is_quoted_only_in_part(self):
        value = '{"aws": {"bucket_name": "Not_A_Bucket", "key": "' + "k" * (50 << 20) + '"}}'
        with pytest.raises(CloudInputError, match="invalid bucket name") as info:
            cloud_uri(Table({"cloud_access": [value]})[0])
        assert len(str(info.value)) < 4 * MAX_QUOTED

    def test_other_providers(self):
        value = '{"gcp": {"bucket_name": "nasa-heasarc", "key": "x.fits"}}'
        assert cloud_uri({"cloud_access": value}) is None
        assert cloud_uri({"cloud_access": value}, provider="GCP").uri == "s3://nasa-heasarc/x.fits"


def test_one_deadline_for_the_whole_call(seen):
    began = time.monotonic()
    with pytest.raises(DeadlineError) as info:
        cloud_uri(Table({"access_url": [DRIP_URL], "access_format": [DATALINK_MIME]})[0], timeout=2)
    elapsed = time.monotonic() - began
    assert 1.9 < elapsed < 3.0, elapsed
    assert DRIP_URL in str(info.value)
    assert seen == [("GET", "drip")]


def test_public_names():
    from helpers.cloud import parse_cloud_access  # the notebooks import it from here

    assert parse_cloud_access is helpers.parse_cloud_access
    assert helpers.cloud_uri is cloud_uri
    for name in ("ArchiveError", "CloudInputError", "DeadlineError", "CloudAccessError", "datalink_location",
                 "iter_datalinks_by_row", "https_to_s3", "CloudLocation"):
        assert name in helpers.__all__ and hasattr(helpers, name)
    # cloud_uri moved to helpers.locate; helpers.cloud holds pure functions and must not import upward.
    assert not hasattr(helpers.cloud, "cloud_uri")


LAYERS = {
    # module: helpers modules it may import (data flows one way: locate -> datalink/mast -> cloud -> records)
    "records": set(),
    "cloud": {"errors", "records"},
    "datalink": {"_upstream", "http", "cloud", "deadline", "errors", "records"},
    "mast": {"http", "cloud", "deadline", "errors", "records", "s3"},
    "locate": {"cloud", "datalink", "deadline", "errors", "mast", "records"},
}


@pytest.mark.parametrize("module", sorted(LAYERS))
def test_imports_flow_one_way(module):
    tree = ast.parse((Path(helpers.__file__).parent / f"{module}.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            # "from .x import a" imports module x; "from . import a, b" imports modules a and b, all of them.
            imported.update([node.module] if node.module else [alias.name for alias in node.names])
    assert imported <= LAYERS[module], imported - LAYERS[module]
