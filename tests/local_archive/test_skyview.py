"""SkyView's SIA v1 service and image generator answer as production does, through the real server and pyvo."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pyvo
import requests
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS

SIA = "https://skyview.gsfc.nasa.gov/cgi-bin/vo/sia.pl?survey=swiftuvot&"
M51 = SkyCoord(202.469575, 47.1952583, unit="deg")
UVOT = ["swiftuvotvint", "swiftuvotbint", "swiftuvotuint", "swiftuvotuvw1int", "swiftuvotuvw2int",
        "swiftuvotuvm2int"]


def test_swiftuvot_jpeg_rows_are_the_six_recorded(archive):
    table = pyvo.dal.SIAService(SIA).search(pos=M51, size=0.2, format="image/jpeg").to_table()
    assert table.colnames == ["Survey", "Ra", "Dec", "Dim", "Size", "Scale", "Format", "PixFlags", "URL",
                              "LogicalName"]
    assert list(table["Survey"]) == UVOT
    assert list(table["LogicalName"]) == ["1", "2", "3", "4", "5", "6"]
    assert set(table["Format"]) == {"image/jpeg"} and set(table["PixFlags"]) == {"F"}
    assert table["Dim"].dtype == np.int32 and list(table["Dim"]) == [2] * 6
    assert list(table["Size"][0]) == [300, 300]
    assert list(table["Scale"][0]) == [-0.0006666666666666668, 0.0006666666666666668]
    assert table["Ra"][0] == 202.469575 and table["Dec"][0] == 47.1952583
    url = table["URL"][0]
    prefix = ("https://skyview.gsfc.nasa.gov/cgi-bin/images?position=202.469575%2C47.1952583&survey=swiftuvotvint"
              "&pixels=300%2C300&sampler=LI&size=0.20000000000000004%2C0.20000000000000004&projection=Tan"
              "&coordinates=J2000.0&requestID=skv")
    assert url.startswith(prefix) and url.endswith("&nofits=1&quicklook=jpeg&return=jpeg")
    ids = [parse_qs(urlsplit(u).query)["requestID"][0] for u in table["URL"]]
    assert len(set(ids)) == 6


def test_fits_rows_and_image_are_a_300_pixel_float32_tan_image(archive):
    results = pyvo.dal.SIAService(SIA).search(pos=M51, size=0.2, format="image/fits")
    assert [r["Format"] for r in results] == ["image/fits"] * 6
    url = results[0].getdataurl()
    assert url.endswith("&return=FITS") and "nofits" not in url
    body = requests.get(url, timeout=30)
    assert body.headers["Content-Type"] == "application/fits"
    with fits.open(io.BytesIO(body.content)) as hdus:
        assert len(hdus) == 1 and isinstance(hdus[0], fits.PrimaryHDU)
        header, data = hdus[0].header, hdus[0].data
        assert len(header) == 116  # recorded: PrimaryHDU 116 cards (300, 300) float32
        assert data.shape == (300, 300) and data.dtype == np.dtype(">f4")
        assert list(header)[:17] == ["SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "DATAMAX", "DATAMIN",
                                     "CRVAL1", "CRVAL2", "RADESYS", "EQUINOX", "CTYPE1", "CTYPE2", "CRPIX1",
                                     "CRPIX2", "CDELT1", "CDELT2"]
        assert (header["CTYPE1"], header["CTYPE2"], header["CRPIX1"]) == ("RA---TAN", "DEC--TAN", 150.5)
        assert header["SURVEY"] == "swiftuvotvint" and abs(header["CDELT2"] - 0.2 / 300) < 1e-15
        assert " SkyView Survey metadata" in [str(c) for c in header["COMMENT"]]
        ra, dec = WCS(header).wcs_pix2world([[149.5, 149.5]], 0)[0]  # the centre pixel is the position
        assert abs(ra - 202.469575) < 1e-9 and abs(dec - 47.1952583) < 1e-9
        assert header["DATAMAX"] == float(data.max()) and np.isfinite(data).all()
    # Same URL -> same bytes (pixels seeded by survey and field).
    assert requests.get(url, timeout=30).content == body.content


def test_jpeg_url_serves_a_jpeg_of_the_same_field(archive):
    results = pyvo.dal.SIAService(SIA).search(pos=M51, size=0.2, format="image/jpeg")
    body = requests.get(results[1].getdataurl(), timeout=30)
    assert body.headers["Content-Type"] == "image/jpeg"
    assert body.content[:3] == b"\xff\xd8\xff"


def test_default_format_lists_fits_and_jpeg_and_pixels_sets_the_shape(archive):
    table = pyvo.dal.imagesearch("https://skyview.gsfc.nasa.gov/cgi-bin/vo/sia.pl?survey=2mass&",
                                 pos=(10.68, 41.27), size=0.1).to_table()
    assert list(zip(table["Survey"], table["Format"], strict=True)) == [
        (s, f) for s in ("2massj", "2massh", "2massk") for f in ("image/fits", "image/jpeg")]
    url = ("https://skyview.gsfc.nasa.gov/cgi-bin/images?position=10.68,41.27&survey=dss&pixels=64,32"
           "&size=0.1,0.05&return=FITS")
    header = fits.getheader(io.BytesIO(requests.get(url, timeout=30).content))
    assert (header["NAXIS1"], header["NAXIS2"], header["BITPIX"]) == (64, 32, -32)


def test_unknown_survey_and_bad_position_are_errors(archive):
    bad = "https://skyview.gsfc.nasa.gov/cgi-bin/vo/sia.pl?survey=nosuchsurvey&"
    try:
        pyvo.dal.SIAService(bad).search(pos=M51, size=0.2)
    except pyvo.dal.DALQueryError as exc:
        assert "Unknown survey: nosuchsurvey" in str(exc)
    else:
        raise AssertionError("an unknown survey must be a query error")
    answer = requests.get("https://skyview.gsfc.nasa.gov/cgi-bin/vo/sia.pl",
                          params={"survey": "swiftuvot", "POS": "abc", "SIZE": "0.2"}, timeout=30)
    assert b'name="QUERY_STATUS" value="ERROR"' in answer.content
    for query, message in (("position=1,2&survey=nosuch", b"Unable to find survey: nosuch"),
                           ("position=1,95&survey=dss", b"Unable to parse position: 1,95")):
        page = requests.get(f"https://skyview.gsfc.nasa.gov/cgi-bin/images?{query}", timeout=30)
        assert page.status_code == 400 and message in page.content
