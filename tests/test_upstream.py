"""The private APIs of astropy, pyvo and fsspec that helpers use, checked on real objects.

Each test fails, naming the library, when an upgrade moves or renames what
``helpers._upstream`` reaches for (run ``tox -e latest`` to try the newest releases).
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from helpers import _upstream

DATA_OFFSET = 2880  # one header record for a minimal primary HDU


def _image_bytes() -> bytes:
    buffer = io.BytesIO()
    fits.PrimaryHDU(np.arange(12, dtype=">i2").reshape(3, 4)).writeto(buffer)
    return buffer.getvalue()


def test_astropy_hdu_offsets_and_loaded_flag(tmp_path):
    path = tmp_path / "x.fits"
    path.write_bytes(_image_bytes())
    with fits.open(path, lazy_load_hdus=True) as hdul:
        hdu = hdul[0]
        assert _upstream.hdu_data_offset(hdu) == DATA_OFFSET, "astropy moved HDU._data_offset"
        assert _upstream.hdu_data_loaded(hdu) is False, "astropy moved HDU._data_loaded"
        hdu.data  # noqa: B018 - load it
        assert _upstream.hdu_data_loaded(hdu) is True


def test_astropy_fsspec_file_is_reachable(tmp_path):
    path = tmp_path / "x.fits"
    path.write_bytes(_image_bytes())
    with fits.open(path.as_uri(), use_fsspec=True, lazy_load_hdus=True) as hdul:
        handle = _upstream.fsspec_file(hdul)
        assert handle is not None, "astropy no longer keeps the fsspec file at HDUList._file._file"
        assert hasattr(handle, "fs") and handle.size == DATA_OFFSET * 2
        assert _upstream.fsspec_file(hdul[0]) is handle


@pytest.mark.parametrize(("bitpix", "dtype"), [(8, ">u1"), (16, ">i2"), (32, ">i4"), (64, ">i8"),
                                                (-32, ">f4"), (-64, ">f8")])
def test_astropy_bitpix_table(bitpix, dtype):
    assert _upstream.bitpix_dtype(bitpix) == np.dtype(dtype)


@pytest.mark.parametrize("bad", [7, "16", None, [16]])
def test_undefined_bitpix_is_none(bad):
    assert _upstream.bitpix_dtype(bad) is None


def test_astropy_section_class():
    section = _upstream.section_class()
    hdu = fits.PrimaryHDU(np.zeros((3, 4), dtype=">f4"))
    assert isinstance(hdu.section, section), "astropy's hdu.section is no longer a fits.hdu.image.Section"


def test_pyvo_record_results_and_index():
    from astropy.io.votable import from_table
    from pyvo.dal import DALResults

    votable = from_table(Table({"access_url": ["https://a/1", "https://a/2", "https://a/3"]}))
    results = DALResults(votable, url="https://irsa.ipac.caltech.edu/SIA")
    record = results[2]
    assert record["access_url"] == "https://a/3"
    assert _upstream.record_results(record) is results, "pyvo moved Record._results"
    assert _upstream.record_index(record) == 2, "pyvo moved Record._index"


def test_astropy_row_index_and_no_results():
    row = Table({"a": [1, 2, 3]})[2]
    assert _upstream.record_index(row) == 2
    assert _upstream.record_results(row) is None
    assert _upstream.record_index({"a": 1}) is None


def test_astropy_hdu_has_file(tmp_path):
    path = tmp_path / "x.fits"
    path.write_bytes(_image_bytes())
    with fits.open(path, lazy_load_hdus=True) as hdul:
        assert _upstream.hdu_has_file(hdul[0]) is True, "astropy moved HDU._file"
    assert _upstream.hdu_has_file(fits.PrimaryHDU(np.zeros((2, 2)))) is False


def test_botocore_body_has_read1(s3):
    """fetch_bytes reads what has arrived through urllib3's read1 under botocore's StreamingBody."""
    from helpers.s3 import s3_client

    s3.create_bucket("nasa-heasarc")
    s3.put_bytes("nasa-heasarc", "upstream/read1.bin", b"0123456789" * 100)
    body = s3_client("us-east-1").get_object(Bucket="nasa-heasarc", Key="upstream/read1.bin")["Body"]
    read1 = _upstream.streaming_read1(body)
    assert read1 is not None, "botocore's StreamingBody no longer keeps a urllib3 response with read1 at _raw_stream"
    got = b""
    while chunk := read1(64):
        assert len(chunk) <= 64
        got += chunk
    assert got == b"0123456789" * 100


def test_fsspec_read_ahead_cache_and_async_api(s3):
    """The read-ahead cache helpers.open_fits bounds, and the async call helpers.cutout sends its ranges with."""


    from fsspec.asyn import sync

    from helpers.s3 import s3_filesystem

    data = bytes(range(256)) * 1024  # 256 KiB
    s3.create_bucket("nasa-heasarc")
    s3.put_bytes("nasa-heasarc", "upstream/cache.bin", data)
    fs = s3_filesystem("us-east-1")
    cat_file = _upstream.async_cat_file(fs)
    assert cat_file is not None, "s3fs is no longer an fsspec AsyncFileSystem with _cat_file"
    assert sync(fs.loop, cat_file, "nasa-heasarc/upstream/cache.bin", start=10, end=20) == data[10:20]
    assert _upstream.async_cat_file(object()) is None


    with fs.open("nasa-heasarc/upstream/cache.bin", "rb", block_size=4096, cache_type="readahead") as handle:
        cache = _upstream.fsspec_cache(handle)
        assert cache is not None, "fsspec files no longer keep their cache at .cache with a fetcher"
        assert _upstream.cache_block_size(cache) == 4096, "fsspec caches no longer keep .blocksize"
        assert handle.read(100) == data[:100]
        # readahead fetches the 100 bytes asked for plus one block ahead, in one request
        assert _upstream.cache_counters(cache) == (100 + 4096, 1), "fsspec caches count differently"
        calls = []

        def fetch(start, end):
            calls.append((start, end))
            return data[start:end]

        _upstream.set_cache_fetcher(cache, fetch)
        _upstream.set_cache_block_size(cache, 8192)
        handle.seek(100_000)
        assert handle.read(10) == data[100_000:100_010]
        assert calls and calls[0][0] == 100_000, "an fsspec cache no longer fetches through its .fetcher"
        assert calls[0][1] - calls[0][0] >= 8192, "an fsspec cache ignores its .blocksize"
    assert _upstream.cache_counters(None) is None
