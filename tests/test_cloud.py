"""helpers.cloud: parsing cloud_access values, bucket names, keys and URL mapping (pure functions, no I/O)."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from astropy.table import MaskedColumn
from hypothesis import given
from hypothesis import strategies as st

from helpers import CloudAccessError, CloudInputError, CloudLocation, https_to_s3, parse_cloud_access
from helpers.cloud import check_bucket, is_file_url, mirror_location, normalise_key, s3_to_location
from helpers.errors import MAX_QUOTED

# These tests count tries and check bounds: a tenth of the real pauses (tests/test_deadline.py has those).
pytestmark = pytest.mark.usefixtures("quick_backoff")

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
        with pytest.raises(CloudInputError) as info:
            parse_cloud_access(value)
        assert fragment in str(info.value)
        assert repr(value) in str(info.value)
        assert isinstance(info.value, ValueError) and isinstance(info.value, CloudAccessError)


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
        for bad in ("https://x/y", "s3://", "s3://bucket-only/", 5, "s3://Bad_Bucket/k", "s3://192.168.5.4/k"):
            with pytest.raises(CloudInputError):
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


    @pytest.mark.parametrize(
        "url, key",
        [
            # Percent-escapes name the file as it is named: %20 a space, %2B a plus (not a space).
            ("https://heasarc.gsfc.nasa.gov/FTP/a%20dir/x%2By.fits", "a dir/x+y.fits"),
            ("https://heasarc.gsfc.nasa.gov/FTP/a+b/x.fits", "a+b/x.fits"),
            ("https://heasarc.gsfc.nasa.gov/FTP/caf%C3%A9/x.fits", "café/x.fits"),
            # . and .. segments are resolved, escaped or not, before the tree is checked.
            ("https://heasarc.gsfc.nasa.gov/FTP/chandra/./data/../data/x.fits", "chandra/data/x.fits"),
            ("https://heasarc.gsfc.nasa.gov/FTP/chandra/%2e%2e/rosat/x.fits", "rosat/x.fits"),
            ("https://heasarc.gsfc.nasa.gov/FTP/chandra/%2E/x.fits", "chandra/x.fits"),
            ("https://heasarc.gsfc.nasa.gov/docs/../FTP/rosat/x.fits", "rosat/x.fits"),
            ("HTTPS://HEASARC.GSFC.NASA.GOV:443/FTP/rosat/x.fits", "rosat/x.fits"),
            ("https://heasarc.gsfc.nasa.gov/FTP/rosat/x.fits#section", "rosat/x.fits"),
        ],
    )
    def test_paths_are_decoded_and_resolved(self, url, key):
        assert https_to_s3(url) == f"s3://nasa-heasarc/{key}"
        assert mirror_location(url) == CloudLocation("nasa-heasarc", key, "us-east-1")

    @pytest.mark.parametrize(
        "url",
        [
            "https://heasarc.gsfc.nasa.gov/FTP/../docs/x.html",  # leaves the mirrored tree
            "https://heasarc.gsfc.nasa.gov/FTP/%2e%2e/docs/x.html",
            "https://heasarc.gsfc.nasa.gov/FTP/chandra/../../../etc/passwd",  # above the root
            "https://heasarc.gsfc.nasa.gov/FTP/chandra/..",
            "https://heasarc.gsfc.nasa.gov/FTP/a%2Fb.fits",  # an escaped slash names no file of the tree
            "https://heasarc.gsfc.nasa.gov/FTP/a%00.fits",
            "https://heasarc.gsfc.nasa.gov/FTP/%ff%fe.fits",  # not UTF-8
            "https://[bad/FTP/x.fits",  # urlsplit raises ValueError
            "https://heasarc.gsfc.nasa.gov:notaport/FTP/x.fits",
            "https://heasarc.gsfc.nasa.gov/FTP/" + "x" * 1100,  # past S3's 1024-byte keys
            "https://heasarc.gsfc.nasa.gov.evil.example/FTP/x.fits",
            "https://evil.example/heasarc.gsfc.nasa.gov/FTP/x.fits",
            b"https://heasarc.gsfc.nasa.gov/FTP/x.fits",
        ],
    )
    def test_urls_outside_the_tree_or_unparseable_give_none(self, url):
        assert https_to_s3(url) is None

    @given(st.text(alphabet="ab./%2eE5fF0/", max_size=40))
    def test_mapped_keys_never_leave_the_tree(self, path):
        location = mirror_location("https://heasarc.gsfc.nasa.gov/FTP/" + path)
        if location is not None:
            segments = location.key.split("/")
            assert ".." not in segments and "." not in segments and "" not in segments[:-1]
            assert not location.key.startswith("/")

    def test_is_file_url(self):
        assert is_file_url("https://heasarc.gsfc.nasa.gov/FTP/x.fits")
        for url in ("https://heasarc.gsfc.nasa.gov/FTP/", "https://x/datalink?ID=1", "https://x",
                    "ftp://x/y.fits", "https://[bad/x", None, 5):
            assert not is_file_url(url)


class TestBucketNames:
    """AWS's naming rules for general purpose buckets: an invalid name is refused before any request."""

    @pytest.mark.parametrize("name", ["nasa-heasarc", "stpubdata", "dh-fornaxdev", "a.b-c", "abc", "a" * 63,
                                      "1-2-3", "my.bucket.name", "xn-a", "s3alias-x", "192.168.5.4x"])
    def test_valid(self, name):
        assert check_bucket(name) == name
        assert parse_cloud_access({"aws": {"bucket_name": name, "key": "k"}}).bucket == name

    @pytest.mark.parametrize(
        "name, reason",
        [
            ("ab", "3-63"), ("a" * 64, "3-63"), ("Nasa-Heasarc", "3-63"), ("nasa_heasarc", "3-63"),
            ("-nasa", "3-63"), ("nasa-", "3-63"), (".nasa", "3-63"), ("nasa.", "3-63"), ("na sa", "3-63"),
            ("nasa..heasarc", "adjacent dots"), ("192.168.5.4", "IP address"), ("10.0.0.1", "IP address"),
            ("xn--bucket", "xn--"), ("sthree-bucket", "sthree-"), ("sthree-configurator", "sthree-"),
            ("amzn-s3-demo-bucket", "amzn-s3-demo-"), ("bucket-s3alias", "-s3alias"), ("bucket--ol-s3", "--ol-s3"),
            ("bucket.mrap", ".mrap"), ("bucket--x-s3", "--x-s3"), ("bucket--table-s3", "--table-s3"),
            ("nasa\u2010heasarc", "3-63"), ("", "3-63"),
        ],
    )
    def test_invalid_names_are_input_errors(self, name, reason):
        with pytest.raises(CloudInputError, match="invalid S3 bucket name") as info:
            check_bucket(name)
        assert reason in str(info.value)
        with pytest.raises(CloudInputError, match="invalid bucket name"):
            parse_cloud_access(json.dumps({"aws": {"bucket_name": name, "key": "k"}}))
        with pytest.raises(CloudInputError):
            s3_to_location(f"s3://{name}/k")
        with pytest.raises(CloudInputError):
            CloudLocation(name, "k")

    @pytest.mark.parametrize("name", [None, 7, b"nasa-heasarc"])
    def test_names_that_are_not_text(self, name):
        with pytest.raises(CloudInputError):
            CloudLocation(name, "k")


class TestHostileValues:
    def test_deeply_nested_json_is_an_input_error_not_a_recursion_error(self):
        for value in ("[" * 100_000 + "]" * 100_000, '{"aws": ' * 50_000 + "1" + "}" * 50_000):
            with pytest.raises(CloudInputError, match="not a usable JSON value|not valid JSON"):
                parse_cloud_access(value)

    def test_a_huge_integer_is_an_input_error(self):
        with pytest.raises(CloudInputError):
            parse_cloud_access('{"aws": ' + "9" * 5000 + "}")

    @pytest.mark.parametrize("provider", [None, 5, "", "  ", b"aws"])
    def test_provider_must_be_text(self, provider):
        with pytest.raises(CloudInputError, match="provider"):
            parse_cloud_access(HEASARC_VALUE, provider=provider)
        with pytest.raises(CloudInputError, match="provider"):
            parse_cloud_access(None, provider=provider)  # even when there is nothing to parse

    @pytest.mark.parametrize("key", ["\ud800", "a/\udfff/b.fits", "x\udc80"])
    def test_lone_surrogate_keys_are_refused_at_parse_time(self, key):
        value = json.dumps({"aws": {"bucket_name": "nasa-heasarc", "key": key}})  # JSON escapes them as \\udXXX
        assert "\\ud" in value
        with pytest.raises(CloudInputError, match="UTF-8"):
            parse_cloud_access(value)
        with pytest.raises(CloudInputError, match="UTF-8"):
            normalise_key(key)
        with pytest.raises(CloudInputError, match="UTF-8"):
            CloudLocation("nasa-heasarc", key)

    def test_invalid_utf8_bytes_are_refused_not_replaced(self):
        raw = b'{"aws": {"bucket_name": "nasa-heasarc", "key": "caf\xe9.fits"}}'  # Latin-1, not UTF-8
        with pytest.raises(CloudInputError, match="not UTF-8"):
            parse_cloud_access(raw)

    def test_keys_past_1024_bytes_are_refused(self):
        with pytest.raises(CloudInputError, match="1024 bytes"):
            parse_cloud_access({"aws": {"bucket_name": "nasa-heasarc", "key": "é" * 513}})
        assert parse_cloud_access({"aws": {"bucket_name": "nasa-heasarc", "key": "é" * 512}}).key == "é" * 512

    @pytest.mark.parametrize("region", ["US-EAST-1 ", "us-gov-west-1", "eu-central-2"])
    def test_regions(self, region):
        value = {"aws": {"bucket_name": "nasa-heasarc", "key": "k", "region": region}}
        assert parse_cloud_access(value).region == region.strip().lower()

    @pytest.mark.parametrize("region", ["evil.example/x", "us-east-1.amazonaws.com", "us east 1", "1"])
    def test_invalid_regions(self, region):
        with pytest.raises(CloudInputError, match="invalid region"):
            parse_cloud_access({"aws": {"bucket_name": "nasa-heasarc", "key": "k", "region": region}})

    @pytest.mark.parametrize(
        "value",
        [
            '{"aws": {"bucket_name": "nasa-heasarc", "key": "' + "k" * (50 << 20) + '", "access": "x"}}',
            '{"aws": {"bucket_name": "' + "B" * (50 << 20) + '", "key": "k"}}',
            '{"aws": {"bucket_name": "nasa-heasarc", "key": "k", "access": "' + "a" * (50 << 20) + '"}}',
            "[" + "1," * (25 << 20) + "1",
            "x" * (50 << 20),
        ],
        ids=["long-key", "long-bucket", "long-access", "long-bad-json", "long-text"],
    )
    def test_messages_quote_huge_values_only_in_part(self, value):
        began = time.monotonic()
        with pytest.raises(CloudInputError) as info:
            parse_cloud_access(value)
        assert len(str(info.value)) < 4 * MAX_QUOTED
        assert time.monotonic() - began < 10

    def test_location_fields_are_checked(self):
        with pytest.raises(CloudInputError, match="empty"):
            CloudLocation("nasa-heasarc", "")
        with pytest.raises(CloudInputError, match="access"):
            CloudLocation("nasa-heasarc", "k", access="sometimes")
        with pytest.raises(CloudInputError, match="region"):
            CloudLocation("nasa-heasarc", "k", region="x/y")
        with pytest.raises(CloudInputError, match="text"):
            CloudLocation("nasa-heasarc", 5)


@pytest.mark.parametrize("https_url", [5, b"https://x/y.fits", "not a url", "ftp://x/y.fits", "https://", "s3://b/k"])
def test_cloud_location_https_url_must_be_an_http_url(https_url):
    with pytest.raises(CloudInputError, match="https_url must be an http\\(s\\):// URL or None"):
        CloudLocation("nasa-heasarc", "k", https_url=https_url)


def test_cloud_location_https_url_may_be_http_or_https_or_none():
    for url in (None, "https://heasarc.gsfc.nasa.gov/FTP/x.fits", "http://127.0.0.1:8080/x.fits"):
        assert CloudLocation("nasa-heasarc", "k", https_url=url).https_url == url


@pytest.mark.parametrize(
    "url",
    [
        "https://heasarc.gsfc.nasa.gov/FTP/rosat/",
        "https://heasarc.gsfc.nasa.gov/FTP/rosat/data/",
        "https://heasarc.gsfc.nasa.gov/FTP/rosat/data/..",
        "https://heasarc.gsfc.nasa.gov//FTP//xmm/data/rev0//0204870101/",  # once mapped to the key ".../0204870101/"
        "https://irsa.ipac.caltech.edu/ibe/data/wise/allwise/p3am_cdd/08/",
    ],
)
def test_https_to_s3_of_a_directory_is_none(url):
    assert https_to_s3(url) is None
    assert mirror_location(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://heasarc.gsfc.nasa.gov/FTP/..\\docs/archive.html",
        "https://heasarc.gsfc.nasa.gov/FTP/rosat/..%5cdocs",
        "https://heasarc.gsfc.nasa.gov/FTP/rosat/a%5Cb.fits",
    ],
)
def test_https_to_s3_of_a_path_with_a_backslash_is_none(url):
    assert https_to_s3(url) is None
