"""cloud_uri on MAST products rows: astroquery's path_lookup on loopback HTTP, head_object on loopback S3."""

from __future__ import annotations

import json

import pytest
from astropy.table import Table

from helpers import CloudLocation, cloud_uri
from local_archive.httpserver import Response

FOUND = "mast:HST/product/u9o40504m_c3m.fits"
KEY = "hst/public/u9o4/u9o40504m/u9o40504m_c3m.fits"


@pytest.fixture(scope="module")
def mast(http_server, s3_server, data_dir):
    """MAST's path_lookup answered from the recorded response; the object in stpubdata."""
    recorded = json.loads((data_dir / "mast_relative_path.json").read_text())

    def path_lookup(request, path):
        uris = request.args.getlist("uri")
        answer = {uri: recorded.get(uri, {"status_code": 404, "path": None}) for uri in uris}
        return Response(json.dumps(answer), content_type="application/json")

    http_server.route("mast.stsci.edu", "/api/v0.1/path_lookup", path_lookup)
    s3_server.create_bucket("stpubdata")
    s3_server.put_bytes("stpubdata", KEY, b"SIMPLE  =                    T" + b" " * 2850)
    products = json.loads((data_dir / "products.json").read_text())
    return Table(rows=[[row[f["name"]] for f in products["fields"]] for row in products["data"]],
                 names=[f["name"] for f in products["fields"]])


def test_recorded_products_row_resolves_to_stpubdata(mast, s3, http):
    row = mast[mast["dataURI"] == FOUND][0]
    assert cloud_uri(row) == CloudLocation("stpubdata", KEY, "us-east-1", "open")
    # astroquery checked that the object exists, unsigned
    assert s3.stats("stpubdata", KEY).requests == 1
    assert s3.signed_requests == 0


def test_product_mast_knows_but_not_in_the_bucket_is_none(mast, s3, http):
    row = mast[mast["dataURI"] == "mast:HST/product/u9o40504m_drz.fits"][0]
    assert cloud_uri(row) is None


def test_observations_table_rows_are_not_products(mast):
    """An observations row (no dataURI) has nothing to resolve: None, not a wrong guess."""
    obs = Table({"obsid": ["2003520266"], "dataURL": ["https://mast.stsci.edu/portal/Download/x.fits"]})
    assert cloud_uri(obs[0]) is None
