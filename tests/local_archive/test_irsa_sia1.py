"""2MASS All-Sky Atlas (IBE SIA v1, IBE files, old nph-im_sia) and COSMOS SIA v1 with its cutouts."""

from __future__ import annotations

import gzip
import io

import astropy.units as u
import numpy as np
import pyvo
import requests
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

STAR = SkyCoord(314.30417, 77.595559, unit="deg")
IBE_SIA = "https://irsa.ipac.caltech.edu/ibe/sia/twomass/allsky/allsky"
COSMOS = ("https://irsa.ipac.caltech.edu/cgi-bin/Atlas/nph-atlas?mission=COSMOS&hdr_location=%5CCOSMOSDataPath%5C"
          "&collection_desc=Cosmic+Evolution+Survey+with+HST+%28COSMOS%29&SIAP_ACTIVE=1&")
# np.unique(im_results['band_name']) as the tutorial printed it (irsa-tutorials gh-pages sia_v1_cosmos).
RECORDED_BANDS = sorted([
    "0.5-2.0 keV", "0.5-7.0 keV", "2.0-7.0 keV", "2.0-8 keV", "20 cm", "3 GHz", "4.5-10 keV", "90 cm", "B", "F125W",
    "F140W", "F160W", "F606W", "F814W", "FUV", "H", "H1", "H2", "I", "IA427", "IA464", "IA484", "IA505", "IA527",
    "IA574", "IA624", "IA679", "IA709", "IA738", "IA767", "IA827", "IB427", "IB464", "IB505", "IB574", "IB709",
    "IB827", "IRAC1", "IRAC2", "IRAC3", "IRAC4", "J", "J1", "J2", "J3", "Ks", "MIPS160", "MIPS24", "MIPS70", "NB118",
    "NB711", "NB816", "NUV", "PACS100", "PACS160", "SPIRE250", "SPIRE350", "SPIRE500", "U", "V", "Y", "band3",
    "band6", "band7", "g", "g+", "i", "i+", "r", "r+", "u", "z", "z+", "z++"])


def test_ibe_sia_csv_lists_jhk_images_whose_files_cover_the_position(archive):
    text = requests.get(f"{IBE_SIA}?POS={STAR.ra.deg},{STAR.dec.deg}&SIZE=0.01,0.01&RESPONSEFORMAT=CSV",
                        timeout=30).text
    table = Table.read(text, format="ascii.csv")
    assert table.colnames[:2] == ["sia_title", "sia_url"] and "fname" in table.colnames
    assert len(table) % 3 == 0 and len(table) > 0
    assert list(table["sia_bp_id"][:3]) == ["J", "H", "K"]
    row = table[1]
    assert row["sia_title"].startswith("2MASS All-Sky Data Release H-Band Atlas Image: ")
    url = row["sia_url"]
    assert url.startswith("https://irsa.ipac.caltech.edu/ibe/data/twomass/allsky/allsky/")
    assert url.endswith(f"/s{row['scanno'] % 1000:03d}/image/{row['fname']}") and url.endswith(".fits.gz")
    body = requests.get(url, timeout=30).content
    assert body[:2] == b"\x1f\x8b" and requests.get(url, timeout=30).content == body  # gzip, deterministic
    with fits.open(io.BytesIO(gzip.decompress(body))) as hdul:
        header, data = hdul[0].header, hdul[0].data
        assert data.shape == (1024, 512) and data.dtype.kind == "f"
        assert (header["CTYPE1"], header["CRPIX1"], header["CRPIX2"], header["FILTER"]) == ("RA---SIN", 256.5,
                                                                                          512.5, "h")
        x, y = WCS(header).world_to_pixel(STAR)
        assert 0 <= x < 512 and 0 <= y < 1024


def test_ibe_sia_votable_through_pyvo_and_unknown_files(archive):
    table = pyvo.dal.SIAService(IBE_SIA + "?").search(pos=STAR, size=0.001 * u.deg).to_table()
    assert set(table["sia_bp_id"]) == {"J", "H", "K"} and table["sia_naxis"][0].tolist() == [512, 1024]
    missing = "https://irsa.ipac.caltech.edu/ibe/data/twomass/allsky/allsky/000101n/s001/image/hi0010001.fits.gz"
    assert requests.get(missing, timeout=30).status_code == 404


def test_old_2mass_sia_lists_fits_and_html_rows_and_serves_the_fits(archive):
    """Recorded (nph-im_sia?type=at&ds=asky): 32 columns, each band twice (image/fits then text/html)."""
    service = pyvo.dal.SIAService("https://irsa.ipac.caltech.edu/cgi-bin/2MASS/IM/nph-im_sia?type=at&ds=asky&")
    results = service.search(pos=STAR, size=1 * u.arcsec)
    table = results.to_table()
    assert len(table.colnames) == 32 and table.colnames[:3] == ["name", "download", "center_ra"]
    assert list(table["band"][:6]) == ["J", "J", "H", "H", "K", "K"]
    assert list(table["format"][:2]) == ["image/fits", "text/html"]
    url = results[2].getdataurl()
    assert url.startswith("https://irsa.ipac.caltech.edu:443/cgi-bin/2MASS/IM/nph-im?ds=asky&atdir=/ti08&dh=")
    with fits.open(io.BytesIO(requests.get(url, timeout=30).content)) as hdul:
        assert hdul[0].data.shape == (1024, 512) and hdul[0].header["FILTER"] == "h"


def test_cosmos_sia_has_44_columns_74_bands_and_250px_irac1_cutout(archive):
    pos = SkyCoord(149.99986, 2.24875, unit="deg")
    results = pyvo.dal.SIAService(COSMOS).search(pos=pos, size=150 * u.arcsec)
    table = results.to_table()
    assert len(table.colnames) == 44 and table.colnames[-1] == "sia_url" and table.colnames[29] == "band_name"
    assert sorted(set(table["band_name"])) == RECORDED_BANDS
    url = table[table["band_name"] == "IRAC1"][0]["sia_url"]
    assert url == ("https://irsa.ipac.caltech.edu:443/cgi-bin/Subimage/nph-subimage?origfile=/irsadata/COSMOS//"
                   "images%2Fspitzer%2Firac%2Firac_ch1_go2_sci_10.fits&ra=149.999860&dec=2.248750&xsize=0.041667")
    with fits.open(io.BytesIO(requests.get(url, timeout=30).content)) as hdul:
        assert hdul[0].data.shape == (250, 250) and hdul[0].data.dtype == np.dtype(">f8")
        assert np.allclose(WCS(hdul[0].header).world_to_pixel_values(149.99986, 2.24875), (124.5, 124.5))
    outside = pyvo.dal.SIAService(COSMOS).search(pos=SkyCoord(10, 10, unit="deg"), size=0.01 * u.deg)
    assert len(outside) == 0
