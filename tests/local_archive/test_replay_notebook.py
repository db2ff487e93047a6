"""A tutorial recorded against the local archive (standing in for live), then replayed: same outputs.

The basic tutorial runs once with its kernel recording (``LOCAL_ARCHIVE_RECORD``, as ``pytest --record``
sets it), and once more with the session's archive answering from that recording
(``LocalArchive.replay``, as ``pytest --replay`` sets it) in which one recorded answer was changed:
one Chandra observation's exposure in HEASARC's SIA answer.  Every output of the replayed run is the
recorded run's, byte for byte (figures included), but for the cells that show that exposure, which
show the changed value; so what the reader sees comes from the recording, S3 reads included.
Cells that print a duration are compared with their numbers blanked; the plan of each cutout is
fixed with ``HELPERS_LINK`` (it would otherwise follow the measured speed of the link).
"""

from __future__ import annotations

import re
import shutil
from io import BytesIO
from pathlib import Path

import pytest

vcr = pytest.importorskip("vcr")  # the recorder (vcrpy, the "local" extra)

from local_archive.recording import environment  # noqa: E402
from local_archive.replay import load_interactions, response_body  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "notebooks" / "data_access.md"
SIA_HOST, SIA_PATH = "heasarc.gsfc.nasa.gov", "/xamin/vo/sia"  # chanmaster's SIA (the tutorial's section 3)
OBSID, NEW_EXPOSURE = 13140, 12345.0
_DURATION = re.compile(r"\d+(?:\.\d+)?(?= s\b)")
_TABLE_ID = re.compile(r'id="table\d+"')


def _execute(path: Path, env: dict[str, str], monkeypatch) -> list:
    """The notebook's code cells after one run with ``env`` (kernels inherit this process's environment)."""
    import jupytext
    from notebook_client import NotebookClient  # tools/: nbclient's, with waits that cannot miss a reply

    with monkeypatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        notebook = jupytext.read(path)
        NotebookClient(notebook, kernel_name="python3", timeout=300,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _seen(cell) -> list:
    """What a reader sees of one cell: its outputs, durations blanked, progress bars left out.

    Consecutive writes to one stream count as one text (how the kernel splits them is a matter of
    timing), and the ``id`` astropy gives each HTML table (an object's address) is blanked.
    """
    timed = "time." in cell.source  # the cell measures a duration (time.perf_counter, time.time)
    seen: list = []
    for output in cell.outputs:
        if output.output_type == "stream":
            if output.name == "stderr" and "%|" in output.text:  # tqdm's bar: rates and times
                continue
            text = _DURATION.sub("#", output.text) if timed else output.text
            if seen and isinstance(seen[-1], tuple) and seen[-1][0] == output.name:
                seen[-1] = (output.name, seen[-1][1] + text)
            else:
                seen.append((output.name, text))
        elif output.output_type in ("execute_result", "display_data"):
            seen.append({kind: _TABLE_ID.sub('id="table#"', value) if kind == "text/html" else value
                         for kind, value in output.data.items()})
        else:
            seen.append(dict(output))
    return seen


@pytest.fixture(scope="module")
def runs(local_archive, tmp_path_factory):
    """(recorded run's cells, replayed run's cells, the replay, the edited recording folder)."""
    monkeypatch = pytest.MonkeyPatch()
    tmp = tmp_path_factory.mktemp("notebook-replay")
    recording, edited = tmp / "recording", tmp / "edited"
    # Plan every cutout for the in-region link, whatever this machine's timings (explicit links win).
    env = {**local_archive.environment(), "HELPERS_LINK": "0.02,50e6"}
    try:
        # Each run with an empty astropy cache, so that both ask for the same files (pyvo caches the
        # IVOA DataLink vocabulary there).
        for run in ("record", "replay"):
            (tmp / run).mkdir()
        recorded = _execute(TUTORIAL, {**env, **environment(recording), "ASTROPY_CACHE_DIR": str(tmp / "record")},
                            monkeypatch)
        shutil.copytree(recording, edited)
        _change_exposure(edited)
        local_archive.replay = edited
        replay = local_archive.replay
        replayed = _execute(TUTORIAL, {**env, "ASTROPY_CACHE_DIR": str(tmp / "replay")}, monkeypatch)
    finally:
        local_archive.replay = None
        monkeypatch.undo()
    return recorded, replayed, replay, edited


def _change_exposure(folder: Path) -> None:
    """In every recorded SIA answer of chanmaster, ObsID 13140's exposure becomes NEW_EXPOSURE."""
    from astropy.io.votable import parse, writeto
    from vcr.serialize import deserialize, serialize
    from vcr.serializers import yamlserializer

    changed = 0
    for path in folder.glob("*.yaml"):
        requests, responses = deserialize(path.read_text(), yamlserializer)
        for request, response in zip(requests, responses, strict=True):
            if request.host != SIA_HOST or not request.path.startswith(SIA_PATH):
                continue
            votable = parse(BytesIO(response_body(response)))
            table = votable.get_first_table()
            rows = table.array["obsid"] == OBSID
            if rows.any():
                table.array["exposure"][rows] = NEW_EXPOSURE
                out = BytesIO()
                writeto(votable, out)
                response["body"]["string"] = out.getvalue()
                changed += 1
        path.write_text(serialize({"requests": requests, "responses": responses}, yamlserializer))
    assert changed, f"no recorded SIA answer of {SIA_HOST}{SIA_PATH} lists ObsID {OBSID}"


def test_the_recording_holds_the_tutorials_service_calls_and_s3_reads(runs):
    *_, edited = runs
    hosts = {request.host for request, _ in load_interactions(edited)}
    # The services, and S3 through s3fs and boto3 (the archive's S3 server), written as the buckets'
    # legacy global virtual hosts (local_archive.recording).
    assert hosts == {"irsa.ipac.caltech.edu", "mast.stsci.edu", SIA_HOST, "reg.g-vo.org", "www.ivoa.net",
                     "nasa-irsa-wise.s3.amazonaws.com", "stpubdata.s3.amazonaws.com",
                     "nasa-heasarc.s3.amazonaws.com"}
    ranges = [request.headers.get("Range") for request, _ in load_interactions(edited)
              if request.host == "nasa-irsa-wise.s3.amazonaws.com" and request.method == "GET"]
    assert ranges and all(rng and rng.startswith("bytes=") for rng in ranges)


def test_the_replayed_tutorial_shows_the_recorded_outputs_but_the_changed_exposure(runs):
    recorded, replayed, _, _ = runs
    assert [cell.source for cell in replayed] == [cell.source for cell in recorded]
    differing = [i for i, (a, b) in enumerate(zip(recorded, replayed, strict=True)) if _seen(a) != _seen(b)]
    exposure_line = [i for i, cell in enumerate(replayed) if "print(\"ObsID\"" in cell.source]
    assert len(exposure_line) == 1
    line = exposure_line[0]
    assert [output.text for output in replayed[line].outputs] == [f"ObsID {OBSID} exposure {NEW_EXPOSURE} s\n"]
    assert recorded[line].outputs[0].text != replayed[line].outputs[0].text
    # Only the cells that show the exposure differ: the SIA table, the filtered table, the deepest one.
    shows_exposure = {i for i, cell in enumerate(replayed) if "exposure" in cell.source}
    assert line in differing and set(differing) <= shows_exposure, [replayed[i].source for i in differing]
    figures = [i for i, cell in enumerate(replayed) for o in cell.outputs if "image/png" in o.get("data", {})]
    assert len(figures) == 4 and not set(figures) & set(differing)


def test_every_request_but_the_whole_large_file_was_answered_from_the_recording(runs):
    *_, replay, edited = runs
    truncated = [f"{request.method} {request.uri}" for request, response in load_interactions(edited)
                 if response["headers"].get("x-local-archive-truncated")]
    # The .Z file, 8.6 MB, is read whole twice (fetch_bytes, then the check that it is the same bytes).
    whole = ("GET https://nasa-heasarc.s3.amazonaws.com/rosat/data/pspc/processed_data/900000/rs931315n00/"
             "rs931315n00_bas.fits.Z")
    assert replay.missed == truncated == [whole, whole]
    assert replay.served == {"generated": 2, "recorded": len(load_interactions(edited)) - 2}
