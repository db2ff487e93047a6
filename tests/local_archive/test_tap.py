"""The generic TAP service: aggregate output names, case folding, uploads, examples and views."""

from __future__ import annotations

import io

from astropy.io.votable import parse_single_table
from astropy.table import Table

from local_archive.tap import TapService

_FIELDS = (("name", "char", "*", None, None), ("ra", "double", None, "deg", "pos.eq.ra"),
           ("radial_velocity", "int", None, "km/s", None))
_ROWS = [["a", 10.0, 100], ["b", 20.0, 300], ["c", 30.0, 200]]


def _service(**kwargs) -> TapService:
    return TapService("example.org", "/tap", {"public.t": (_FIELDS, _ROWS)}, **kwargs)


def _table(body: bytes) -> Table:
    return parse_single_table(io.BytesIO(body)).to_table()


def test_unaliased_aggregates_take_postgresql_names() -> None:
    table = _table(_service().run("SELECT COUNT(*), MIN(ra), MAX(radial_velocity), AVG(ra), SUM(ra) FROM t"))
    assert table.colnames == ["count", "min", "max", "avg", "sum"]
    assert table["count"].dtype.name == "int64" and table["count"][0] == 3
    assert list(table[0]) == [3, 10.0, 300, 20.0, 60.0]
    aliased = _table(_service().run("SELECT COUNT(*) AS n FROM t"))
    assert aliased.colnames == ["n"]


def test_unquoted_names_fold_to_the_declared_column() -> None:
    table = _table(_service().run("SELECT Radial_Velocity FROM t ORDER BY Radial_Velocity"))
    assert table.colnames == ["radial_velocity"]
    assert table["radial_velocity"].dtype.name == "int32"
    assert list(table["radial_velocity"]) == [100, 200, 300]


def test_upload_is_queried_as_tap_upload() -> None:
    upload = io.BytesIO()
    Table({"ra": [20.0, 31.0]}).write(upload, format="votable")
    body = _service().run("SELECT t.name FROM t, tap_upload.mine m WHERE t.ra = m.ra",
                          uploads={"mine": upload.getvalue()})
    assert list(_table(body)["name"]) == ["b"]


def test_examples_document_and_views() -> None:
    service = _service(examples=[("first", "SELECT * FROM t")],
                       views={"public.v": ((("i", "long", None, None, None),),
                                           "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                                           "WHERE i < 1000) SELECT i FROM n")})
    document = service._examples_document()
    assert 'typeof="example"' in document and '<pre property="query">SELECT * FROM t</pre>' in document
    assert "ivo://ivoa.net/std/DALI#examples" in service._capabilities()
    assert list(_table(service.run("SELECT COUNT(*) FROM v"))["count"]) == [1000]


# Rows whose TABLEDATA serialisation is exactly 256, 512, 1024 or 2048 bytes long made astropy's C writer
# write one byte past its buffer (astropy issue #20419); in the archive this corrupted the heap and later
# segfaulted the server.  Python's debug allocator checks the guard bytes of every block when it is freed,
# so the overflow aborts a child process at once instead of crashing something unrelated minutes later.
_SERIALISE_ROWS = """
import io, sys
from astropy.io.votable import parse_single_table
from local_archive.tap import TapService
names = ["x" * n for n in range(150, 2100)]
service = TapService("example.org", "/tap", {"public.s": ((("name", "char", "*", None, None),), [[n] for n in names])})
body = service.run("SELECT name FROM s ORDER BY length(name)")
served = list(parse_single_table(io.BytesIO(body)).to_table()["name"])
sys.stdout.write("exact" if served == names else "wrong")
"""


def test_rows_of_buffer_sized_length_do_not_overflow_the_writer() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONMALLOC": "debug", "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-X", "faulthandler", "-c", _SERIALISE_ROWS], env=env, cwd=root,
                          capture_output=True, text=True, timeout=300)
    assert "bad trailing pad byte" not in done.stderr
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout == "exact"
