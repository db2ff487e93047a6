"""The served FITS files carry the real files' header cards and a plausible sky (read back through S3)."""

from __future__ import annotations

import io

import numpy as np
from astropy.io import fits

WISE_W1 = "wise/allwise/images/p3am_cdd/08/0830/0830p227_ac51/0830p227_ac51-w1-int-3.fits"
PS1_G = "panstarrs/ps1/public/rings.v3.skycell/1784/059/rings.v3.skycell.1784.059.stk.g.unconv.fits"


def _served(archive, bucket: str, key: str, length: int | None = None) -> bytes:
    extra = {"Range": f"bytes=0-{length - 1}"} if length else {}
    return archive.s3.client.get_object(Bucket=bucket, Key=key, **extra)["Body"].read()


def test_allwise_intensity_header_has_the_documented_cards_in_order(archive):
    # One 2880-byte block holds the header (tests/local_archive/test_services.py checks the file size).
    header = fits.Header.fromstring(_served(archive, "nasa-irsa-wise", WISE_W1, 2880).decode("ascii"))
    assert list(header) == [
        "SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "FILETYPE", "TELESCOP", "BAND", "WAVELEN", "COADDID",
        "MAGZP", "MAGZPUNC", "MEDINT", "BUNIT", "CTYPE1", "CTYPE2", "CRPIX1", "CRPIX2", "CDELT1", "CDELT2",
        "CROTA2", "CRVAL1", "CRVAL2", "EQUINOX", "ELON", "ELAT"]
    assert (header["BITPIX"], header["NAXIS1"], header["NAXIS2"]) == (-32, 4095, 4095)
    assert (header["CTYPE1"], header["CTYPE2"], header["CRPIX1"]) == ("RA---SIN", "DEC--SIN", 2048.0)
    assert (header["COADDID"], header["BAND"], header["MAGZP"], header["BUNIT"]) == ("0830p227_ac51", 1, 20.5, "DN")


def test_allwise_w1_is_a_star_field_whose_median_is_medint(archive):
    with fits.open(io.BytesIO(_served(archive, "nasa-irsa-wise", WISE_W1))) as hdul:
        data, header = hdul[0].data, hdul[0].header
        assert float(np.median(data)) == header["MEDINT"]
        p50, p99, p9999 = np.percentile(data, [50, 99, 99.99])
    # A dense field at b = -6 deg: a ~4 DN sky, thousands of faint stars, a few saturating ones.
    assert 3.5 < p50 < 5 and 10 < p99 < 40 and p9999 > 500


def test_ps1_stack_header_is_the_recorded_one(archive):
    with fits.open(io.BytesIO(_served(archive, "stpubdata", PS1_G))) as hdul:
        assert [type(h).__name__ for h in hdul] == ["PrimaryHDU", "CompImageHDU"]
        header = hdul[1].header
        assert header["BITPIX"] == 16 and hdul[1].shape == (6261, 6279)
        # The recorded stack header (raven-ml/raven ps1-stack-rice.fits): PC matrix cards, no RADESYS/EQUINOX.
        assert "PC001001" in header and "RADESYS" not in header and "EQUINOX" not in header
        assert header["CRPIX2"] == 242
