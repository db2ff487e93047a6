"""The local archive's services answer from its holdings, in the real formats, through the real clients."""

from __future__ import annotations

import astropy.units as u
import pytest
import pyvo
import requests
from astropy.coordinates import SkyCoord

from helpers import cloud_uri
from local_archive.data import CRAB
from local_archive.tap import adql_to_sqlite

CRAB_POS = SkyCoord(*CRAB, unit="deg")
IRSA_SIA = "https://irsa.ipac.caltech.edu/ibe/sia/wise/allwise/p3am_cdd?"


def test_every_product_is_in_its_bucket_at_its_key(archive):
    heads = {p.uri: archive.s3.client.head_object(Bucket=p.bucket, Key=p.key)["ContentLength"]
             for p in archive.products}
    assert heads == {p.uri: p.path.stat().st_size for p in archive.products}
    assert len(heads) == 4 + 5 + 6 + 1 + 10  # WISE, PS1, Chandra, ROSAT, the AllWISE catalog's files
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


def test_registry_finds_heasarc_chandra_sia_first(archive):
    services = pyvo.registry.search(servicetype="sia", keywords="chandra heasarc")
    assert services[0].ivoid == "ivo://nasa.heasarc/chanmaster"
    assert "ivo://cxc.harvard.edu/cda.siap" not in [s.ivoid for s in services]  # 'heasarc' is not in its text
    assert services[0].access_url == "https://heasarc.gsfc.nasa.gov/xamin/vo/sia?table=chanmaster&"


def test_registry_tap_search_for_panstarrs(archive):
    services = pyvo.regsearch(keywords=["panstarrs"], servicetype="tap")
    assert [s.ivoid for s in services] == ["ivo://archive.stsci.edu/caomtap", "ivo://archive.stsci.edu/ps1dr2"]


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


def test_heasarc_sia_and_datalink_share_ids_per_observation(archive):
    services = pyvo.registry.search(servicetype="sia", keywords="chandra heasarc")
    images = services[0].search(pos=CRAB_POS, size=0.04445 * u.deg, FORMAT="image/fits")
    table = images.to_table()
    assert len(table) == 6
    for obsid in set(table["obsid"]):
        assert len(set(table[table["obsid"] == obsid]["datalink"])) == 1
    links = images[0].getdatalink().to_table()
    assert list(links["semantics"]) == ["#this", "#this", "#auxiliary"]
    row = [r for r in images if r["obs_title"] == "Full Image" and r["obsid"] == 13140][0]
    assert cloud_uri(row).uri == (
        "s3://nasa-heasarc/chandra/data/byobsid/0/13140/primary/acisf13140N002_full_img2.fits.gz")


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
    nothing = Observations.query_criteria(objectname="Crab", radius=0.004445 * u.deg, obs_collection="HST")
    assert len(nothing) == 0


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


def test_sesame_and_the_datalink_vocabulary(archive):
    assert SkyCoord.from_name("Crab").to_string() == "83.6331 22.0145"
    vocabulary = requests.get("http://www.ivoa.net/rdf/datalink/core", timeout=10).json()
    assert "this" in vocabulary["terms"]


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
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

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
    assert sorted(table["energy_bandpassname"]) == ["W1", "W2", "W3", "W4"]
    assert cloud_uri(results[0]).bucket == "nasa-irsa-wise"
    assert len(sia2.search(pos=(200 * u.deg, -40 * u.deg, 0.01 * u.deg))) == 0

    table = Irsa.query_sia(pos=(CRAB_POS, 0.01 * u.deg), collection="wise_allwise")
    science = table[table["dataproduct_subtype"] == "science"]
    assert {cloud_uri(row).key.rsplit("/", 1)[-1] for row in science} == {
        f"0830p227_ac51-w{b}-int-3.fits" for b in (1, 2, 3, 4)}


@pytest.mark.parametrize(("constraints", "rows"), [
    ({"facility": "Wide-field Infrared Survey Explorer"}, 4),
    ({"facility": "Spitzer Space Telescope"}, 0),
    ({"instrument": "WISE", "data_type": "image"}, 4),
    ({"data_type": "cube"}, 0),
    ({"calib_level": 3}, 4),
    ({"calib_level": [1, 2]}, 0),
    ({"res_format": "image/fits"}, 4),
    ({"res_format": "image/jpeg"}, 0),
    ({"facility": ["Spitzer Space Telescope", "Wide-field Infrared Survey Explorer"], "calib_level": 3}, 4),
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


def test_astroquery_heasarc_locate_data_and_download_from_aws(archive, tmp_path):
    from astroquery.heasarc import Heasarc

    heasarc = type(Heasarc)()  # a fresh client: no metadata cached from elsewhere
    observations = heasarc.query_region(CRAB_POS, catalog="chanmaster", radius=2 * u.arcmin)
    assert sorted(observations["obsid"]) == [758, 13139, 13140]
    links = heasarc.locate_data(observations[observations["obsid"] == 13139], catalog_name="chanmaster")
    assert list(links["aws"]) == ["s3://nasa-heasarc/chandra/data/byobsid/9/13139/"]
    heasarc.download_data(links, host="aws", location=str(tmp_path))
    got = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert got == ["13139/primary/acisf13139N002_cntr_img2.fits.gz", "13139/primary/acisf13139N002_full_img2.fits.gz"]
    product = next(p for p in archive.products if p.key.endswith("acisf13139N002_cntr_img2.fits.gz"))
    assert (tmp_path / got[0]).read_bytes() == product.path.read_bytes()
