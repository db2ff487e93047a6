"""Record a run against the local archive (standing in for the live services), replay it, diff it.

The run is a short script of real client calls (pyvo SIA at IRSA, a pyvo TAP query at HEASARC, an
HTTPS range read of a FITS file in IRSA's Spitzer bucket, MAST's portal through astroquery) in a
separate Python process whose recorder is installed at start-up by ``LOCAL_ARCHIVE_RECORD``, as in a
notebook kernel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from astropy.io import fits

vcr = pytest.importorskip("vcr")  # the recorder (vcrpy, the "local" extra)

from local_archive import LocalArchive  # noqa: E402
from local_archive.diff import diff_recording  # noqa: E402
from local_archive.recording import KEPT_PREFIX, LARGE_BODY, TRUNCATED_HEADER, environment  # noqa: E402
from local_archive.replay import SOURCE_HEADER, load_interactions, response_body  # noqa: E402

SCRIPT = r'''
import hashlib, json, sys
import astropy.units as u
import pyvo
import requests
from astropy.coordinates import SkyCoord
from astroquery.mast import Observations

out = {}
sia = pyvo.dal.SIAService("https://irsa.ipac.caltech.edu/ibe/sia/twomass/allsky/allsky?").search(
    pos=SkyCoord(314.30417, 77.595559, unit="deg"), size=0.001 * u.deg).to_table()
out["sia"] = [len(sia), list(sia.colnames), [str(url) for url in sia["sia_url"]]]
tap = pyvo.dal.TAPService("https://heasarc.gsfc.nasa.gov/xamin/vo/tap").search(
    "SELECT name, redshift FROM acceptcat WHERE redshift > 0.4 ORDER BY name").to_table()
out["tap"] = [list(tap.colnames), [[str(value) for value in row] for row in tap]]
head = requests.get(sys.argv[1], headers={"Range": "bytes=0-5759"}, timeout=30)
out["fits"] = [head.status_code, head.headers["Content-Range"], hashlib.sha256(head.content).hexdigest()]
whole = requests.get(sys.argv[2], timeout=60)  # a whole file over 4 MiB: kept as its first bytes
out["whole"] = [whole.status_code, len(whole.content), hashlib.sha256(whole.content).hexdigest()]
mast = Observations.query_region(SkyCoord(83.63308333, 22.0145, unit="deg"), radius=0.001 * u.deg)
out["mast"] = sorted(str(obs_id) for obs_id in mast["obs_id"])
print(json.dumps(out))
'''
FITS_BUCKET = "nasa-irsa-spitzer"
FITS_HOST = f"{FITS_BUCKET}.s3.amazonaws.com"  # the legacy global endpoint (local_archive.services.s3_https)


def _run_script(archive: LocalArchive, tmp: Path, urls: tuple[str, str], extra: dict[str, str] | None = None) -> dict:
    script = tmp / "script.py"
    script.write_text(SCRIPT)
    env = {**os.environ, **archive.environment(), **(extra or {})}
    done = subprocess.run([sys.executable, str(script), *urls], env=env, capture_output=True, text=True,
                          timeout=120, cwd=tmp)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def fits_url(local_archive) -> str:
    product = min((p for p in local_archive.products if p.bucket == FITS_BUCKET and p.key.endswith(".fits")
                   and p.path.stat().st_size >= 5760), key=lambda p: (p.path.stat().st_size, p.key))
    return f"https://{FITS_HOST}/{product.key}"


@pytest.fixture(scope="module")
def whole_url(local_archive) -> str:
    """An HST drizzled image, 12 MB: a whole-file GET the recording keeps as its first bytes."""
    product, = [p for p in local_archive.products if p.key.endswith("/jc6801010_drz.fits")]
    assert product.path.stat().st_size > LARGE_BODY
    return f"https://{product.bucket}.s3.amazonaws.com/{product.key}"


@pytest.fixture(scope="module")
def recorded(local_archive, fits_url, whole_url, tmp_path_factory):
    """(recording folder, what the script printed) of one recorded run against the session's archive."""
    tmp = tmp_path_factory.mktemp("record")
    folder = tmp / "recording"
    printed = _run_script(local_archive, tmp, (fits_url, whole_url), environment(folder))
    return folder, printed


def test_the_recording_holds_the_runs_exchanges_as_the_real_services_urls(recorded, fits_url, whole_url):
    folder, printed = recorded
    assert len(list(folder.glob("*.yaml"))) == 1  # one cassette per recorded process
    interactions = load_interactions(folder)
    hosts = {request.host for request, _ in interactions}
    assert {"irsa.ipac.caltech.edu", "heasarc.gsfc.nasa.gov", FITS_HOST, "mast.stsci.edu"} <= hosts
    assert all(request.uri.startswith("https://") for request, _ in interactions)
    (fits_request, fits_response), = [(q, r) for q, r in interactions if q.uri == fits_url]
    assert fits_request.headers["Range"] == "bytes=0-5759" and fits_response["status"]["code"] == 206
    assert len(response_body(fits_response)) == 5760 and response_body(fits_response).startswith(b"SIMPLE  =")
    tap = [q for q, _ in interactions if q.host == "heasarc.gsfc.nasa.gov"]
    assert [(q.method, q.path) for q in tap] == [("POST", "/xamin/vo/tap/sync")]
    (_, whole), = [(q, r) for q, r in interactions if q.uri == whole_url]
    length, digest = printed["whole"][1:]
    assert whole["headers"][TRUNCATED_HEADER] == [f"length={length}; sha256={digest}; kept={KEPT_PREFIX}"]
    assert len(response_body(whole)) == KEPT_PREFIX and response_body(whole).startswith(b"SIMPLE  =")
    assert printed["fits"][:2] == [206, f"bytes 0-5759/{printed['fits'][1].rsplit('/', 1)[1]}"]


@pytest.fixture(scope="module")
def replaying(recorded, local_archive):
    """The session's archive answering from the recording (as ``LocalArchive(replay=...)`` does), then not."""
    local_archive.replay = recorded[0]
    yield local_archive
    local_archive.replay = None


def test_replay_answers_every_recorded_request_byte_for_byte_as_recorded(replaying, recorded, fits_url, whole_url,
                                                                         tmp_path):
    folder, printed = recorded
    assert _run_script(replaying, tmp_path, (fits_url, whole_url)) == printed
    # The one whole large file, kept as its first bytes only, is the generated file's to answer.
    assert replaying.http.replay.missed == [f"GET {whole_url}"]
    assert replaying.http.replay.served["generated"] == 1 and replaying.http.replay.served["recorded"] >= 5
    for request, response in load_interactions(folder):
        if request.uri == whole_url:
            continue
        headers = {name: request.headers[name] for name in ("Range", "Content-Type") if name in request.headers}
        url = replaying.http.url(request.host, request.uri.split(request.host, 1)[1])
        answer = requests.request(request.method, url, data=request.body, headers=headers, timeout=30)
        assert answer.headers[SOURCE_HEADER] == "recorded", request.uri
        assert answer.status_code == response["status"]["code"] and answer.content == response_body(response)


def test_an_unrecorded_request_is_answered_by_the_generated_archive_and_says_so(replaying, fits_url):
    path = fits_url.split(FITS_HOST, 1)[1]
    answer = requests.get(replaying.http.url(FITS_HOST, path), headers={"Range": "bytes=0-99"}, timeout=30)
    assert answer.status_code == 206 and answer.headers[SOURCE_HEADER] == "generated"
    assert answer.content == (replaying.products and _local_bytes(replaying, path)[:100])


def test_the_s3_server_answers_a_recorded_object_whatever_endpoint_style_recorded_it(replaying, recorded,
                                                                                    fits_url):
    """Recorded through the bucket's HTTPS virtual host, asked path style of the S3 server (s3fs, boto3)."""
    folder, _ = recorded
    (_, response), = [(q, r) for q, r in load_interactions(folder) if q.uri == fits_url]
    path = fits_url.split(FITS_HOST, 1)[1]
    url = f"{replaying.s3.endpoint}/{FITS_BUCKET}{path}"
    answer = requests.get(url, headers={"Range": "bytes=0-5759"}, timeout=30)
    assert answer.headers[SOURCE_HEADER] == "recorded" and answer.status_code == 206
    assert answer.content == response_body(response)
    assert answer.headers["Content-Range"] == response["headers"]["Content-Range"][0]
    other = requests.get(url, headers={"Range": "bytes=0-99"}, timeout=30)
    assert other.headers[SOURCE_HEADER] == "generated" and other.content == _local_bytes(replaying, path)[:100]
    assert replaying.replay.missed[-1] == f"GET {fits_url} (bytes=0-99)"


def _local_bytes(archive: LocalArchive, path: str) -> bytes:
    product, = [p for p in archive.products if p.bucket == FITS_BUCKET and "/" + p.key == path]
    return product.path.read_bytes()


def test_the_diff_of_an_unchanged_recording_is_empty(recorded, local_archive):
    assert diff_recording(recorded[0], local_archive.http.base_url) == []


def _edit(folder: Path, edit) -> None:
    """Apply ``edit(request, response)`` to every recorded exchange and write the cassettes back."""
    from vcr.serialize import deserialize, serialize
    from vcr.serializers import yamlserializer

    for path in folder.glob("*.yaml"):
        requests_, responses = deserialize(path.read_text(), yamlserializer)
        for request, response in zip(requests_, responses, strict=True):
            edit(request, response)
        path.write_text(serialize({"requests": requests_, "responses": responses}, yamlserializer))


def test_a_changed_recording_shows_exactly_its_changes_in_the_diff(recorded, local_archive, fits_url, tmp_path):
    from io import BytesIO

    from astropy.io.votable import parse, writeto

    folder = tmp_path / "edited"
    shutil.copytree(recorded[0], folder)

    def edit(request, response):
        body = response_body(response)
        if request.host == "irsa.ipac.caltech.edu":  # the SIA answer loses its last column
            votable = parse(BytesIO(body))
            table = votable.get_first_table()
            table.fields.pop()
            table.array = table.array[[name for name in table.array.dtype.names[:-1]]]
            out = BytesIO()
            writeto(votable, out)
            response["body"]["string"] = out.getvalue()
        elif request.host == "heasarc.gsfc.nasa.gov":  # the TAP answer loses a row
            votable = parse(BytesIO(body))
            table = votable.get_first_table()
            table.array = table.array[:-1]
            out = BytesIO()
            writeto(votable, out)
            response["body"]["string"] = out.getvalue()
        elif request.uri == fits_url:  # one FITS card changes its value, in place
            header = fits.Header.fromstring(body[:2880 * 2].decode("ascii"))
            old = header.cards["BITPIX"].image.encode("ascii")
            new = fits.Card("BITPIX", -64 if header["BITPIX"] != -64 else 64).image.encode("ascii")
            response["body"]["string"] = body.replace(old, new, 1)

    _edit(folder, edit)
    interactions = {request.host: request for request, _ in load_interactions(folder)}
    sia, tap = interactions["irsa.ipac.caltech.edu"], interactions["heasarc.gsfc.nasa.gov"]
    generated_sia = recorded[1]["sia"]
    lines = diff_recording(folder, local_archive.http.base_url)
    header = fits.Header.fromstring(_local_bytes(local_archive, fits_url.split(FITS_HOST, 1)[1])[:5760].decode())
    assert lines == [
        f"GET {sia.uri}: VOTable columns: recorded {','.join(generated_sia[1][:-1])}, "
        f"generated {','.join(generated_sia[1])}",
        f"POST {tap.uri}: VOTable rows: recorded {len(recorded[1]['tap'][1]) - 1}, "
        f"generated {len(recorded[1]['tap'][1])}",
        f"GET {fits_url}: FITS card BITPIX: recorded {-64 if header['BITPIX'] != -64 else 64!r}, "
        f"generated {header['BITPIX']!r}",
    ]


UPLOAD_SCRIPT = r'''
import json
import pyvo
from astropy.table import Table

points = Table({"id": [1, 2], "ra": [83.633, 10.684], "dec": [22.0145, 41.269]})
result = pyvo.dal.TAPService("https://irsa.ipac.caltech.edu/TAP").run_sync(
    "SELECT id, ra, dec FROM TAP_UPLOAD.points ORDER BY id", uploads={"points": points}).to_table()
print(json.dumps([[int(row["id"]), float(row["ra"]), float(row["dec"])] for row in result]))
'''


def test_a_tap_upload_replays_whatever_its_multipart_boundary(local_archive, tmp_path):
    """pyvo sends an upload as multipart/form-data with a new random boundary each time: still the same request."""
    script = tmp_path / "upload.py"
    script.write_text(UPLOAD_SCRIPT)
    folder = tmp_path / "recording"

    def run(extra):
        done = subprocess.run([sys.executable, str(script)], env={**os.environ, **local_archive.environment(), **extra},
                              capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    printed = run(environment(folder))
    assert printed == [[1, 83.633, 22.0145], [2, 10.684, 41.269]]
    (request, _), = [(q, r) for q, r in load_interactions(folder) if q.path == "/TAP/sync"]
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    local_archive.replay = folder
    try:
        assert run({}) == printed
        assert local_archive.replay.served == {"recorded": 1} and local_archive.replay.missed == []
    finally:
        local_archive.replay = None
