"""S3's HTTPS REST endpoints answer for the public buckets from the S3 server's own objects.

Every request goes through the URL rewriting (``redirect.install``), the loopback HTTP server and the
S3 server, as a notebook's ``requests``, ``urllib``, fsspec or astropy call would.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import requests
import s3fs
from astropy.io import fits

NS = {"s3": "http://s3.amazonaws.com/doc/2006-03-01/"}
OBSID_1994 = "chandra/data/byobsid/4/1994/"


def _product(archive, bucket: str, *, smallest: bool = False, suffix: str = ""):
    """The bucket's first product ending in ``suffix``; or its smallest of at least 4 KiB."""
    found = [p for p in archive.products if p.bucket == bucket and p.key.endswith(suffix)]
    if not smallest:
        return found[0]
    return min((p for p in found if p.path.stat().st_size >= 4096), key=lambda p: (p.path.stat().st_size, p.key))


def _fs() -> s3fs.S3FileSystem:
    return s3fs.S3FileSystem(anon=True, skip_instance_cache=True)


def _error_code(answer: requests.Response) -> str:
    assert answer.headers["Content-Type"].startswith("application/xml")
    return ET.fromstring(answer.content).findtext("Code")


@pytest.mark.parametrize(("bucket", "url"), [
    ("nasa-heasarc", "https://nasa-heasarc.s3.amazonaws.com/{key}"),             # heasarc-tutorials' form
    ("nasa-heasarc", "https://s3.amazonaws.com/nasa-heasarc/{key}"),             # path style, us-east-1
    ("nasa-irsa-wise", "https://nasa-irsa-wise.s3.us-west-2.amazonaws.com/{key}"),
    ("nasa-irsa-wise", "https://nasa-irsa-wise.s3.amazonaws.com/{key}"),         # legacy global endpoint
    ("nasa-irsa-wise", "https://s3.us-west-2.amazonaws.com/nasa-irsa-wise/{key}"),
    ("nasa-irsa-wise", "https://nasa-irsa-wise.s3-us-west-2.amazonaws.com/{key}"),  # legacy dash form
])
def test_full_and_range_gets_are_the_bytes_s3fs_reads(archive, bucket, url):
    product = _product(archive, bucket, smallest=True)
    fs = _fs()
    path = f"{bucket}/{product.key}"
    whole, etag, by_s3fs = fs.cat_file(path), fs.info(path)["ETag"], fs.cat_file(path, start=100, end=1124)
    size = len(whole)
    assert size == product.path.stat().st_size
    archive.s3.reset_stats()

    full = requests.get(url.format(key=product.key), timeout=30)
    assert full.status_code == 200 and full.content == whole
    assert full.headers["Content-Length"] == str(size)
    assert full.headers["ETag"] == etag
    assert full.headers["Accept-Ranges"] == "bytes"
    assert full.headers["Content-Type"] == product.content_type

    part = requests.get(url.format(key=product.key), headers={"Range": "bytes=100-1123"}, timeout=30)
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 100-1123/{size}"
    assert part.headers["Content-Length"] == "1024"
    assert part.content == by_s3fs == whole[100:1124]
    assert part.headers["ETag"] == full.headers["ETag"]
    assert part.headers["Last-Modified"] == full.headers["Last-Modified"]

    # One source of truth: both answers came from the S3 server, which counted them (and no signature).
    stats = archive.s3.stats(bucket, product.key)
    assert stats.requests == 2 and stats.ranges == ["bytes=100-1123"]
    assert archive.s3.signed_requests == 0


def test_a_suffix_range_and_an_unsatisfiable_range(archive):
    product = _product(archive, "nasa-heasarc", suffix="acisf01994N004_evt2.fits.gz")
    url = f"https://nasa-heasarc.s3.amazonaws.com/{product.key}"
    data = product.path.read_bytes()
    tail = requests.get(url, headers={"Range": "bytes=-100"}, timeout=30)
    assert tail.status_code == 206 and tail.content == data[-100:]
    assert tail.headers["Content-Range"] == f"bytes {len(data) - 100}-{len(data) - 1}/{len(data)}"
    beyond = requests.get(url, headers={"Range": f"bytes={len(data)}-"}, timeout=30)
    assert beyond.status_code == 416 and _error_code(beyond) == "InvalidRange"


@pytest.mark.parametrize(("bucket", "host"), [
    ("nasa-heasarc", "nasa-heasarc.s3.us-east-1.amazonaws.com"),
    ("stpubdata", "stpubdata.s3.amazonaws.com"),
    ("nasa-irsa-wise", "nasa-irsa-wise.s3.us-west-2.amazonaws.com"),
    ("nasa-irsa-spitzer", "nasa-irsa-spitzer.s3.us-west-2.amazonaws.com"),
])
def test_head_answers_the_size_without_a_body(archive, bucket, host):
    product = _product(archive, bucket)
    answer = requests.head(f"https://{host}/{product.key}", timeout=30)
    assert answer.status_code == 200 and answer.content == b""
    assert int(answer.headers["Content-Length"]) == product.path.stat().st_size == _fs().size(
        f"{bucket}/{product.key}")


def test_listing_v2_with_prefix_and_delimiter_gives_the_exact_keys(archive):
    answer = requests.get("https://nasa-heasarc.s3.amazonaws.com/",
                          params={"list-type": "2", "prefix": OBSID_1994, "delimiter": "/"}, timeout=30)
    assert answer.status_code == 200
    root = ET.fromstring(answer.content)
    assert root.tag == f"{{{NS['s3']}}}ListBucketResult"
    keys = [e.findtext("s3:Key", namespaces=NS) for e in root.findall("s3:Contents", NS)]
    prefixes = [e.findtext("s3:Prefix", namespaces=NS) for e in root.findall("s3:CommonPrefixes", NS)]
    under = [p.key[len(OBSID_1994):] for p in archive.products
             if p.bucket == "nasa-heasarc" and p.key.startswith(OBSID_1994)]
    assert keys == sorted(OBSID_1994 + rest for rest in under if "/" not in rest)
    assert prefixes == sorted({OBSID_1994 + rest.split("/")[0] + "/" for rest in under if "/" in rest})
    assert OBSID_1994 + "oif.fits" in keys and prefixes[:2] == [OBSID_1994 + "primary/", OBSID_1994 + "secondary/"]
    assert root.findtext("s3:KeyCount", namespaces=NS) == str(len(keys) + len(prefixes))
    assert sorted(_fs().ls("nasa-heasarc/" + OBSID_1994)) == sorted(
        f"nasa-heasarc/{name.rstrip('/')}" for name in keys + prefixes)

    primary = requests.get("https://nasa-heasarc.s3.amazonaws.com/",
                           params={"list-type": "2", "prefix": OBSID_1994 + "primary/", "delimiter": "/"}, timeout=30)
    listed = [e.findtext("s3:Key", namespaces=NS) for e in ET.fromstring(primary.content).findall("s3:Contents", NS)]
    expected = sorted(p.key for p in archive.products if p.key.startswith(OBSID_1994 + "primary/"))
    assert listed == expected and OBSID_1994 + "primary/acisf01994N004_cntr_img2.fits.gz" in listed
    contents = ET.fromstring(primary.content).findall("s3:Contents", NS)
    sizes = [int(e.findtext("s3:Size", namespaces=NS)) for e in contents]
    by_key = {p.key: p.path.stat().st_size for p in archive.products}
    assert sizes == [by_key[key] for key in listed]


def test_listing_v1_through_the_path_style_endpoint(archive):
    answer = requests.get("https://s3.us-west-2.amazonaws.com/nasa-irsa-spitzer",
                          params={"prefix": "spitzer/seip/seip_science/images/", "delimiter": "/"}, timeout=30)
    assert answer.status_code == 200
    root = ET.fromstring(answer.content)
    assert root.findtext("s3:Name", namespaces=NS) == "nasa-irsa-spitzer"
    prefixes = [e.findtext("s3:Prefix", namespaces=NS) for e in root.findall("s3:CommonPrefixes", NS)]
    expected = sorted({"spitzer/seip/seip_science/images/" + p.key.split("/")[4] + "/"
                       for p in archive.products if p.bucket == "nasa-irsa-spitzer"})
    assert prefixes == expected == ["spitzer/seip/seip_science/images/4/", "spitzer/seip/seip_science/images/5/",
                                    "spitzer/seip/seip_science/images/6/"]
    assert root.find("s3:Contents", NS) is None


def test_a_missing_key_is_no_such_key_and_an_unknown_bucket_no_such_bucket(archive):
    missing = requests.get("https://nasa-heasarc.s3.amazonaws.com/chandra/no/such/file.fits", timeout=30)
    assert missing.status_code == 404 and _error_code(missing) == "NoSuchKey"
    assert ET.fromstring(missing.content).findtext("Key") == "chandra/no/such/file.fits"
    assert requests.head("https://nasa-irsa-wise.s3.us-west-2.amazonaws.com/wise/nothing.fits",
                         timeout=30).status_code == 404

    for url in ("https://s3.amazonaws.com/no-such-nasa-bucket/x.fits",
                "https://s3.us-west-2.amazonaws.com/no-such-nasa-bucket/"):
        unknown = requests.get(url, timeout=30)
        assert unknown.status_code == 404 and _error_code(unknown) == "NoSuchBucket"
        assert ET.fromstring(unknown.content).findtext("BucketName") == "no-such-nasa-bucket"


def test_a_path_style_or_regional_request_to_the_wrong_region_is_a_permanent_redirect(archive):
    product = _product(archive, "nasa-irsa-wise", smallest=True)
    for url in (f"https://s3.amazonaws.com/nasa-irsa-wise/{product.key}",
                f"https://s3.us-east-1.amazonaws.com/nasa-irsa-wise/{product.key}",
                f"https://nasa-irsa-wise.s3.us-east-1.amazonaws.com/{product.key}"):
        moved = requests.get(url, timeout=30, allow_redirects=True)
        assert moved.status_code == 301 and _error_code(moved) == "PermanentRedirect"
        assert "Location" not in moved.headers  # the client is to read the Endpoint, not follow
        assert moved.headers["x-amz-bucket-region"] == "us-west-2"
        body = ET.fromstring(moved.content)
        assert body.findtext("Endpoint") == "nasa-irsa-wise.s3.us-west-2.amazonaws.com"
        assert body.findtext("Bucket") == "nasa-irsa-wise"
    heasarc = _product(archive, "nasa-heasarc", smallest=True)
    moved = requests.head(f"https://nasa-heasarc.s3.us-west-2.amazonaws.com/{heasarc.key}", timeout=30)
    assert moved.status_code == 301 and moved.headers["x-amz-bucket-region"] == "us-east-1"
    assert requests.head(f"https://s3.us-east-1.amazonaws.com/nasa-heasarc/{heasarc.key}",
                         timeout=30).status_code == 200


def test_writes_are_access_denied_and_credentials_are_not_sent_on(archive):
    product = _product(archive, "nasa-heasarc", smallest=True)
    url = f"https://nasa-heasarc.s3.amazonaws.com/{product.key}"
    before = product.path.read_bytes()
    for method in ("PUT", "POST", "DELETE"):
        denied = requests.request(method, url, data=b"overwritten", timeout=30)
        assert denied.status_code == 403 and _error_code(denied) == "AccessDenied"
    assert requests.get(url, timeout=30).content == before

    signed = requests.get(url, headers={"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/x"},
                          params={"X-Amz-Security-Token": "token"}, timeout=30)
    assert signed.status_code == 200
    assert archive.s3.signed_requests == 0


def test_astropy_reads_a_header_over_an_https_bucket_url_with_fsspec(archive):
    product = _product(archive, "nasa-irsa-spitzer", suffix="IRAC.1.mosaic.fits")
    url = f"https://nasa-irsa-spitzer.s3.us-west-2.amazonaws.com/{product.key}"
    with fits.open(product.path) as local:
        expected = local[0].header
    with fits.open(url, use_fsspec=True) as hdul:
        header = hdul[0].header
    assert header == expected
    assert header["NAXIS1"] == expected["NAXIS1"] and header["NAXIS"] == 2
    assert archive.s3.stats("nasa-irsa-spitzer", product.key).requests >= 1


def test_astropy_download_file_over_urllib(archive):
    from astropy.utils.data import download_file

    product = _product(archive, "nasa-heasarc", suffix="acisf01994N004_full_img2.jpg")
    local = download_file(f"https://nasa-heasarc.s3.amazonaws.com/{product.key}", cache=False)
    with open(local, "rb") as handle:
        assert handle.read() == product.path.read_bytes()
