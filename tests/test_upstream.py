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
