"""pyarrow's own S3 client (native code, the AWS C++ SDK) reaches the local archive in processes it starts.

pyarrow 26 ignores ``AWS_ENDPOINT_URL_S3`` in ``S3FileSystem(...)``; ``local_archive.startup`` fills in the
endpoint when ``pyarrow._s3fs`` is imported.  Every check runs in a subprocess started with
:meth:`LocalArchive.environment`, as a kernel is, so what is tested is the start-up hook itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pyarrow.parquet as pq

from local_archive.holdings.catalogs import CATALOG_PREFIX, COLUMNS

BUCKET = "nasa-irsa-wise"
PARTITION = "healpix_k0=5/healpix_k5=6046/part0.snappy.parquet"  # the Crab's order-5 pixel

SCRIPT = '''
import json, pickle, sys
started_with_pyarrow = "pyarrow" in sys.modules
import pyarrow.dataset as ds
import pyarrow.fs
import pyarrow.parquet as pq

root, partition = sys.argv[1:]
fs = pyarrow.fs.S3FileSystem(region="us-west-2", anonymous=True)  # as IRSA's tutorials write it
with fs.open_input_file(f"{root}/{partition}") as handle:
    head, size = handle.read(4), handle.size()
schema = ds.parquet_dataset(f"{root}/_common_metadata", filesystem=fs).schema
catalog = ds.parquet_dataset(f"{root}/_metadata", filesystem=fs, partitioning="hive")
cone = catalog.to_table(columns=["cntr", "ra"], filter=ds.field("healpix_k5") == 6046)
# Datasets pickle their filesystem (multiprocessing, Dask): the copy must still point here.
copy = pickle.loads(pickle.dumps(fs))
by_uri, path = pyarrow.fs.FileSystem.from_uri(f"s3://{root}/_metadata")
print(json.dumps({
    "started_with_pyarrow": started_with_pyarrow,
    "head": head.decode(), "size": size,
    "names": schema.names, "ra": [str(schema.field("ra").type), schema.field("ra").nullable],
    "rows": cone.num_rows, "first_cntr": cone["cntr"][0].as_py(),
    "copy_size": copy.get_file_info(f"{root}/{partition}").size,
    "uri_size": by_uri.get_file_info(path).size,
    "is_s3": [isinstance(fs, pyarrow.fs.S3FileSystem), isinstance(by_uri, pyarrow.fs.S3FileSystem),
              isinstance(copy, pyarrow.fs.S3FileSystem)],
    "default_chain": pyarrow.fs.S3FileSystem().get_file_info(f"{root}/_metadata").size,
    "explicit": pyarrow.fs.S3FileSystem(anonymous=True, endpoint_override="127.0.0.1:9", scheme="http")
    .__reduce__()[1][0]["endpoint_override"],
}))
'''


def _run(env: dict[str, str], script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script), *args], capture_output=True, text=True,
                          timeout=120, env=env, cwd="/")


def test_pyarrow_s3filesystem_reads_the_catalog_natively_from_the_local_s3_server(archive):
    part = next(p for p in archive.products if p.key.endswith(PARTITION))
    metadata = next(p for p in archive.products if p.key.endswith("/_metadata"))
    local = pq.read_table(part.path, columns=["cntr"])
    archive.s3.reset_stats()
    done = _run({**os.environ, **archive.environment()}, SCRIPT, f"{BUCKET}/{CATALOG_PREFIX}", PARTITION)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["started_with_pyarrow"] is False  # the hook patches on import; start-up does not import pyarrow
    assert seen["head"] == "PAR1" and seen["size"] == part.path.stat().st_size
    assert seen["names"] == [*COLUMNS, "healpix_k0", "healpix_k5"]
    assert seen["ra"] == ["double", False]  # as IRSA's recorded schema.field(1)
    assert seen["rows"] == local.num_rows and seen["first_cntr"] == local["cntr"][0].as_py()
    assert seen["copy_size"] == seen["size"]
    assert seen["uri_size"] == seen["default_chain"] == metadata.path.stat().st_size
    assert seen["is_s3"] == [True, True, True]
    assert seen["explicit"] == "127.0.0.1:9"  # a caller's endpoint_override is kept
    # The reads went through the local S3 server (so nowhere else): the partition's bytes were served.
    assert archive.s3.stats(BUCKET, part.key).bytes > 0
    assert archive.s3.stats(BUCKET, f"{CATALOG_PREFIX}/_common_metadata").requests >= 1


def test_without_the_archive_pyarrow_is_left_alone(archive):
    env = {**os.environ, **archive.environment()}
    del env["LOCAL_ARCHIVE_URL"]  # the start-up file is on the path, but no archive is named
    done = _run(env, "import pyarrow.fs, pyarrow._s3fs as m; print(pyarrow.fs.S3FileSystem is m.S3FileSystem, "
                     "hasattr(m.S3FileSystem, '_local_archive_original'))")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False"]
