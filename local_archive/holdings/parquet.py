"""Writing a Hive-partitioned Parquet dataset the way IRSA lays out its catalogs in S3.

Both the AllWISE source table (:mod:`local_archive.holdings.catalogs`) and the NEOWISE-R
yearly tables (:mod:`local_archive.holdings.neowise`) are such datasets: one
``.../healpix_k0=<n>/healpix_k5=<m>/<file>.parquet`` per pixel, whose files hold no
partition columns (their values live in the path, as Hive partitioning does), a
``_common_metadata`` whose schema does carry them (service_formats.md §11, and the
``schema.names`` recorded in IRSA's cloud-access-intro §6.1, so that
``ds.dataset(..., schema=pq.read_schema(_common_metadata), partitioning="hive")`` types
them), and a ``_metadata`` with every file's row groups, written last so that its
presence marks a whole dataset.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["write_hive_dataset"]


def write_hive_dataset(root: Path, schema: Any, columns: Iterable[str],
                       partitions: Iterable[tuple[str, Mapping[str, Any]]], *,
                       row_group_size: int | None = None) -> None:
    """Write ``partitions`` under ``root``, replacing whatever was there.

    Parameters
    ----------
    root : Path
        The dataset's folder (its ``_metadata`` goes here).
    schema : pyarrow.Schema
        The whole schema, partition columns included (written to ``_common_metadata``).
    columns : iterable of str
        The columns the files hold, in order (the schema without the partition columns).
    partitions : iterable of (str, mapping)
        Each file's path relative to ``root`` and its columns (name -> array).
    row_group_size : int, optional
        Rows per row group (pyarrow's default when not given).

    Examples
    --------
    >>> import tempfile, pyarrow as pa, pyarrow.parquet as pq
    >>> schema = pa.schema([("x", pa.int32()), ("healpix_k5", pa.int64())])
    >>> root = Path(tempfile.mkdtemp()) / "demo"
    >>> write_hive_dataset(root, schema, ["x"], [("healpix_k5=7/part0.parquet", {"x": [1, 2]})])
    >>> pq.read_schema(root / "_common_metadata").names, pq.read_metadata(root / "_metadata").num_rows
    (['x', 'healpix_k5'], 2)
    >>> shutil.rmtree(root.parent)
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    # An older cache's partitions (other pixels, other bytes) must not stay listed beside these.
    shutil.rmtree(root, ignore_errors=True)
    file_schema = pa.schema([schema.field(name) for name in columns])
    collected: list[Any] = []
    for rel, values in partitions:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table(values, schema=file_schema), path, compression="snappy",
                       row_group_size=row_group_size, metadata_collector=collected)
        collected[-1].set_file_path(rel)  # _metadata must name each file its row groups come from
    pq.write_metadata(schema, root / "_common_metadata")
    tmp = root / f"._metadata.{os.getpid()}"
    pq.write_metadata(file_schema, tmp, metadata_collector=collected)
    os.replace(tmp, root / "_metadata")
