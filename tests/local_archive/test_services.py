"""The local archive's services answer from its holdings, in the real formats, through the real clients."""

from __future__ import annotations

from collections import Counter

import astropy.units as u
import pytest
import pyvo
import requests
from astropy.coordinates import SkyCoord

from helpers import cloud_uri
from local_archive.holdings.common import CRAB
from local_archive.tap import adql_to_sqlite

CRAB_POS = SkyCoord(*CRAB, unit="deg")
IRSA_SIA = "https://irsa.ipac.caltech.edu/ibe/sia/wise/allwise/p3am_cdd?"


def test_every_product_is_in_its_bucket_at_its_key(archive):
    heads = {p.uri: archive.s3.client.head_object(Bucket=p.bucket, Key=p.key)["ContentLength"]
             for p in archive.products}
    assert heads == {p.uri: p.path.stat().st_size for p in archive.products}
    held = Counter((p.bucket, "/".join(p.key.split("/")[:2])) for p in archive.products)
    assert held == {
        # 2 Atlas tiles x 4 bands x (int, unc, cov) + the catalog's 83 partitions and 2 metadata files
        ("nasa-irsa-wise", "wise/allwise"): 2 * 4 * 3 + 83 + 2,
        # NEOWISE-R source table: 12 yearly datasets x 2 metadata files + 213 partition files
        ("nasa-irsa-wise", "wise/neowiser"): 12 * 2 + 213,
        ("nasa-irsa-spitzer", "spitzer/seip"): 176,  # 5 SEIP groups: 22 channels x 8 file types
        ("stpubdata", "panstarrs/ps1"): 5,  # one stack skycell, g r i z y
        ("stpubdata", "hst/public"): 5,  # 2 HST observations: ASN tables and drizzled images
        ("nasa-heasarc", "chandra/data"): 301,  # 14 Crab + 6 delta Ori observations with their files
        ("nasa-heasarc", "swift/data"): 4,  # one Swift observation: 3 UVOT sky images, 1 XRT events file
        ("nasa-heasarc", "rosat/data"): 1,  # rs931315n00_bas.fits.Z
    }
    wise = [p for p in archive.products if p.key.endswith("-int-3.fits")]
    assert {p.path.stat().st_size for p in wise} == {67_080_960}  # 4095x4095 float32 + header, 2880-padded


def test_irsa_sia_returns_the_tile_under_the_crab_with_cloud_access(archive):
    rows = pyvo.dal.SIAService(IRSA_SIA).search(pos=CRAB_POS, size=0.04445 * u.deg)
    table = rows.to_table()
    assert list(table["sia_bp_id"]) == ["W2", "W1", "W3", "W4"]
    assert set(table["coadd_id"]) == {"0830p227_ac51"}
    keys = {cloud_uri(row).key for row in rows}
    assert keys == {f"wise/allwise/images/p3am_cdd/08/0830/0830p227_ac51/0830p227_ac51-w{b}-int-3.fits"
                    for b in (1, 2, 3, 4)}


def test_irsa_sia_elsewhere_on_the_sky_is_empty(archive):
    assert len(pyvo.dal.SIAService(IRSA_SIA).search(pos=SkyCoord(200, -40, unit="deg"), size=0.1)) == 0


def test_irsa_sia_bad_position_is_a_dal_error(archive):
    with pytest.raises(pyvo.DALQueryError, match="POS"):
        pyvo.dal.SIAResults.from_result_url(IRSA_SIA + "POS=400,95&SIZE=0.1")


def test_obscore_tap_sync_and_async(archive):
    tap = pyvo.dal.TAPService("https://mast.stsci.edu/vo-tap/api/v0.1/caom")
    near = tap.search(f"SELECT obs_id FROM ivoa.obscore WHERE obs_collection = 'PS1' AND "
                      f"1=CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', {CRAB[0]}, {CRAB[1]}, 0.3))")
    assert sorted(near.to_table()["obs_id"]) == sorted(
        f"rings.v3.skycell.1784.059.stk.{b}.unconv" for b in "grizy")
    far = tap.search("SELECT obs_id FROM ivoa.obscore WHERE 1=CONTAINS(POINT('ICRS', s_ra, s_dec), "
                     "CIRCLE('ICRS', 10.0, -40.0, 1.0))")
    assert len(far) == 0
    collections = tap.run_async("SELECT DISTINCT obs_collection FROM ivoa.obscore WHERE dataproduct_type = 'image'")
    assert list(collections.to_table()["obs_collection"]) == ["PS1"]
    with pytest.raises(pyvo.DALQueryError, match="no such table"):
        tap.search("SELECT * FROM ivoa.absent")


def test_adql_translation():
    assert adql_to_sqlite("select top 3 * from ivoa.obscore where a ILIKE '%x%'") == (
        "SELECT * from ivoa.obscore where a LIKE '%x%' LIMIT 3")


def test_mast_through_astroquery(archive):
    from astroquery.mast import Observations

    Observations.enable_cloud_dataset(provider="AWS", verbose=False)
    obs = Observations.query_criteria(objectname="Crab", radius=0.004445 * u.deg, instrument_name="GPC1",
                                      obs_collection="PS1")
    assert sorted(obs["filters"]) == sorted("grizy")
    products = Observations.filter_products(Observations.get_product_list(obs), extension="fits",
                                            productType="SCIENCE")
    assert len(products) == 5
    assert cloud_uri(products[0]).uri.startswith("s3://stpubdata/panstarrs/ps1/public/rings.v3.skycell/1784/059/")
    hst = Observations.query_criteria(objectname="Crab", radius=0.004445 * u.deg, obs_collection="HST")
    assert sorted(hst["obs_id"]) == ["icb902010", "jc6801010"]
    far = Observations.query_criteria(coordinates=SkyCoord(200, -40, unit="deg"), radius=0.01 * u.deg,
                                      obs_collection="HST")
    assert len(far) == 0


@pytest.mark.parametrize(("use_cloud_path", "path"), [
    (None, "/ps1/rings.v3.skycell/1784/059/rings.v3.skycell.1784.059.stk.g.unconv.fits"),  # astroquery 0.4.11
    ("True", "/panstarrs/ps1/public/rings.v3.skycell/1784/059/rings.v3.skycell.1784.059.stk.g.unconv.fits"),
])
def test_mast_path_lookup_answers_the_bucket_key_with_use_cloud_path(archive, use_cloud_path, path):
    uri = "mast:PS1/product/rings.v3.skycell.1784.059.stk.g.unconv.fits"
    params = {"uri": [uri, "mast:PS1/product/nothing.fits"]}
    if use_cloud_path:
        params["use_cloud_path"] = use_cloud_path
    answer = requests.get("https://mast.stsci.edu/api/v0.1/path_lookup/", params=params, timeout=30).json()
    assert answer == {uri: {"status_code": 200, "path": path},
                      "mast:PS1/product/nothing.fits": {"status_code": 404, "path": None}}
    if use_cloud_path:  # the key astroquery >= 0.4.12 takes is an object in the bucket
        assert archive.s3.client.head_object(Bucket="stpubdata", Key=path.lstrip("/"))["ContentLength"] > 0


def test_https_file_tree_serves_the_same_bytes_as_s3(archive):
    product = [p for p in archive.products if p.key.endswith("_bas.fits.Z")][0]
    over_https = requests.get(product.https_url.replace("/FTP/", "/FTP//"), timeout=30).content
    assert over_https == product.path.read_bytes()


def test_a_host_the_archive_does_not_serve_is_named(archive):
    answer = requests.get("https://data.example.org/some/file.fits", timeout=10)
    assert answer.status_code == 404
    assert "data.example.org" in answer.reason
    assert "data.example.org/some/file.fits" in answer.text


def test_a_notebook_cell_calling_an_unserved_host_fails_naming_it(local_archive, monkeypatch, tmp_path):
    """In a kernel started as the harness starts it: rewritten URLs get a 404 naming the host, and
    anything that tries to leave loopback is refused before a packet is sent."""
    import nbformat
    from nbclient.exceptions import CellExecutionError
    from notebook_client import NotebookClient  # tools/: nbclient's, with waits that cannot miss a reply

    for key, value in local_archive.environment().items():
        monkeypatch.setenv(key, value)
    cells = {
        "urllib": "import urllib.request\nurllib.request.urlopen('https://unserved.example.net/x.fits')",
        "socket": "import socket\nsocket.create_connection(('unserved.example.net', 443), timeout=5)",
        "address": "import socket\nsocket.create_connection(('192.0.2.10', 443), timeout=5)",
    }
    for name, code in cells.items():
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
        client = NotebookClient(notebook, kernel_name="python3", timeout=60,
                                resources={"metadata": {"path": str(tmp_path)}})
        with pytest.raises(CellExecutionError) as info:
            client.execute()
        host = "192.0.2.10" if name == "address" else "unserved.example.net"
        assert host in str(info.value), (name, str(info.value)[-500:])


def test_the_test_process_itself_refuses_non_loopback_hosts():
    """conftest.py guards offline runs: an accidental lookup fails naming the host, and sends nothing."""
    import socket

    from local_archive.redirect import NonLoopbackError

    with pytest.raises(NonLoopbackError, match="nasa-irsa-wise.s3.us-west-2.amazonaws.com"):
        socket.getaddrinfo("nasa-irsa-wise.s3.us-west-2.amazonaws.com", 443)
    with pytest.raises(NonLoopbackError, match="192.0.2.1"):
        socket.create_connection(("192.0.2.1", 443), timeout=1)


def test_irsa_sia2_through_pyvo_and_astroquery(archive):
    from astroquery.ipac.irsa import Irsa

    sia2 = pyvo.dal.SIA2Service("https://irsa.ipac.caltech.edu/SIA")  # reads /SIA/capabilities first
    results = sia2.search(pos=(CRAB[0] * u.deg, CRAB[1] * u.deg, 0.01 * u.deg), collection="wise_allwise")
    table = results.to_table()
    assert len(table.colnames) == 51 and table.colnames[-3:] == ["cloud_access", "o_ucd", "upload_row_id"]
    # IRSA's 30 rows per Atlas tile (recorded in irsa-tutorials): int, unc, cov and artifact tables per band
    assert Counter(table["energy_bandpassname"]) == {"W1": 7, "W2": 7, "W3": 8, "W4": 8}
    assert cloud_uri(results[0]).bucket == "nasa-irsa-wise"
    assert len(sia2.search(pos=(200 * u.deg, -40 * u.deg, 0.01 * u.deg))) == 0

    table = Irsa.query_sia(pos=(CRAB_POS, 0.01 * u.deg), collection="wise_allwise")
    science = table[table["dataproduct_subtype"] == "science"]
    assert {cloud_uri(row).key.rsplit("/", 1)[-1] for row in science} == {
        f"0830p227_ac51-w{b}-int-3.fits" for b in (1, 2, 3, 4)}


@pytest.mark.parametrize(("constraints", "rows"), [
    ({"facility": "Wide-field Infrared Survey Explorer"}, 30),
    ({"facility": "Spitzer Space Telescope"}, 0),
    ({"instrument": "WISE", "data_type": "image"}, 30),
    ({"data_type": "cube"}, 0),
    ({"calib_level": 3}, 30),
    ({"calib_level": [1, 2]}, 0),
    ({"res_format": "image/fits"}, 4),
    ({"res_format": "image/jpeg"}, 0),
    ({"facility": ["Spitzer Space Telescope", "Wide-field Infrared Survey Explorer"], "calib_level": 3}, 30),
])
def test_irsa_sia2_honours_the_sia2_column_parameters(archive, constraints, rows):
    """FACILITY, INSTRUMENT, DPTYPE, CALIB, FORMAT as pyvo sends them: exact match, ORed within, ANDed across."""
    sia2 = pyvo.dal.SIA2Service("https://irsa.ipac.caltech.edu/SIA")
    results = sia2.search(pos=(CRAB[0] * u.deg, CRAB[1] * u.deg, 0.01 * u.deg), collection="wise_allwise",
                          **constraints)
    assert len(results) == rows


def test_irsa_sia2_refuses_a_calib_that_is_not_an_integer(archive):
    answer = requests.get("https://irsa.ipac.caltech.edu/SIA", params={"POS": "CIRCLE 83.6 22.0 0.01",
                                                                       "CALIB": "three"}, timeout=30)
    assert b'name="QUERY_STATUS" value="ERROR"' in answer.content and b"CALIB must be an integer" in answer.content
