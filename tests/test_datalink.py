"""DataLink: HEASARC-style shared IDs, semantics, error_message, pyvo's batching failure, and broken services.

The discovery results and DataLink answers are VOTables built with astropy in
the shapes HEASARC serves; the DataLink services are a real HTTP server on
loopback that answers from the same product list, so a request for an ID
returns exactly that observation's links.  The broken services (HTML pages,
JSON, empty bodies, redirect loops, a server that drips one byte every half
second) are real handlers on the same server.
"""

from __future__ import annotations

import io
import socket
import time
from collections import Counter

import pytest
import requests
from astropy.io.votable import parse
from astropy.table import Table
from pyvo.dal import SIAResults
from pyvo.dal.adhoc import DatalinkResults

from helpers import (
    ArchiveError,
    CloudAccessError,
    CloudInputError,
    CloudLocation,
    DeadlineError,
    cloud_uri,
    datalink_location,
    iter_datalinks_by_row,
)
from helpers.datalink import datalink_of, datalink_url_of, fetch_datalink, is_datalink_format
from local_archive.httpserver import Response
from local_archive.votables import (
    DATALINK_MIME,
    cloud_access_json,
    datalink_votable,
    error_votable,
    table_votable,
    to_bytes,
)

# These tests count tries and check bounds: a tenth of the real pauses (tests/test_deadline.py has those).
pytestmark = pytest.mark.usefixtures("quick_backoff")

HOST = "heasarc.gsfc.nasa.gov"
FTP = f"https://{HOST}/FTP/chandra/data/byobsid"
DATALINK_URL = f"https://{HOST}/xamin/vo/datalink/chanmaster"
# Production xamin (service_formats.md §3.2c): the access_url *is* the DataLink document.
PRODUCTION_DATALINK = f"https://{HOST}/xamin/vo/datalink"

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


def _datalink_id(obsid: int, kind: str = "img") -> str:
    return f"ivo://nasa.heasarc/chanmaster?{obsid}/chandra.obs.{kind}"


def _key(obsid: int, name: str) -> str:
    return f"chandra/data/byobsid/{str(obsid)[-1]}/{obsid}/primary/{name}"


def _file_url(obsid: int, name: str, slashes: str = "/") -> str:
    return f"{FTP}/{str(obsid)[-1]}{slashes}{obsid}/primary/{name}"


def _links_for(link_id: str, broken: set[str]) -> list[dict]:
    rows = []
    for obsid, title, _, name in PRODUCTS:
        if _datalink_id(obsid) != link_id:
            continue
        if link_id in broken:
            rows.append({"ID": link_id, "semantics": "#this", "error_message": "NotFoundFault: product withdrawn"})
            continue
        # HEASARC's own URLs have the // run; the S3 keys do not.
        rows.append({"ID": link_id, "access_url": _file_url(obsid, name, "//"), "description": title,
                     "semantics": "#this", "content_type": "application/fits", "content_length": 1234,
                     "cloud_access": cloud_access_json("nasa-heasarc", _key(obsid, name), "us-east-1",
                                                       style="heasarc")})
        rows.append({"ID": link_id, "access_url": _file_url(obsid, name.replace(".fits.gz", ".jpg")),
                     "description": title + " preview", "semantics": "#preview", "content_type": "image/jpeg"})
    return rows


@pytest.fixture(scope="module")
def datalink_service(http_server):
    """HEASARC's DataLink endpoint on loopback; counts how often each ID is asked for."""
    asked: Counter[str] = Counter()
    broken: set[str] = set()
    headers: list[dict] = []

    def handler(request, path):
        headers.append(dict(request.headers))
        ids = request.values.getlist("ID") or request.values.getlist("id")
        rows = []
        for link_id in dict.fromkeys(ids):  # each ID once, in the order asked
            asked[link_id] += 1
            rows.extend(_links_for(link_id, broken))
        return Response(to_bytes(datalink_votable(rows)), content_type="text/xml")

    http_server.route(HOST, "/xamin/vo/datalink/chanmaster", handler)
    return asked, broken, headers


@pytest.fixture
def asked(datalink_service, http):
    counts, broken, headers = datalink_service
    counts.clear()
    broken.clear()
    headers.clear()
    return counts


def _sia_results(products=PRODUCTS, datalink_url: str = DATALINK_URL) -> SIAResults:
    rows = [[obsid, "Crab Nebula", det, title, _datalink_id(obsid), _file_url(obsid, name), "image/fits"]
            for obsid, title, det, name in products]
    votable = table_votable(SIA_FIELDS, rows, datalink_url=datalink_url, datalink_ref="datalink")
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
        location = datalink_location(links, row=row)
        assert datalink_location(links, access_url=row["access_url"]) == location
        seen.append((row["obsid"], row["obs_title"], location.key))
    assert seen == [
        (1994, "Center Image", "chandra/data/byobsid/4/1994/primary/acisf01994N004_cntr_img2.fits.gz"),
        (1994, "Full Image", "chandra/data/byobsid/4/1994/primary/acisf01994N004_full_img2.fits.gz"),
        (13139, "Center Image", "chandra/data/byobsid/9/13139/primary/acisf13139N002_cntr_img2.fits.gz"),
        (13139, "Full Image", "chandra/data/byobsid/9/13139/primary/acisf13139N002_full_img2.fits.gz"),
    ]
    # one request per distinct ID, not one per row
    assert asked == {_datalink_id(1994): 1, _datalink_id(13139): 1}


def test_cloud_uri_follows_the_service_descriptor_with_a_post_of_the_id(asked, datalink_service):
    results = _sia_results()
    location = cloud_uri(results[1])
    assert location == CloudLocation(
        "nasa-heasarc", "chandra/data/byobsid/4/1994/primary/acisf01994N004_full_img2.fits.gz", "us-east-1", "open"
    )
    # The row's own file URL is the HTTPS copy; the link's // run is not carried over.
    assert location.https_url == _file_url(1994, "acisf01994N004_full_img2.fits.gz")
    assert asked == {_datalink_id(1994): 1}
    _, _, headers = datalink_service
    assert headers[0]["Content-Type"] == "application/x-www-form-urlencoded"


def test_datalink_error_message_raises_an_archive_error(datalink_service, asked):
    _, broken, _ = datalink_service
    broken.add(_datalink_id(13139))
    with pytest.raises(ArchiveError, match="NotFoundFault: product withdrawn") as info:
        cloud_uri(_sia_results()[2])
    assert _datalink_id(13139) in str(info.value)


def test_an_error_row_that_the_row_does_not_point_at_is_not_raised():
    links = Table({"ID": ["x", "x"], "semantics": ["#this", "#this"], "description": ["Center Image", ""],
                   "access_url": [_file_url(1994, "c.fits"), ""], "error_message": ["", "NotFoundFault: gone"]})
    assert datalink_location(links, row={"obs_title": "Center Image"}).key == _key(1994, "c.fits")
    with pytest.raises(ArchiveError, match="NotFoundFault: gone"):  # which product the row is cannot be told
        datalink_location(links, row={"obs_title": "Something else"})


def test_several_this_rows_and_no_matching_url_is_an_input_error_not_the_first(asked):
    links = datalink_of(_sia_results()[0])
    with pytest.raises(CloudInputError, match="2 DataLink rows have semantics '#this' and the row does not single "
                                              "out one .*file URL .* matches none") as info:
        datalink_location(links, access_url="https://heasarc.gsfc.nasa.gov/FTP/somewhere/else.fits")
    assert "Center Image" in str(info.value) and "Full Image" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_other_semantics_fall_back_to_the_url_mirror(asked):
    links = datalink_of(_sia_results()[2])
    table = links.to_table()
    previews = table[table["semantics"] == "#preview"]
    location = datalink_location(previews[:1], semantics="preview")
    assert location.uri == "s3://nasa-heasarc/chandra/data/byobsid/9/13139/primary/acisf13139N002_cntr_img2.jpg"
    assert datalink_location(previews[:1], semantics="http://www.ivoa.net/rdf/datalink/core#preview") == location


def test_datalink_access_format_on_an_astropy_row(asked):
    """SIA2/ObsCore rows whose access_url is itself a DataLink document (HEASARC SSA, IRSA soon)."""
    url = f"{DATALINK_URL}?ID={_datalink_id(1994)}"
    table = Table({"access_url": [url], "access_format": [DATALINK_MIME]})
    with pytest.raises(CloudInputError, match="2 DataLink rows"):
        cloud_uri(table[0])  # two products behind one ID and nothing to tell them apart
    links = datalink_of(table[0])
    assert isinstance(links, DatalinkResults)
    assert len(links) == 4


def test_the_format_tells_two_links_of_one_title_apart():
    links = Table({"ID": ["x", "x"], "semantics": ["#this", "#this"], "description": ["Center Image"] * 2,
                   "content_type": ["image/jpeg", "application/fits"],
                   "access_url": [_file_url(1994, "c.jpg"), _file_url(1994, "c.fits.gz")]})
    row = {"obs_title": "Center Image", "SIA_format": "image/fits"}
    assert datalink_location(links, row=row).key == _key(1994, "c.fits.gz")
    assert datalink_location(links, row=dict(row, SIA_format="image/jpeg")).key == _key(1994, "c.jpg")


def test_links_that_lead_to_one_place_are_not_ambiguous():
    value = cloud_access_json("nasa-heasarc", _key(1994, "c.fits.gz"), "us-east-1", style="heasarc")
    links = Table({"semantics": ["#this", "#this"], "cloud_access": [value, value],
                   "access_url": [_file_url(1994, "c.fits.gz"), _file_url(1994, "c.fits.gz", "//")]})
    assert datalink_location(links).key == _key(1994, "c.fits.gz")
    nowhere = Table({"semantics": ["#this", "#this"], "access_url": ["https://a.example/1", "https://a.example/2"]})
    assert datalink_location(nowhere) is None  # neither is in the cloud, whichever is the row's


def test_recorded_gavo_datalink(data_dir):
    """A real GAVO DataLink answer: one #this row, no cloud_access, URL not mirrored -> None."""
    links = DatalinkResults(parse(str(data_dir / "datalink.xml")))
    assert datalink_location(links) is None
    assert datalink_location(links, semantics="#nonexistent") is None
    table = links.to_table()
    assert list(table["semantics"]).count("#this") == 1


def test_not_a_datalink_table():
    with pytest.raises(CloudInputError, match="no semantics column"):
        datalink_location(Table({"ID": ["x"], "access_url": ["y"]}))


@pytest.mark.parametrize("kwargs", [{"semantics": None}, {"semantics": ""}, {"semantics": 5}, {"provider": None},
                                    {"provider": ""}])
def test_semantics_and_provider_must_be_text(kwargs):
    links = Table({"semantics": ["#this"], "access_url": [_file_url(1994, "c.fits")]})
    with pytest.raises(CloudInputError):
        datalink_location(links, **kwargs)


def test_rows_without_any_datalink_raise_in_iteration():
    votable = table_votable((("access_url", "char", "*", None, "VOX:Image_AccessReference"),), [["https://x/y"]])
    results = SIAResults(parse(io.BytesIO(to_bytes(votable))))
    with pytest.raises(CloudInputError, match="no DataLink"):
        list(iter_datalinks_by_row(results))


def test_datalink_format_spellings():
    for fmt in (DATALINK_MIME, "application/x-votable+xml; content=datalink",
                'Application/X-VOTable+XML;content="datalink"', b"application/x-votable+xml;content=datalink"):
        assert is_datalink_format(fmt)
    for fmt in ("application/x-votable+xml", "image/fits", "text/xml;content=datalink", None, ""):
        assert not is_datalink_format(fmt)
    assert datalink_url_of({"access_url": "https://x/y.fits", "access_format": "image/fits"}) is None


# --- production HEASARC: the access_url is the DataLink document, no datalink or cloud_access column ---------

PROD_PRODUCTS = {
    # id -> [(semantics, description, file or URL, content_type, in cloud_access?)]
    _datalink_id(15158): [
        ("#this", "Center Image", "acisf15158N003_cntr_img2.fits.gz", "application/fits", True),
        ("#this", "Full Image", "acisf15158N003_full_img2.fits.gz", "application/fits", True),
        ("#preview", "Center Image", "acisf15158N003_cntr_img2.jpg", "image/jpeg", False),
        ("#auxiliary", "Observation data directory", "", "text/html", False),
        ("#progenitor", "Observation", f"{PRODUCTION_DATALINK}?datalink_key&id=ivo://nasa.heasarc/chanmaster?15158",
         DATALINK_MIME, False),
        ("#documentation", "Bibliography", f"https://{HOST}/xamin/bib?table=chanmaster&id=15158", "text/html", False),
    ],
    # SSA's per-product ID (NAVO-SPEC25): one #this link, and here no cloud_access (the FTP mirror maps it).
    _datalink_id(7416, "pha"): [("#this", "PHA2 spectrum", "acisf07416N004_pha2.fits.gz", "application/fits", False)],
}


def _production_links(link_id: str) -> list[dict]:
    obsid = int(link_id.split("?")[1].split("/")[0])
    rows = []
    for semantics, description, target, content_type, cloud in PROD_PRODUCTS.get(link_id, []):
        url = target if target.startswith("https://") else _file_url(obsid, target, "//")
        row = {"ID": link_id, "access_url": url, "description": description, "semantics": semantics,
               "content_type": content_type}
        if cloud:
            row["cloud_access"] = cloud_access_json("nasa-heasarc", _key(obsid, target), "us-east-1", style="heasarc")
        rows.append(row)
    if not rows:
        rows.append({"ID": link_id, "semantics": "#this", "error_message": f"NotFoundFault: {link_id}"})
    return rows


@pytest.fixture(scope="module")
def production_service(http_server):
    """``xamin/vo/datalink?datalink_key&id=...``, as HEASARC serves it in production; records each request."""
    requests_seen: list[tuple[str, list[str]]] = []

    def handler(request, path):
        ids = request.args.getlist("id")
        requests_seen.append((request.method, ids))
        rows = [link for link_id in ids for link in _production_links(link_id)]
        return Response(to_bytes(datalink_votable(rows)), content_type="application/x-votable+xml")

    http_server.route(HOST, "/xamin/vo/datalink", handler)
    return requests_seen


@pytest.fixture
def production(production_service, http):
    production_service.clear()
    return production_service


def _production_url(link_id: str) -> str:
    return f"{PRODUCTION_DATALINK}?datalink_key&id={link_id}"


PROD_SIA_FIELDS = (
    ("obsid", "int", None, None, "meta.id"),
    ("name", "char", "*", None, "meta.id;src"),
    ("detector", "char", "*", None, None),
    ("obs_title", "char", "*", None, "meta.title"),
    ("SIA_title", "char", "*", None, "VOX:Image_Title"),
    ("access_url", "char", "*", None, "VOX:Image_AccessReference"),
    ("access_format", "char", "*", None, "VOX:Image_Format"),
)


def _production_sia() -> SIAResults:
    rows = [[15158, "RBS1066", "ACIS-I", title, name.removesuffix(".gz"), _production_url(_datalink_id(15158)),
             DATALINK_MIME]
            for title, name in (("Center Image", "acisf15158N003_cntr_img2.fits.gz"),
                                ("Full Image", "acisf15158N003_full_img2.fits.gz"))]
    return SIAResults(parse(io.BytesIO(to_bytes(table_votable(PROD_SIA_FIELDS, rows)))))


def test_production_heasarc_rows_resolve_to_their_own_products(production):
    results = _production_sia()
    expected = {"Center Image": "acisf15158N003_cntr_img2.fits.gz", "Full Image": "acisf15158N003_full_img2.fits.gz"}
    for rows in (list(results), list(results.to_table())):  # pyvo records and astropy rows alike
        for row in rows:
            name = expected[str(row["obs_title"])]
            location = cloud_uri(row)
            assert location == CloudLocation("nasa-heasarc", _key(15158, name), "us-east-1", "open")
            # The HTTPS copy is the link's file, never the DataLink document the row points at.
            assert location.https_url == _file_url(15158, name, "//")
    # One GET per row, with the ID as HEASARC writes it in the access URL; no POST.
    assert production == [("GET", [_datalink_id(15158)])] * 4


def test_production_row_chosen_by_file_name_when_it_has_no_title(production):
    table = Table({"SIA_title": ["acisf15158N003_full_img2.fits"], "access_url": [_production_url(_datalink_id(15158))],
                   "access_format": [DATALINK_MIME]})
    assert cloud_uri(table[0]).key == _key(15158, "acisf15158N003_full_img2.fits.gz")


def test_production_ssa_row_with_one_product_uses_the_mirror(production):
    table = Table({"SSA_reference": [_production_url(_datalink_id(7416, "pha"))], "SSA_format": [DATALINK_MIME],
                   "SSA_publisher": [_datalink_id(7416, "pha")]})
    location = cloud_uri(table[0])
    assert location == CloudLocation("nasa-heasarc", _key(7416, "acisf07416N004_pha2.fits.gz"), "us-east-1")
    assert location.https_url == _file_url(7416, "acisf07416N004_pha2.fits.gz", "//")


def test_production_row_that_names_no_product_is_ambiguous(production):
    table = Table({"access_url": [_production_url(_datalink_id(15158))], "access_format": [DATALINK_MIME]})
    with pytest.raises(CloudInputError, match=r"2 DataLink rows .*\(its DataLink ID .* matches 2 of 2\)") as info:
        cloud_uri(table[0])
    assert "Center Image" in str(info.value) and "Full Image" in str(info.value)


def test_production_unknown_id_is_the_services_error(production):
    table = Table({"access_url": [_production_url("ivo://nasa.heasarc/chanmaster?1/none")],
                   "access_format": [DATALINK_MIME]})
    with pytest.raises(ArchiveError, match="NotFoundFault: ivo://nasa.heasarc/chanmaster"):
        cloud_uri(table[0])


def test_iter_datalinks_by_row_without_a_descriptor(production):
    results = _production_sia()
    keys = [datalink_location(links, row=row).key for row, links in iter_datalinks_by_row(results)]
    assert keys == [_key(15158, "acisf15158N003_cntr_img2.fits.gz"), _key(15158, "acisf15158N003_full_img2.fits.gz")]
    assert [method for method, _ in production] == ["GET", "GET"]


# --- services that answer something else than a DataLink VOTable ------------------------------------------

HTML = "<!DOCTYPE html><html><head><title>HEASARC</title></head><body>Service unavailable</body></html>"


@pytest.fixture(scope="module")
def broken_service(http_server):
    """``https://heasarc.gsfc.nasa.gov/faults/<kind>``: one broken answer per kind."""
    seen: list[dict] = []

    def drip():
        yield b"<"
        for _ in range(40):
            time.sleep(0.5)
            yield b" "

    def handler(request, path):
        kind = path.rsplit("/", 1)[-1]
        seen.append({"kind": kind, "authorization": request.headers.get("Authorization")})
        answers = {
            "html200": lambda: Response(HTML, content_type="text/html"),
            "html404": lambda: Response(HTML, status=404, content_type="text/html"),
            "html500": lambda: Response(HTML, status=500, content_type="text/html"),
            "html-as-xml": lambda: Response(HTML, content_type="text/xml"),
            "empty": lambda: Response(b"", content_type="application/x-votable+xml"),
            "json": lambda: Response('{"status": "ERROR", "msg": "no"}', content_type="application/json"),
            "xml": lambda: Response("<?xml version='1.0'?><results><row/></results>", content_type="text/xml"),
            "query-error": lambda: Response(error_votable("Database offline, try later"), content_type="text/xml"),
            "no-semantics": lambda: Response(to_bytes(table_votable((("ID", "char", "*", None, None),), [["x"]])),
                                             content_type="text/xml"),
            "loop": lambda: Response("", status=302, headers={"Location": f"https://{HOST}/faults/loop"}),
            "drip": lambda: Response(drip(), content_type="text/xml"),
            "auth": lambda: Response(to_bytes(datalink_votable(_links_for(_datalink_id(1994), set()))),
                                     content_type="text/xml"),
        }
        return answers[kind]()

    http_server.route(HOST, "/faults/", handler)
    return seen


@pytest.fixture
def broken(broken_service, http):
    broken_service.clear()
    return broken_service


def _row(url: str):
    return Table({"access_url": [url], "access_format": [DATALINK_MIME]})[0]


@pytest.mark.parametrize(
    "kind, fragment",
    [
        ("html200", "HTML page"),
        ("html-as-xml", "HTML page"),
        ("html404", "404"),
        ("html500", "500"),
        ("empty", "empty"),
        ("json", "JSON"),
        ("xml", "not a VOTable"),
        ("query-error", "Database offline, try later"),
        ("no-semantics", "not a DataLink result"),
        ("loop", "redirects in a loop"),
    ],
)
def test_broken_datalink_answers_are_archive_errors_naming_the_url(broken, kind, fragment):
    url = f"https://{HOST}/faults/{kind}?id=x"
    for call in (datalink_of, cloud_uri):
        with pytest.raises(ArchiveError, match=fragment) as info:
            call(_row(url))
        assert url in str(info.value)
        assert info.value.url.startswith(f"https://{HOST}/faults/{kind}")
        assert not isinstance(info.value, ValueError)  # not astropy's E19 or pyvo's DALFormatError
    with pytest.raises(ArchiveError, match=fragment):
        fetch_datalink(url)


def test_a_5xx_is_retried_a_bounded_number_of_times(broken, http_server):
    before = http_server.hits[f"{HOST}/faults/html500"]
    began = time.monotonic()
    with pytest.raises(ArchiveError, match="failed after 4 tries"):
        datalink_of(_row(f"https://{HOST}/faults/html500"))
    assert http_server.hits[f"{HOST}/faults/html500"] - before == 4
    assert time.monotonic() - began < 10


def test_query_status_error_through_the_service_descriptor(broken):
    results = _sia_results(datalink_url=f"https://{HOST}/faults/query-error")
    with pytest.raises(ArchiveError, match=f"DataLink request for ID .* to 'https://{HOST}/faults/query-error' failed: "
                                           "the service answered an error: 'Database offline, try later'"):
        cloud_uri(results[0])


def test_a_refused_connection_is_an_archive_error_naming_the_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/xamin/vo/datalink?id=x"  # nothing listens there now
    began = time.monotonic()
    with pytest.raises(ArchiveError) as info:
        datalink_of(_row(url))
    assert url in str(info.value) and "ConnectionError" in str(info.value)
    assert not isinstance(info.value, requests.ConnectionError)
    assert time.monotonic() - began < 10


def test_a_dripping_server_is_cut_off_at_the_deadline(broken):
    url = f"https://{HOST}/faults/drip"
    began = time.monotonic()
    with pytest.raises(DeadlineError, match="2 s deadline") as info:
        datalink_of(_row(url), timeout=2)
    elapsed = time.monotonic() - began
    assert 1.9 < elapsed < 3.0, elapsed
    assert url in str(info.value)
    assert isinstance(info.value, ArchiveError) and isinstance(info.value, TimeoutError)


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), "soon"])
def test_timeout_must_be_a_positive_number(timeout):
    with pytest.raises(CloudInputError, match="timeout"):
        datalink_of(_row(f"https://{HOST}/faults/auth"), timeout=timeout)


def test_no_netrc_password_is_sent(broken, datalink_service, asked, tmp_path, monkeypatch):
    netrc = tmp_path / ".netrc"
    netrc.write_text(f"machine {HOST} login someone password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("NETRC", raising=False)
    url = f"https://{HOST}/faults/auth"
    # Control: plain requests (trust_env on) does send the password to this server.
    requests.get(url, timeout=10)
    assert broken[-1]["authorization"].startswith("Basic ")
    # The helpers' GET of a DataLink document and POST to a service descriptor send none.
    assert len(datalink_of(_row(url))) == 4
    assert broken[-1] == {"kind": "auth", "authorization": None}
    assert cloud_uri(_sia_results()[0]).key == _key(1994, "acisf01994N004_cntr_img2.fits.gz")
    _, _, headers = datalink_service
    assert [h.get("Authorization") for h in headers] == [None]


def test_cloud_access_error_base_still_catches_everything(broken):
    with pytest.raises(CloudAccessError):
        datalink_of(_row(f"https://{HOST}/faults/json"))


# --- input errors: named as such, never retried as archive failures ----------------------------------------

@pytest.mark.parametrize("results", [None, [{"access_url": "https://x/y"}], "https://x/datalink", 5])
def test_iter_datalinks_by_row_needs_a_pyvo_result_or_a_table(results):
    with pytest.raises(CloudInputError, match=r"needs a pyvo result \(DALResults\) or an astropy Table, got"):
        iter_datalinks_by_row(results)  # at the call, before the first row


def test_iter_datalinks_by_row_over_a_table_names_the_row_without_a_datalink():
    table = Table({"access_url": ["https://x/y.fits"], "access_format": ["image/fits"]})
    with pytest.raises(CloudInputError, match="^row 0 has no DataLink"):
        list(iter_datalinks_by_row(table))


@pytest.mark.parametrize("url", ["not a url", "ftp://heasarc.gsfc.nasa.gov/x", "file:///etc/passwd", "https://",
                                 "https://x:port/y", "/xamin/vo/datalink"])
def test_fetch_datalink_of_a_url_that_is_not_http_is_an_input_error(url):
    began = time.monotonic()
    with pytest.raises(CloudInputError, match="a DataLink URL must be an http:// or https:// URL") as info:
        fetch_datalink(url)
    assert not isinstance(info.value, ArchiveError)
    assert time.monotonic() - began < 1  # refused at once, not after the retries


def test_a_dict_row_is_named_by_its_access_url_not_row_none(broken):
    url = f"https://{HOST}/faults/html200?id=x"
    with pytest.raises(ArchiveError, match=r"DataLink request for the row with access URL 'https://") as info:
        datalink_of({"access_url": url, "access_format": DATALINK_MIME})
    assert "row None" not in str(info.value)


def test_row_labels_say_something_useful():
    from helpers.datalink import _row_label

    assert _row_label({"ID": "ivo://x?1", "access_url": "https://x/y"}) == "the row with ID 'ivo://x?1'"
    assert _row_label({"access_url": "https://x/y"}) == "the row with access URL 'https://x/y'"
    assert _row_label({"obsid": 1}) == "the row with columns ['obsid']"
    assert _row_label(Table({"a": [1, 2]})[1]) == "row 1"
    assert len(_row_label({"access_url": "https://x/" + "y" * 10_000})) < 200
