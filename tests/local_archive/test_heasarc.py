"""HEASARC's services in the local archive answer as production: Chandra SIA, DataLink, TAP, the FTP tree."""

from __future__ import annotations

import gzip
import json

import astropy.units as u
import numpy as np
import pytest
import pyvo
import requests
from astropy.coordinates import SkyCoord
from astropy.io import fits

from local_archive.holdings.common import CRAB

CRAB_POS = SkyCoord(*CRAB, unit="deg")
SIA = "https://heasarc.gsfc.nasa.gov/xamin/vo/sia?table=chanmaster&"
DATALINK_MIME = "application/x-votable+xml;content=datalink"
FTP = "https://heasarc.gsfc.nasa.gov/FTP/"


@pytest.fixture(scope="module")
def heasarc_client():
    from astroquery.heasarc import Heasarc

    return type(Heasarc)()  # a fresh client: no metadata cached from elsewhere


def _crab_images(format_="image/fits"):
    return pyvo.dal.SIAService(SIA).search(pos=CRAB_POS, size=0.04445 * u.deg, FORMAT=format_)


def test_chandra_and_swift_files_are_in_the_bucket(archive):
    keys = [p.key for p in archive.products if p.bucket == "nasa-heasarc" and p.key.startswith(("chandra/", "swift/"))]
    assert len(keys) == 20 * 4 + 17 * 10 + 3 * 8 + 7 + 20 + 4  # images, ACIS/HRC siblings, 7 pha2, oif, Swift
    assert "chandra/data/byobsid/4/1994/primary/acisf01994N004_cntr_img2.fits.gz" in keys
    assert "chandra/data/byobsid/4/1994/secondary/acisf01994_000N004_evt1.fits.gz" in keys
    assert "chandra/data/byobsid/4/14684/primary/hrcf14684N002_pha2.fits.gz" in keys
    assert "swift/data/obs/2010_09/00030371012/uvot/image/sw00030371012uw2_sk.img.gz" in keys
    head = archive.s3.client.head_object(Bucket="nasa-heasarc", Key=keys[0])
    assert head["ContentLength"] == next(p for p in archive.products if p.key == keys[0]).path.stat().st_size


def test_sia_answers_in_the_production_form(archive):
    images = _crab_images()
    table = images.to_table()
    assert "datalink" not in table.colnames and "cloud_access" not in table.colnames
    assert {"obs_title", "name", "detector", "obs_publisher_did", "SIA_scale"} <= set(table.colnames)
    assert len(table) == 28  # 14 observations x (Center, Full) FITS; FORMAT=image/fits leaves the JPEGs out
    assert set(table["access_format"]) == {DATALINK_MIME}
    row = table[(table["obsid"] == 1994) & (table["obs_title"] == "Center Image")][0]
    link_id = "ivo://nasa.heasarc/chanmaster?1994/chandra.obs.img.cntr.fits"
    assert row["obs_publisher_did"] == link_id
    assert row["access_url"] == row["SIA_reference"] == (
        f"https://heasarc.gsfc.nasa.gov/xamin/vo/datalink?datalink_key&id={link_id}")
    assert row["SIA_title"] == "acisf01994N004_cntr_img2.fits"
    assert list(row["SIA_naxis"]) == [1024, 1024]
    assert list(row["SIA_scale"]) == pytest.approx([-0.492 / 3600, 0.492 / 3600])
    assert row["obs_collection"] == row["SIA_instrument"] == "CHANDRA ACIS-S"
    crab = table[(table["obs_title"] == "Center Image") & (table["detector"] == "ACIS-S")
                 & (table["name"] == "Crab Nebula")]
    assert len(crab) == 11
    assert len(_crab_images("ALL")) == 56 and len(_crab_images("image/jpeg")) == 28


def test_sia_scale_matches_the_file(archive):
    for row in _crab_images():
        product = next(p for p in archive.products if p.key.endswith(row["SIA_title"] + ".gz"))
        header = fits.getheader(product.path)
        assert [header["NAXIS1"], header["NAXIS2"]] == list(row["SIA_naxis"])
        assert header["CDELT2"] == pytest.approx(row["SIA_scale"][1])


def test_the_draft_notebook_path_datalink_cloud_access_then_the_bucket(archive):
    table = _crab_images().to_table()
    crab = table[(table["obs_title"] == "Center Image") & (table["detector"] == "ACIS-S")
                 & (table["name"] == "Crab Nebula")]
    links = pyvo.dal.adhoc.DatalinkResults.from_result_url(crab[8]["access_url"]).to_table()
    this = links[links["semantics"] == "#this"]
    assert len(this) == 1
    assert this["content_type"][0] == "application/fits"
    assert this["access_url"][0] == f"{FTP}chandra/data/byobsid/9//13139/primary/acisf13139N002_cntr_img2.fits.gz"
    cloud = this["cloud_access"][0]
    assert cloud == ('{"aws":{"bucket_name":"nasa-heasarc","region":"us-east-1","policy":"open",'
                     '"key":"chandra/data/byobsid/9/13139/primary/acisf13139N002_cntr_img2.fits.gz"}}')
    key = json.loads(cloud)["aws"]["key"]
    body = archive.s3.client.get_object(Bucket="nasa-heasarc", Key=key)["Body"].read()
    with fits.open(__import__("io").BytesIO(gzip.decompress(body))) as hdul:
        assert hdul[0].header["OBS_ID"] == "13139" and hdul[0].data.shape == (1024, 1024)
        assert hdul[0].data.sum() > 1000


def test_getdatalink_uses_the_service_descriptor(archive):
    images = _crab_images()
    record = next(r for r in images if r["obs_title"] == "Center Image" and r["obsid"] == 1994)
    first = next(record.getdatalink().bysemantics("#this"))
    assert first["access_url"] == f"{FTP}chandra/data/byobsid/4//1994/primary/acisf01994N004_cntr_img2.fits.gz"
    assert requests.get(first["access_url"], timeout=30).content[:2] == b"\x1f\x8b"
    ids = [dl.original_row["obs_publisher_did"] for dl in images.iter_datalinks()]
    assert len(ids) == 28 and len(set(ids)) == 28


def test_datalink_for_an_unknown_id_is_a_not_found_fault(archive):
    url = "https://heasarc.gsfc.nasa.gov/xamin/vo/datalink?datalink_key&id=ivo://nasa.heasarc/chanmaster?1/x"
    links = pyvo.dal.adhoc.DatalinkResults.from_result_url(url).to_table()
    assert list(links["error_message"]) == ["NotFoundFault: ivo://nasa.heasarc/chanmaster?1/x"]


def test_sia_unknown_table_and_bad_pos_are_dal_errors(archive):
    answer = requests.get("https://heasarc.gsfc.nasa.gov/xamin/vo/sia", params={"table": "nope", "POS": "1,2"},
                          timeout=30)
    assert b'value="ERROR"' in answer.content and b"No SIA service for table 'nope'" in answer.content
    answer = requests.get(SIA, params={"POS": "400,0", "SIZE": "0.1"}, timeout=30)
    assert b'value="ERROR"' in answer.content and b"Invalid or missing POS/SIZE" in answer.content


def test_locate_data_and_download_a_chandra_observation_from_aws(archive, heasarc_client, tmp_path):
    # astroquery 0.4.12's column_filters, written out (0.4.11, the tests' pin, has no column_filters)
    observations = heasarc_client.query_tap(
        "SELECT * FROM chanmaster WHERE CONTAINS(POINT('ICRS',ra,dec),CIRCLE('ICRS',83.63321,22.01446,0.05))=1"
        " AND detector IN ('ACIS-S', 'ACIS-I') AND grating = 'NONE' AND obsid = '1994'").to_table()
    assert list(observations["obsid"]) == [1994] and list(observations["__row"]) == [2461]
    links = heasarc_client.locate_data(observations[0], catalog_name="chanmaster")
    assert list(links["ID"]) == ["ivo://nasa.heasarc/chanmaster?2461"]
    assert list(links["access_url"]) == [f"{FTP}chandra/data/byobsid/4//1994/"]
    assert list(links["aws"]) == ["s3://nasa-heasarc/chandra/data/byobsid/4/1994/"]
    heasarc_client.download_data(links, host="aws", location=str(tmp_path))
    got = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert len(got) == 1 + 4 + 5 + 5 and "1994/oif.fits" in got
    assert "1994/primary/acisf01994N004_cntr_img2.fits.gz" in got
    product = next(p for p in archive.products if p.key.endswith("acisf01994N004_cntr_img2.fits.gz"))
    assert (tmp_path / "1994/primary/acisf01994N004_cntr_img2.fits.gz").read_bytes() == product.path.read_bytes()


def test_swiftmastr_and_locate_data_reach_the_uvot_image(archive, heasarc_client):
    swift = heasarc_client.query_region(CRAB_POS, catalog="swiftmastr", columns="*", radius=4 * u.arcmin)
    swift = swift[swift["uvot_expo_w2"] > 0]
    swift.sort("uvot_expo_w2", reverse=True)
    assert list(swift["obsid"]) == ["00030371012", "00030371001"]
    links = heasarc_client.locate_data(swift[0], catalog_name="swiftmastr")
    assert list(links["aws"]) == ["s3://nasa-heasarc/swift/data/obs/2010_09/00030371012/"]
    assert list(links["access_url"]) == [f"{FTP}swift/data/obs/2010_09//00030371012/"]
    key = "swift/data/obs/2010_09/00030371012/uvot/image/sw00030371012uw2_sk.img.gz"
    body = archive.s3.client.get_object(Bucket="nasa-heasarc", Key=key)["Body"].read()
    with fits.open(__import__("io").BytesIO(gzip.decompress(body))) as hdul:
        assert len(hdul) == 3 and hdul[1].header["FILTER"] == "W2" and hdul[1].data.shape == (1024, 1024)


def test_observation_datalink_lists_bibliography_products_and_directory(archive):
    url = "https://heasarc.gsfc.nasa.gov/xamin/vo/datalink?datalink_key&id=ivo://nasa.heasarc/chanmaster?2461"
    links = pyvo.dal.adhoc.DatalinkResults.from_result_url(url).to_table()
    assert list(links["content_type"]) == ["text/html", DATALINK_MIME, "directory"]
    assert links["access_url"][1] == ("https://heasarc.gsfc.nasa.gov/xamin/vo/datalink?datalink_key&id="
                                      "ivo://nasa.heasarc/chanmaster?1994/chandra.obs")
    files = pyvo.dal.adhoc.DatalinkResults.from_result_url(links["access_url"][1]).to_table()
    assert len(files) == 15 and all(json.loads(c)["aws"]["bucket_name"] == "nasa-heasarc"
                                    for c in files["cloud_access"])
    assert links["content_length"][2] == sum(files["content_length"])


def test_list_catalogs_names_descriptions_and_no_metainfo(archive, heasarc_client):
    catalogs = heasarc_client.list_catalogs()
    names = list(catalogs["name"])
    assert "metainfo" not in names and not any("TAP" in n for n in names)
    described = dict(zip(catalogs["name"], catalogs["description"], strict=True))
    assert described["chanmaster"] == "Chandra Observations" and described["swiftmastr"] == "Swift Master Catalog"
    assert list(heasarc_client.list_catalogs(keywords="xmm", master=True)["name"]) == ["xmmmaster"]
    assert list(heasarc_client.list_catalogs(keywords="nustar", master=True)["name"]) == ["numaster"]
    assert {"swiftmastr", "rosmaster", "rassmaster"} <= set(
        heasarc_client.list_catalogs(keywords=["swift", "rosat"], master=True)["name"])
    assert heasarc_client._get_default_columns("numaster") == [
        "name", "ra", "dec", "time", "obsid", "status", "exposure_a", "observation_mode", "obs_type",
        "processing_date", "public_date", "issue_flag"]
    assert heasarc_client.get_default_radius("chanmaster") == 10 * u.arcmin


def test_tap_errors_offsets_and_schema_names(archive, heasarc_client):
    with pytest.raises(pyvo.DALQueryError, match='relation "nosuch" does not exist'):
        heasarc_client.query_tap("SELECT * FROM nosuch")
    table = heasarc_client.query_tap("SELECT name, obsid FROM public.numaster WHERE obsid = '10013022002'").to_table()
    assert list(table["name"]) == ["Crab"]
    near = heasarc_client.query_region("120 38", catalog="xmmmaster", radius=2 * u.deg, spatial="box",
                                       width=4 * u.deg)
    assert "B2 0755+37" in list(near["name"])
    rows = heasarc_client.query_region(CRAB_POS, catalog="chanmaster", radius=1 * u.arcmin, add_offset=True)
    assert np.all(rows["search_offset"] < 1 / 60)


def test_ftp_directory_listing_is_apache_style(archive):
    answer = requests.get(f"{FTP}chandra/data/byobsid/4//1994/primary/", timeout=30)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/html")
    text = answer.text
    assert "<title>Index of /FTP/chandra/data/byobsid/4/1994/primary</title>" in text
    assert '<a href="/FTP/chandra/data/byobsid/4/1994/">Parent Directory</a>' in text
    assert '<a href="acisf01994N004_cntr_img2.fits.gz">acisf01994N004_cntr_img2.fits.gz</a>' in text
    assert '<a href="?C=N;O=D">Name</a>' in text and text.rstrip().endswith("</html>")
    moved = requests.get(f"{FTP}chandra/data/byobsid/4/1994", timeout=30, allow_redirects=False)
    assert moved.status_code == 301
    assert moved.headers["Location"] == "https://heasarc.gsfc.nasa.gov/FTP/chandra/data/byobsid/4/1994/"
    assert requests.get(f"{FTP}chandra/data/byobsid/4/9999/", timeout=30).status_code == 404


def test_apache_sizes():
    from local_archive.services.files import apache_size

    assert [apache_size(n) for n in (512, 8600, 52_000, 1_150_000)] == ["512", "8.4K", "51K", "1.1M"]


XAMIN_TAP = "https://heasarc.gsfc.nasa.gov/xamin/vo/tap"


def test_tap_counts_acceptcat_csc_and_zcat_as_production(archive):
    tap = pyvo.dal.TAPService(XAMIN_TAP)
    count = tap.search("SELECT COUNT(*) FROM acceptcat").to_table()
    assert count.colnames == ["count"] and count["count"].dtype.name == "int64" and count["count"][0] == 240
    assert tap.search("SELECT COUNT(*) FROM csc").to_table()["count"][0] == 407806
    assert len(tap.search("SELECT * FROM acceptcat WHERE redshift > 0.4")) == 20
    low_k = tap.search("SELECT name FROM acceptcat WHERE redshift > 0.4 AND bf_core_entropy_1 < 15").to_table()
    assert sorted(low_k["name"]) == ["3C 295", "MACS J0159.8-0849", "MACS J0329.6-0211", "MACS J0417.5-1154",
                                     "MACS J1621.3+3810", "RX J1347.5-1145", "RX J1423.8+2404"]
    m51 = tap.search("SELECT ra, dec, Radial_Velocity, bmag FROM public.zcat AS cat WHERE "
                     "contains(point('ICRS',cat.ra,cat.dec),circle('ICRS',202.469575,47.1952583,1.0))=1 "
                     "AND cat.bmag < 14 ORDER BY cat.radial_velocity_error").to_table()
    assert m51.colnames == ["ra", "dec", "radial_velocity", "bmag"]
    assert list(m51["radial_velocity"]) == [474, 558, 2569] and m51["radial_velocity"].dtype.name == "int32"
    bright = tap.search("SELECT COUNT(*) FROM zcat WHERE bmag < 14 AND morph_type BETWEEN 1 AND 9 "
                        "AND radial_velocity < 3000")
    assert bright.to_table()["count"][0] == 1120


def test_tap_examples_answer_with_the_recorded_rosmaster_rows(archive):
    examples = pyvo.dal.TAPService(XAMIN_TAP).examples
    assert examples[0]["QUERY"].startswith("SELECT * FROM rosmaster WHERE exposure > 10000 AND 1=CONTAINS(")
    assert list(examples[0].execute().to_table()["seq_id"]) == ["RH202299A01", "RH202299N00"]


def test_cone_search_on_numaster_and_its_observation_datalink(archive):
    cone = pyvo.dal.SCSService("https://heasarc.gsfc.nasa.gov/xamin/vo/cone?showoffsets&table=numaster&")
    result = cone.search(SkyCoord(61.81861303, 3.7071705, unit="deg"))
    table = result.to_table()
    assert list(table["__row"]) == ["3578", "3579", "3580", "3581", "3583"]
    assert table.colnames[-1] == "Search_Offset" and round(float(table["Search_Offset"][0]), 4) == 1.7172
    short = [row for row in result if row["exposure_a"] <= 10000]
    links = short[0].getdatalink().to_table()
    assert set(links["ID"]) == {"ivo://nasa.heasarc/numaster?60061044002"}
    directory = links[links["content_type"] == "directory"]
    assert list(directory["access_url"]) == ["https://heasarc.gsfc.nasa.gov/FTP/nustar/data/obs/00/6//60061044002/"]
    zcat = pyvo.dal.SCSService("https://heasarc.gsfc.nasa.gov/xamin/vo/cone?showoffsets&table=zcat&")
    near = zcat.search(SkyCoord(202.469575, 47.1952583, unit="deg"), radius=10 * u.arcmin).to_table()
    assert list(near["name"]) == ["N5194", "N5195"]
