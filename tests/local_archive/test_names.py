"""The stand-in Sesame resolves catalogue names as CDS's does, through astropy's own client and over HTTP."""

from __future__ import annotations

import pytest
import requests
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.coordinates.name_resolve import NameResolveError

from local_archive.services.names import resolve

SESAME = "https://cds.unistra.fr/cgi-bin/nph-sesame/SNV"


@pytest.mark.parametrize(("name", "ra", "dec"), [
    ("Crab", 83.63308333, 22.01450000),            # Sesame's recorded answer (service_formats.md section 8)
    ("castor", 113.649471640, 31.888282216),       # astropy's recorded Sesame answer
    ("M101", 210.802429, 54.34875),                # SIMBAD via MAST's resolver (fixture resolver.json)
    ("M 31", 10.684792, 41.269056),                # OpenNGC: NGC 224, 00 42 44.35 +41 16 08.6
    ("Orion Nebula", 83.818667, -5.389667),        # OpenNGC: NGC 1976
    ("LMC", 80.89375, -69.756111),                 # OpenNGC: ESO 056-115
    ("Sirius", 101.287155, -16.716116),            # PyEphem's Hipparcos star at J2000
    ("Betelgeuse", 88.792939, 7.407064),
    ("3C 286", 202.7845338, 30.5091556),           # DISCOS: 13 31 08.2881 +30 30 32.960
    ("Cas A", 350.85, 58.815),                     # DISCOS: 23 23 24 +58 48 54
])
def test_from_name_answers_the_catalogue_position(archive, name, ra, dec):
    position = SkyCoord.from_name(name)
    assert position.separation(SkyCoord(ra, dec, unit="deg")) < 1 * u.arcsec


@pytest.mark.parametrize("variant", ["M1", "M 1", "m1", "M  1", "Messier 1", "messier1", "M001", "NGC 1952",
                                     "NGC1952", "ngc 1952", "crab nebula", "Tau A", "3C 144"])
def test_spelling_variants_resolve_to_the_same_object(archive, variant):
    assert SkyCoord.from_name(variant).to_string() == "83.6331 22.0145"


def test_an_unknown_name_is_sesame_nothing_found(archive):
    body = requests.get(SESAME + "?No%20Such%20Object%2042", timeout=10).text
    assert body.splitlines()[:3] == ["# No Such Object 42\t#Q1", "#=S=Simbad (via url):    0",
                                     "#! *** Nothing found *** "]
    assert "%J" not in body
    with pytest.raises(NameResolveError, match="Unable to find coordinates for name 'No Such Object 42'"):
        SkyCoord.from_name("No Such Object 42")


def test_the_answer_has_sesames_lines(archive):
    body = requests.get(SESAME + "?Sgr%20A%2A", timeout=10).text  # quoted as astropy quotes; not in the table
    assert "Nothing found" in body
    body = requests.get("http://vizier.cfa.harvard.edu/viz-bin/nph-sesame/S?M%2042", timeout=10).text
    assert body.splitlines()[:5] == ["# M 42\t#Q1", "#=S=Simbad (via url):    1", "%I.0 M  42", "%C.0 Cl*",
                                     "%J 83.81866700 -5.38966700 = 05:35:16.48 -05:23:22.8"]


def test_every_messier_object_and_the_brightest_stars_are_known():
    assert all(resolve(f"M {n}") is not None for n in range(1, 111))
    assert all(resolve(star) is not None for star in ("Vega", "Arcturus", "Rigel", "Canopus", "Polaris", "Deneb"))
    assert resolve("Messier 102") == resolve("M 101")  # OpenNGC: M 102 is a duplicate of M 101


def test_the_datalink_vocabulary(archive):
    vocabulary = requests.get("http://www.ivoa.net/rdf/datalink/core", timeout=10).json()
    assert "this" in vocabulary["terms"]


def test_recorded_sesame_positions_of_3c105_and_m51():
    from local_archive.services.names import resolve

    assert resolve("3C 105")[2:] == (61.81861303, 3.7071705)
    assert resolve("m51")[2:] == (202.469575, 47.1952583)
