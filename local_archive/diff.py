"""Fidelity report: what the generated archive answers, next to what a recording says the services answered.

Every recorded request (:mod:`local_archive.recording`) is sent again, with its method, body,
``Content-Type`` and ``Range``, to the generated archive (no replay), and the two answers are
compared on what clients act on:

* the status code;
* the media type (``Content-Type`` without its parameters);
* VOTables: the column names, in order, and the row count (``astropy.io.votable.parse_single_table``);
* FITS (a body, or a recorded range, that starts at byte 0 with ``SIMPLE``): the first HDU's header
  cards, the keyword set and each value (``COMMENT``, ``HISTORY`` and blank cards aside);
* JSON: the key paths (``a.b[].c``), the union over every item of a list.

One line per difference, ``<METHOD> <url>: <what>: recorded <x>, generated <y>``.  A body the
recording cut (``x-local-archive-truncated``) is compared on its kept first bytes (its FITS header).
"""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
import warnings
from pathlib import Path
from typing import Any

from .replay import _header, load_interactions, response_body

__all__ = ["diff_recording", "compare", "main"]

_IGNORED_CARDS = frozenset({"COMMENT", "HISTORY", ""})
_SENT = ("Content-Type", "Range", "Accept")


def diff_recording(directory: str | Path, base_url: str, interactions: list | None = None) -> list[str]:
    """Differences between the recording in ``directory`` and the archive at ``base_url``, one per line.

    ``interactions``: the recording's ``(request, response)`` pairs when already loaded
    (:func:`~local_archive.replay.load_interactions`; a recording can be hundreds of MB of YAML).
    """
    lines: list[str] = []
    for request, response in load_interactions(directory) if interactions is None else interactions:
        status, headers, body = _ask(base_url, request)
        label = f"{request.method} {request.uri}"
        generated = {"status": {"code": status}, "headers": headers, "body": {"string": body}}
        lines.extend(f"{label}: {line}" for line in compare(response, generated))
    return lines


def _ask(base_url: str, request: Any) -> tuple[int, dict[str, list[str]], bytes]:
    """The generated archive's answer to a recorded request (``https://host/path?q`` -> ``base/host/path?q``)."""
    scheme, _, rest = request.uri.partition("://")
    body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
    sent = urllib.request.Request(f"{base_url}/{rest}", data=body or None, method=request.method)
    for name in _SENT:
        value = _header(request.headers, name)
        if value:
            sent.add_header(name, value)
    try:
        with _NO_REDIRECTS.open(sent, timeout=120) as answer:
            return answer.status, _headers(answer.headers), answer.read()
    except urllib.error.HTTPError as error:  # a redirect too: its status is what is compared, not its target
        return error.code, _headers(error.headers), error.read()


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    """Answer a redirect as it came: the recording holds the redirect itself, and its target may not be local."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_NO_REDIRECTS = urllib.request.build_opener(_KeepRedirects())


def _headers(message: Any) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in message.items():
        headers.setdefault(name, []).append(value)
    return headers


def compare(recorded: dict[str, Any], generated: dict[str, Any]) -> list[str]:
    """The differences between two answers in vcrpy's response form (``status``, ``headers``, ``body``)."""
    lines: list[str] = []
    if recorded["status"]["code"] != generated["status"]["code"]:
        lines.append(f"status: recorded {recorded['status']['code']}, generated {generated['status']['code']}")
    kinds = [_media_type(answer) for answer in (recorded, generated)]
    if kinds[0] != kinds[1]:
        lines.append(f"content type: recorded {kinds[0] or '(none)'}, generated {kinds[1] or '(none)'}")
    bodies = [response_body(answer) for answer in (recorded, generated)]
    if "votable" in kinds[0] or bodies[0].lstrip()[:400].find(b"<VOTABLE") >= 0:
        lines.extend(_compare_votables(*bodies))
    elif bodies[0].startswith(b"SIMPLE  ="):
        lines.extend(_compare_fits(*bodies))
    elif kinds[0].endswith("json"):
        lines.extend(_compare_json(*bodies))
    return lines


def _media_type(answer: dict[str, Any]) -> str:
    return _header(answer.get("headers", {}), "Content-Type").split(";")[0].strip().lower()


def _votable(body: bytes) -> tuple[list[str], int] | None:
    from astropy.io.votable import parse_single_table

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = parse_single_table(io.BytesIO(body)).to_table()
    except Exception:  # an error document, or no TABLE at all: compared as absent
        return None
    return list(table.colnames), len(table)


def _compare_votables(recorded: bytes, generated: bytes) -> list[str]:
    ours, theirs = _votable(recorded), _votable(generated)
    if ours is None or theirs is None:
        return [] if ours == theirs else [f"VOTable table: recorded {'none' if ours is None else 'one'}, "
                                          f"generated {'none' if theirs is None else 'one'}"]
    lines = []
    if ours[0] != theirs[0]:
        lines.append(f"VOTable columns: recorded {','.join(ours[0])}, generated {','.join(theirs[0])}")
    if ours[1] != theirs[1]:
        lines.append(f"VOTable rows: recorded {ours[1]}, generated {theirs[1]}")
    return lines


def _fits_cards(body: bytes) -> dict[str, Any] | None:
    from astropy.io import fits

    end = 0
    while end + 2880 <= len(body):  # the header ends with the block holding the END card
        block = body[end:end + 2880]
        end += 2880
        if any(block[i:i + 8] == b"END     " for i in range(0, 2880, 80)):
            break
    else:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        header = fits.Header.fromstring(body[:end].decode("ascii", "replace"))
    return {card.keyword: card.value for card in header.cards if card.keyword not in _IGNORED_CARDS}


def _compare_fits(recorded: bytes, generated: bytes) -> list[str]:
    ours, theirs = _fits_cards(recorded), _fits_cards(generated)
    if ours is None or theirs is None:
        return [] if ours == theirs else ["FITS header: recorded and generated are not both complete headers"]
    lines = []
    if set(ours) - set(theirs):
        lines.append(f"FITS keywords only recorded: {', '.join(sorted(set(ours) - set(theirs)))}")
    if set(theirs) - set(ours):
        lines.append(f"FITS keywords only generated: {', '.join(sorted(set(theirs) - set(ours)))}")
    for keyword in sorted(set(ours) & set(theirs)):
        if ours[keyword] != theirs[keyword]:
            lines.append(f"FITS card {keyword}: recorded {ours[keyword]!r}, generated {theirs[keyword]!r}")
    return lines


def _key_paths(value: Any, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        paths = set()
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            paths |= {path} | _key_paths(item, path)
        return paths
    if isinstance(value, list):
        return set().union(*(_key_paths(item, prefix + "[]") for item in value)) if value else set()
    return set()


def _compare_json(recorded: bytes, generated: bytes) -> list[str]:
    try:
        ours, theirs = _key_paths(json.loads(recorded)), _key_paths(json.loads(generated))
    except ValueError:
        return ["JSON: recorded or generated body is not JSON"]
    lines = []
    if ours - theirs:
        lines.append(f"JSON keys only recorded: {', '.join(sorted(ours - theirs))}")
    if theirs - ours:
        lines.append(f"JSON keys only generated: {', '.join(sorted(theirs - ours))}")
    return lines


def main(directory: str | Path) -> int:
    """``python -m local_archive diff DIR``: print the report; 0 when identical, 1 when not."""
    from .archive import LocalArchive

    interactions = load_interactions(directory)  # once: parsing a large recording takes a while
    if not interactions:
        print(f"{directory}: no recorded exchanges (no *.yaml cassette)")
        return 1
    with LocalArchive(latency=0.0, bandwidth=None) as archive:
        lines = diff_recording(directory, archive.http.base_url, interactions)
    for line in lines:
        print(line)
    # The last line says what was compared, so that an empty report is seen to be one.
    print(f"{len(interactions)} recorded exchanges compared with the generated archive: "
          + (f"{len(lines)} differences" if lines else "no differences"))
    return 1 if lines else 0
