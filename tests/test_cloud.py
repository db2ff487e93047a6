"""helpers.cloud: parsing cloud_access values, URL mapping, and cloud_uri on real-shaped rows."""

from __future__ import annotations

import json

import numpy as np
import pytest
from astropy.io.votable import parse
from astropy.table import MaskedColumn, Table
from hypothesis import given
from hypothesis import strategies as st
from pyvo.dal import SIAResults

from helpers import CloudAccessError, CloudLocation, cloud_uri, https_to_s3, parse_cloud_access
from helpers.cloud import normalise_key, s3_to_location
from local_archive.votables import IRSA_SIA1_FIELDS, table_votable, to_bytes

# Recorded values (shared/notes/service_formats.md): IRSA SIA v1 row, HEASARC production SSA (Jan 2025),
# and the 2023 HEASARC test server's DataLink value (leading slash, // run, access "region").
IRSA_VALUE = (
    '{"aws": {"bucket_name": "nasa-irsa-wise", "key":"wise/allwise/images/p3am_cdd/00/0046/0046m107_ac51/'
    '0046m107_ac51-w2-int-3.fits", "region": "us-west-2"}}'
)
HEASARC_VALUE = (
    '{"aws":{"bucket_name":"nasa-heasarc","region":"us-east-1","policy":"open",'
    '"key":"chandra/data/byobsid/9/639/primary/acisf00639N005_pha2.fits.gz"}}'
)
HEASARC_2023_VALUE = (
    '{"aws": {   "bucket_name": "dh-fornaxdev",   "region": "us-east-1",   "access": "region",   '
    '"key": "/FTP/chandra/data/byobsid/8//15158/primary/acisf15158N003_cntr_img2.fits.gz" }}'
)


class TestParseCloudAccess:
    def test_irsa_value(self):
        loc = parse_cloud_access(IRSA_VALUE)
        assert loc == CloudLocation(
            "nasa-irsa-wise",
            "wise/allwise/images/p3am_cdd/00/0046/0046m107_ac51/0046m107_ac51-w2-int-3.fits",
            "us-west-2",
            "open",
        )
        assert loc.uri == (
            "s3://nasa-irsa-wise/wise/allwise/images/p3am_cdd/00/0046/0046m107_ac51/0046m107_ac51-w2-int-3.fits"
        )

    def test_heasarc_production_policy_key(self):
        loc = parse_cloud_access(HEASARC_VALUE)
        assert (loc.bucket, loc.key, loc.region, loc.access) == (
            "nasa-heasarc",
            "chandra/data/byobsid/9/639/primary/acisf00639N005_pha2.fits.gz",
            "us-east-1",
            "open",
        )

    def test_heasarc_2023_leading_slash_and_double_slash(self):
        loc = parse_cloud_access(HEASARC_2023_VALUE)
        assert loc.bucket == "dh-fornaxdev"
        assert loc.key == "FTP/chandra/data/byobsid/8/15158/primary/acisf15158N003_cntr_img2.fits.gz"
        assert loc.access == "region"

    def test_dict_input_and_old_spelling(self):
        loc = parse_cloud_access({"aws": {"bucket": "stpubdata", "path": "//hst/public/u9o4/x.fits"}})
        assert (loc.bucket, loc.key, loc.region, loc.access) == ("stpubdata", "hst/public/u9o4/x.fits", "us-east-1",
                                                                 "open")

    def test_list_takes_first_usable_entry(self):
        value = {"aws": [{"bucket_name": "a-bucket", "key": "k1", "access": "none"},
                         {"bucket_name": "b-bucket", "key": "k2", "region": "us-west-2"},
                         {"bucket_name": "c-bucket", "key": "k3"}]}
        assert parse_cloud_access(json.dumps(value)) == CloudLocation("b-bucket", "k2", "us-west-2", "open")

    def test_bytes_and_whitespace(self):
        raw = ("  \n" + HEASARC_VALUE + "\t ").encode()
        assert parse_cloud_access(raw).bucket == "nasa-heasarc"

    def test_provider_is_case_insensitive(self):
        assert parse_cloud_access('{"AWS": {"bucket_name": "nasa-heasarc", "key": "x"}}').uri == "s3://nasa-heasarc/x"
        assert parse_cloud_access('{"aws": {"bucket_name": "nasa-heasarc", "key": "x"}}', provider="AWS").key == "x"

    @pytest.mark.parametrize(
        "value",
        [None, "", "   ", b"", np.ma.masked, "{}", '{"gcp": {"bucket_name": "b-b", "key": "k"}}', '{"aws": []}',
         '{"aws": {"bucket_name": "nasa-heasarc", "key": "x", "access": "none"}}'],
    )
    def test_not_in_the_cloud(self, value):
        assert parse_cloud_access(value) is None

    def test_masked_table_cell(self):
        column = MaskedColumn(["", IRSA_VALUE], mask=[True, False])
        assert parse_cloud_access(column[0]) is None
        assert parse_cloud_access(column[1]).bucket == "nasa-irsa-wise"

    @pytest.mark.parametrize(
        "value, fragment",
        [
            ('{"aws": {"bucket_name": "nasa-heasarc", "key": "x"', "not valid JSON"),
            ('["aws"]', "JSON object keyed by provider"),
            ("42", "JSON object keyed by provider"),
            ('{"aws": "s3://nasa-heasarc/x"}', "not a JSON object"),
            ('{"aws": {"key": "x"}}', "needs a bucket_name and a key"),
            ('{"aws": {"bucket_name": "nasa-heasarc"}}', "needs a bucket_name and a key"),
            ('{"aws": {"bucket_name": "Bad_Bucket!", "key": "x"}}', "invalid bucket name"),
            ('{"aws": {"bucket_name": "nasa-heasarc", "key": "//"}}', "empty key"),
            ('{"aws": {"bucket_name": "nasa-heasarc", "key": "x", "access": "sometimes"}}', "unknown access"),
            ('{"aws": [{"bucket_name": 7, "key": "x"}]}', "needs a bucket_name and a key"),
        ],
    )
    def test_malformed_values_raise_and_quote_the_value(self, value, fragment):
        with pytest.raises(CloudAccessError) as info:
            parse_cloud_access(value)
        assert fragment in str(info.value)
        assert repr(value) in str(info.value)
        assert isinstance(info.value, ValueError)


class TestKeys:
    @pytest.mark.parametrize(
        "key, expected",
        [("/a/b", "a/b"), ("a//b///c", "a/b/c"), ("//a/", "a/"), (" a/b ", "a/b"), ("a/b.fits", "a/b.fits")],
    )
    def test_normalise_key(self, key, expected):
        assert normalise_key(key) == expected

    @given(st.text(alphabet="ab/._-", max_size=40))
    def test_normalised_keys_have_no_leading_or_double_slash(self, key):
        out = normalise_key(key)
        assert not out.startswith("/")
        assert "//" not in out
        assert normalise_key(out) == out
        assert out.replace("/", "") == key.strip().replace("/", "")

    @given(st.text(alphabet="abc/", min_size=1, max_size=30).filter(lambda k: k.strip("/")))
    def test_parse_normalises_any_key(self, key):
        loc = parse_cloud_access(json.dumps({"aws": {"bucket_name": "nasa-heasarc", "key": key}}))
        assert loc.key == normalise_key(key)
        assert loc.uri == "s3://nasa-heasarc/" + normalise_key(key)

    def test_s3_to_location(self):
        assert s3_to_location("s3://nasa-irsa-wise/wise//x.fits") == CloudLocation(
            "nasa-irsa-wise", "wise/x.fits", "us-west-2"
        )
        for bad in ("https://x/y", "s3://", "s3://bucket-only/", 5):
            with pytest.raises(CloudAccessError):
                s3_to_location(bad)


class TestHttpsToS3:
    @pytest.mark.parametrize(
        "url, expected",
        [
            (
                "https://heasarc.gsfc.nasa.gov/FTP/rosat/data/pspc/processed_data/900000/rs931315n00/"
                "rs931315n00_bas.fits.Z",
                "s3://nasa-heasarc/rosat/data/pspc/processed_data/900000/rs931315n00/rs931315n00_bas.fits.Z",
            ),
            (
                "http://heasarc.gsfc.nasa.gov/FTP/chandra/data/byobsid/8//15158/primary/acisf15158N003_cntr_img2.fits.gz",
                "s3://nasa-heasarc/chandra/data/byobsid/8/15158/primary/acisf15158N003_cntr_img2.fits.gz",
            ),
            (
                "https://heasarc.gsfc.nasa.gov//FTP//xmm/data/rev0//0204870101/",
                "s3://nasa-heasarc/xmm/data/rev0/0204870101/",
            ),
            (
                "https://irsa.ipac.caltech.edu/ibe/data/wise/allwise/p3am_cdd/09/0904/0904m213_ac51/"
                "0904m213_ac51-w1-int-3.fits",
                "s3://nasa-irsa-wise/wise/allwise/images/p3am_cdd/09/0904/0904m213_ac51/0904m213_ac51-w1-int-3.fits",
            ),
        ],
    )
    def test_documented_mirrors(self, url, expected):
        assert https_to_s3(url) == expected

    @pytest.mark.parametrize(
        "url",
        [
            "https://heasarc.gsfc.nasa.gov/xamin/vo/datalink?datalink_key&id=ivo://nasa.heasarc/chanmaster?7416",
            "https://heasarc.gsfc.nasa.gov/FTP/",
            "https://heasarc.gsfc.nasa.gov/docs/archive/cloud.html",
            "https://mast.stsci.edu/api/v0.1/Download/file?uri=mast:HST/product/x.fits",
            "https://irsa.ipac.caltech.edu/ibe/data/spitzer/seip/x.fits",
            "ftp://heasarc.gsfc.nasa.gov/FTP/rosat/x.fits",
            "s3://nasa-heasarc/x",
            "not a url",
            "",
            None,
        ],
    )
    def test_unmapped_urls_give_none(self, url):
        assert https_to_s3(url) is None


def _irsa_sia1(rows) -> SIAResults:
    """An IRSA SIA v1 result with the real service's columns and UCDs."""
    votable = table_votable(IRSA_SIA1_FIELDS, rows)
    return SIAResults(parse(__import__("io").BytesIO(to_bytes(votable))))


def _irsa_row(band: int, cloud_access: str | None):
    tile = "0830p227_ac51"
    url = f"https://irsa.ipac.caltech.edu/ibe/data/wise/allwise/p3am_cdd/08/0830/{tile}/{tile}-w{band}-int-3.fits"
    return [f"W{band} Coadd {tile}", url, cloud_access, 2, "image/fits", 83.076923, 22.716667,
            [4095, 4095], [2048.0, 2048.0], [83.076923, 22.716667], "SIN",
            [-0.0003819444391411, 0.0003819444391411], [-0.0003819444391411, 0.0, 0.0, 0.0003819444391411],
            f"W{band}", 3.35e-06, 3.78e-06, 3.13e-06, "m", 20.5, 0.006, url.replace("int-3.fits", "unc-3.fits.gz"),
            url.replace("int-3.fits", "cov-3.fits.gz"), tile]


class TestCloudUriRows:
    def test_pyvo_sia1_record_with_cloud_access(self):
        key = "wise/allwise/images/p3am_cdd/08/0830/0830p227_ac51/0830p227_ac51-w1-int-3.fits"
        value = f'{{"aws": {{"bucket_name": "nasa-irsa-wise", "key":"{key}", "region": "us-west-2"}}}}'
        results = _irsa_sia1([_irsa_row(1, value)])
        assert cloud_uri(results[0]) == CloudLocation("nasa-irsa-wise", key, "us-west-2", "open")

    def test_pyvo_sia1_record_without_cloud_access_maps_the_documented_url(self):
        results = _irsa_sia1([_irsa_row(2, None)])
        assert cloud_uri(results[0]).uri == (
            "s3://nasa-irsa-wise/wise/allwise/images/p3am_cdd/08/0830/0830p227_ac51/0830p227_ac51-w2-int-3.fits"
        )

    def test_astropy_row(self):
        table = Table({"access_url": ["https://example.org/x.fits"], "cloud_access": [HEASARC_VALUE]})
        assert cloud_uri(table[0]).key == "chandra/data/byobsid/9/639/primary/acisf00639N005_pha2.fits.gz"

    def test_row_with_nothing_gives_none(self):
        table = Table({"access_url": ["https://example.org/x.fits"], "cloud_access": [""]})
        assert cloud_uri(table[0]) is None

    def test_malformed_cloud_access_on_a_row_raises(self):
        table = Table({"cloud_access": ['{"aws": {"bucket_name": "nasa-heasarc"}}']})
        with pytest.raises(CloudAccessError, match="needs a bucket_name and a key"):
            cloud_uri(table[0])
