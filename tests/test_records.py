"""helpers.records: one way to read a column from astropy rows, pyvo records and dicts."""

from __future__ import annotations

import io

import numpy as np
import pytest
from astropy.io.votable import parse
from astropy.table import MaskedColumn, Table
from pyvo.dal import SIAResults

from helpers.records import access_url_of, colnames, column, format_of, is_empty, text, text_of
from local_archive.votables import DATALINK_MIME, IRSA_SIA1_FIELDS, table_votable, to_bytes

URL = "https://irsa.ipac.caltech.edu/ibe/data/wise/allwise/p3am_cdd/08/0830/0830p227_ac51/0830p227_ac51-w1-int-3.fits"


def _sia1_record(url: str | None, title: str = "W1 Coadd 0830p227_ac51"):
    """A pyvo record of IRSA's SIA v1 shape (sia_url carries the VOX:Image_AccessReference UCD)."""
    row = [title, url, None, 2, "image/fits", 83.08, 22.72, [4095, 4095], [2048.0, 2048.0], [83.08, 22.72], "SIN",
           [-0.00038, 0.00038], [-0.00038, 0.0, 0.0, 0.00038], "W1", 3.35e-06, 3.78e-06, 3.13e-06, "m", 20.5,
           0.006, "u", "c", "0830p227_ac51"]
    return SIAResults(parse(io.BytesIO(to_bytes(table_votable(IRSA_SIA1_FIELDS, [row])))))[0]


@pytest.mark.parametrize("value", [None, np.ma.masked, "", "  \t", b"", b"  ", float("nan"), np.float32("nan"),
                                   np.ma.MaskedArray(5, mask=True)])
def test_empty_values(value):
    assert is_empty(value)
    assert text(value) is None


@pytest.mark.parametrize("value", [0, 0.0, False, "x", b"x", np.ma.MaskedArray(5, mask=False), np.array([1, 2])])
def test_values_that_are_not_empty(value):
    assert not is_empty(value)


def test_text_decodes_bytes_and_strips():
    assert text(b"  https://x/y.fits\n") == "https://x/y.fits"
    assert text(np.bytes_(b"ivo://a")) == "ivo://a"
    assert text(np.str_(" a ")) == "a"
    assert text(42) == "42"
    assert text(b"\xff\xfeab") == "\ufffd\ufffdab"  # undecodable bytes are shown, not raised on


def test_astropy_row_masked_cell_and_missing_column():
    table = Table({"ID": ["a", "b"], "cloud_access": MaskedColumn(["x", ""], mask=[False, True]),
                   "n": MaskedColumn([1, 2], mask=[False, True])})
    assert colnames(table[0]) == ["ID", "cloud_access", "n"]
    assert column(table[0], "cloud_access") == "x"
    assert column(table[1], "cloud_access") is None
    assert column(table[1], "n") is None
    assert column(table[0], "n") == 1
    assert column(table[0], "missing") is None


def test_case_insensitive_only_when_unambiguous():
    assert column({"ID": "ivo://x"}, "id") == "ivo://x"
    assert column({"id": "lower", "ID": "upper"}, "ID") == "upper"
    assert column({"id": "lower", "Id": "mixed"}, "ID") is None  # two candidates: no guess


def test_pyvo_record_columns_and_field_ids():
    record = _sia1_record(URL)
    assert column(record, "sia_url") == URL
    assert column(record, "sia_bp_id") == "W1"
    assert column(record, "cloud_access") is None  # masked in the VOTable
    # The VOTable FIELD ID works too, as DataLink PARAM refs use it (here ID == name).
    assert column(record, "coadd_id") == "0830p227_ac51"


def test_access_url_of_each_row_type():
    assert access_url_of(_sia1_record(URL)) == URL
    assert access_url_of(Table({"access_url": [URL]})[0]) == URL
    assert access_url_of({"SSA_reference": b" " + URL.encode()}) == URL
    assert access_url_of({"access_url": "", "dataURL": URL}) == URL
    assert access_url_of({"obsid": 1}) is None
    assert access_url_of(None) is None


def test_access_url_of_falls_back_to_pyvo_getdataurl_by_ucd():
    """A column with the access-reference UCD but an unlisted name is found by pyvo's getdataurl()."""
    fields = (("my_link", "char", "*", None, "VOX:Image_AccessReference"), ("x", "int", None, None, None))
    record = SIAResults(parse(io.BytesIO(to_bytes(table_votable(fields, [[URL, 1]])))))[0]
    assert access_url_of(record) == URL
    nothing = SIAResults(parse(io.BytesIO(to_bytes(table_votable((("x", "int", None, None, None),), [[1]])))))[0]
    assert access_url_of(nothing) is None


def test_format_and_text_of():
    assert format_of({"access_format": DATALINK_MIME}) == DATALINK_MIME
    assert format_of({"SSA_format": b"application/fits"}) == "application/fits"
    assert format_of(_sia1_record(URL)) == "image/fits"
    assert text_of({"a": "", "b": None, "c": b"z"}, "a", "b", "c") == "z"
    assert text_of({}, "a") is None
    assert text_of("not a row", "a") is None
