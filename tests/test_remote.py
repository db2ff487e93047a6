"""The same helpers against the real archives. Skipped unless run with --remote-data=any (tox -e live)."""

from __future__ import annotations

import astropy.units as u
import pytest
from astropy.coordinates import SkyCoord

from helpers import cloud_uri, cutout, decompress_lzw, fetch_bytes, https_to_s3, open_fits
from helpers.lzw import FITS_RECORD

CRAB = SkyCoord(83.63321, 22.01446, unit="deg")


@pytest.mark.remote_data
def test_irsa_allwise_sia_to_cloud_cutout():
    import pyvo

    service = pyvo.dal.SIAService("https://irsa.ipac.caltech.edu/ibe/sia/wise/allwise/p3am_cdd?")
    results = service.search(pos=CRAB, size=0.04445 * u.deg)
    location = cloud_uri(results[0])
    assert location.bucket == "nasa-irsa-wise"
    assert location.region == "us-west-2"
    assert location.key.startswith("wise/allwise/images/p3am_cdd/")
    with open_fits(location) as hdul:
        assert hdul[0].header["NAXIS1"] == 4095
        assert cutout(hdul[0], CRAB, 0.0889 * u.deg).data.shape[0] > 200


@pytest.mark.remote_data
def test_heasarc_rosat_events_file():
    url = ("https://heasarc.gsfc.nasa.gov/FTP/rosat/data/pspc/processed_data/900000/rs931315n00/"
           "rs931315n00_bas.fits.Z")
    data = decompress_lzw(fetch_bytes(https_to_s3(url)), record_size=FITS_RECORD)
    assert data[:6] == b"SIMPLE"
