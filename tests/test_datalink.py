"""DataLink: HEASARC-style shared IDs, semantics, error_message, and pyvo's batching failure.

The discovery results and DataLink answers are VOTables built with astropy in
the shapes HEASARC serves; the DataLink service is a real HTTP server on
loopback that answers from the same product list, so a request for an ID
returns exactly that observation's links.
"""

from __future__ import annotations

import io
from collections import Counter

import pytest
from astropy.io.votable import parse
from astropy.table import Table
from pyvo.dal import SIAResults
from pyvo.dal.adhoc import DatalinkResults

from helpers import CloudAccessError, CloudLocation, cloud_uri, datalink_location, iter_datalinks_by_row
from helpers.datalink import datalink_of
from local_archive.httpserver import Response
from local_archive.votables import DATALINK_MIME, cloud_access_json, datalink_votable, table_votable, to_bytes

FTP = "https://heasarc.gsfc.nasa.gov/FTP/chandra/data/byobsid"
DATALINK_URL = "https://heasarc.gsfc.nasa.gov/xamin/vo/datalink/chanmaster"

# Two observations, two FITS products each; products of one observation share a DataLink ID.
PRODUCTS = [
    # obsid, title, detector, file
    (1994, "Center Image", "ACIS-S", "acisf01994N004_cntr_img2.fits.gz"),
    (1994, "Full Image", "ACIS-S", "acisf01994N004_full_img2.fits.gz"),
    (13139, "Center Image", "ACIS-S", "acisf13139N002_cntr_img2.fits.gz"),
    (13139, "Full Image", "ACIS-S", "acisf13139N002_full_img2.fits.gz"),
]
SIA_FIELDS = (
    ("obsid", "int", None, None, "meta.id"),
    ("name", "char", "*", None, "meta.id;src"),
    ("detector", "char", "*", None, None),
    ("obs_title", "char", "*", None, "meta.title"),
    ("datalink", "char", "*", None, "meta.id;meta.main"),
    ("access_url", "char", "*", None, "VOX:Image_AccessReference"),
    ("access_format", "char", "*", None, "VOX:Image_Format"),
)


def _datalink_id(obsid: int) -> str:
    return f"ivo://nasa.heasarc/chanmaster?{obsid}/chandra.obs.img"


def _file_url(obsid: int, name: str, slashes: str = "/") -> str:
    return f"{FTP}/{str(obsid)[-1]}{slashes}{obsid}/primary/{name}"


def _links_for(link_id: str, broken: set[str]) -> list[dict]:
    rows = []
    for obsid, title, _, name in PRODUCTS:
        if _datalink_id(obsid) != link_id:
            continue
        key = f"chandra/data/byobsid/{str(obsid)[-1]}/{obsid}/primary/{name}"
        if link_id in broken:
            rows.append({"ID": link_id, "semantics": "#this", "error_message": "NotFoundFault: product withdrawn"})
            continue
        # HEASARC's own URLs have the // run; the S3 keys do not.
        rows.append({"ID": link_id, "access_url": _file_url(obsid, name, "//"), "description": title,
                     "semantics": "#this", "content_type": "application/fits", "content_length": 1234,
                     "cloud_access": cloud_access_json("nasa-heasarc", key, "us-east-1", style="heasarc")})
        rows.append({"ID": link_id, "access_url": _file_url(obsid, name.replace(".fits.gz", ".jpg")),
                     "description": title + " preview", "semantics": "#preview", "content_type": "image/jpeg"})
    return rows


@pytest.fixture(scope="module")
def datalink_service(http_server):
    """HEASARC's DataLink endpoint on loopback; counts how often each ID is asked for."""
    asked: Counter[str] = Counter()
    broken: set[str] = set()

    def handler(request, path):
        ids = request.values.getlist("ID") or request.values.getlist("id")
        rows = []
        for link_id in dict.fromkeys(ids):  # each ID once, in the order asked
            asked[link_id] += 1
            rows.extend(_links_for(link_id, broken))
        return Response(to_bytes(datalink_votable(rows)), content_type="text/xml")

    http_server.route("heasarc.gsfc.nasa.gov", "/xamin/vo/datalink/chanmaster", handler)
    return asked, broken


@pytest.fixture
def asked(datalink_service, http):
    counts, broken = datalink_service
    counts.clear()
    broken.clear()
    return counts


def _sia_results(products=PRODUCTS) -> SIAResults:
    rows = [[obsid, "Crab Nebula", det, title, _datalink_id(obsid), _file_url(obsid, name), "image/fits"]
            for obsid, title, det, name in products]
    votable = table_votable(SIA_FIELDS, rows, datalink_url=DATALINK_URL, datalink_ref="datalink")
    return SIAResults(parse(io.BytesIO(to_bytes(votable))))


def test_pyvo_batching_pairs_rows_wrongly_when_ids_are_shared(asked):
    """The draft's "WHY DOESNT THIS WORK?" cell, reproduced."""
    results = _sia_results()
    pairs = [(links.original_row, links) for links in results.iter_datalinks()]
    # pyvo keys its row lookup by DataLink ID, so every result points at the *last* row of that ID...
    titles = [row["obs_title"] for row, _ in pairs]
    assert titles == ["Full Image"] * 4
    # (and it asks for each shared ID once per duplicate)
    assert asked == {_datalink_id(1994): 2, _datalink_id(13139): 2}
    # ...and a filter on a row's columns never sees the Center Image rows.
    assert not [links for row, links in pairs if row["obs_title"] == "Center Image"]


def test_iter_datalinks_by_row_pairs_each_row_once_per_id(asked):
    results = _sia_results()
    seen = []
    for row, links in iter_datalinks_by_row(results):
        location = datalink_location(links, access_url=row["access_url"])
        seen.append((row["obsid"], row["obs_title"], location.key))
    assert seen == [
        (1994, "Center Image", "chandra/data/byobsid/4/1994/primary/acisf01994N004_cntr_img2.fits.gz"),
        (1994, "Full Image", "chandra/data/byobsid/4/1994/primary/acisf01994N004_full_img2.fits.gz"),
        (13139, "Center Image", "chandra/data/byobsid/9/13139/primary/acisf13139N002_cntr_img2.fits.gz"),
        (13139, "Full Image", "chandra/data/byobsid/9/13139/primary/acisf13139N002_full_img2.fits.gz"),
    ]
    # one request per distinct ID, not one per row
    assert asked == {_datalink_id(1994): 1, _datalink_id(13139): 1}


def test_cloud_uri_follows_the_service_descriptor_and_matches_the_access_url(asked):
    results = _sia_results()
    location = cloud_uri(results[1])
    assert location == CloudLocation(
        "nasa-heasarc", "chandra/data/byobsid/4/1994/primary/acisf01994N004_full_img2.fits.gz", "us-east-1", "open"
    )
    assert asked == {_datalink_id(1994): 1}


def test_datalink_error_message_raises(datalink_service, asked):
    _, broken = datalink_service
    broken.add(_datalink_id(13139))
    with pytest.raises(CloudAccessError, match="NotFoundFault: product withdrawn"):
        cloud_uri(_sia_results()[2])


def test_several_this_rows_and_no_matching_url_is_an_error_not_the_first(asked):
    links = datalink_of(_sia_results()[0])
    with pytest.raises(CloudAccessError, match="2 DataLink rows have semantics '#this' and none match"):
        datalink_location(links, access_url="https://heasarc.gsfc.nasa.gov/FTP/somewhere/else.fits")


def test_other_semantics_fall_back_to_the_url_mirror(asked):
    links = datalink_of(_sia_results()[2])
    table = links.to_table()
    previews = table[table["semantics"] == "#preview"]
    location = datalink_location(previews[:1], semantics="preview")
    assert location.uri == "s3://nasa-heasarc/chandra/data/byobsid/9/13139/primary/acisf13139N002_cntr_img2.jpg"


def test_datalink_access_format_on_an_astropy_row(asked):
    """SIA2/ObsCore rows whose access_url is itself a DataLink document (HEASARC SSA, IRSA soon)."""
    url = f"{DATALINK_URL}?ID={_datalink_id(1994)}"
    table = Table({"access_url": [url], "access_format": [DATALINK_MIME]})
    with pytest.raises(CloudAccessError, match="2 DataLink rows"):
        cloud_uri(table[0])  # two products behind one ID and nothing to tell them apart
    single = Table({"access_url": [url], "access_format": [DATALINK_MIME]})
    links = datalink_of(single[0])
    assert isinstance(links, DatalinkResults)
    assert len(links) == 4


def test_recorded_gavo_datalink(data_dir):
    """A real GAVO DataLink answer: one #this row, no cloud_access, URL not mirrored -> None."""
    links = DatalinkResults(parse(str(data_dir / "datalink.xml")))
    assert datalink_location(links) is None
    assert datalink_location(links, semantics="#nonexistent") is None
    table = links.to_table()
    assert list(table["semantics"]).count("#this") == 1


def test_not_a_datalink_table():
    with pytest.raises(CloudAccessError, match="no semantics column"):
        datalink_location(Table({"ID": ["x"], "access_url": ["y"]}))


def test_rows_without_any_datalink_raise_in_iteration():
    votable = table_votable((("access_url", "char", "*", None, "VOX:Image_AccessReference"),), [["https://x/y"]])
    results = SIAResults(parse(io.BytesIO(to_bytes(votable))))
    with pytest.raises(CloudAccessError, match="no DataLink"):
        list(iter_datalinks_by_row(results))
