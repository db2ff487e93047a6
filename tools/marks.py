"""Mark an executed notebook as made against the local archive, not the real archives.

A copy executed against the local archive (``python -m local_archive``) shows
tables, numbers and figures of generated holdings.  :func:`mark_notebook` says so
where a reader looks: a notice as the first cell, and a label stamped on every
figure (PNG output), in the corner where it hides least.  A copy executed against the real archives is left alone.

Examples
--------
>>> import nbformat
>>> notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title")])
>>> mark_notebook(notebook)
0
>>> has_notice(notebook), notebook.cells[0].metadata["tags"]
(True, ['archive-notice'])
"""

from __future__ import annotations

import base64
import io
from typing import Any

import nbformat

__all__ = ["LABEL", "NOTICE", "NOTICE_TAG", "has_notice", "label_box", "mark_notebook", "notice_cell", "stamp_png"]

NOTICE_TAG = "archive-notice"
"""The tag of the notice cell (myst-nb turns it into the class ``tag_archive-notice``)."""

LABEL = "synthetic data (local archive)"
"""The label stamped on every figure."""

# A MyST admonition: a warning box on the web site (conf.py enables colon_fence); in a plain
# notebook viewer the text still reads as it is, between two ::: lines.
NOTICE = """\
:::{warning}
**This copy was executed against the local archive, not against the real archives.**
The local archive is a stand-in for the services and S3 buckets of IRSA, MAST and HEASARC,
running on the machine that executed this copy.
The tables, numbers and figures below come from generated (synthetic) holdings, and the timings
from that machine talking to itself, not from IRSA, MAST or HEASARC.
Each figure is marked "synthetic data (local archive)".
To build these pages from the real archives, run `tox -e buildhtml -- --archive=live`.
:::"""

_MARGIN = 4   # px between the label's box and the image's edges
_PADDING = 3  # px between the text and its box
_CLEARANCE = 8  # px around the box that should be empty too, when a corner allows it
_BOX = (255, 255, 255, 210)      # white, slightly see-through: the figure shows faintly behind
_BORDER = (110, 110, 110, 255)
_TEXT = (150, 0, 0, 255)         # dark red, legible on white and unlike a plot's own annotations


def notice_cell() -> nbformat.NotebookNode:
    """A new markdown cell holding :data:`NOTICE`, tagged :data:`NOTICE_TAG`.

    Returns
    -------
    nbformat.NotebookNode
        The cell, to be inserted first.
    """
    return nbformat.v4.new_markdown_cell(NOTICE, metadata={"tags": [NOTICE_TAG]})


def has_notice(notebook: nbformat.NotebookNode) -> bool:
    """Whether any cell of ``notebook`` is tagged :data:`NOTICE_TAG`.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        An executed notebook.

    Returns
    -------
    bool
        True for a copy marked by :func:`mark_notebook`.
    """
    return any(NOTICE_TAG in cell.get("metadata", {}).get("tags", []) for cell in notebook.cells)


def _font(width: int) -> Any:
    from PIL import ImageFont

    # Pillow's bundled font at a size that grows with the figure, within what stays legible but small.
    # Bundled, not a system font, so the stamped bytes are the same on every machine.
    return ImageFont.load_default(size=max(10, min(16, round(width / 45))))


def _boxes(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """The label's box in each corner, in order of preference: bottom-right, bottom-left, top-left, top-right."""
    left, top, right, bottom = _font(width).getbbox(LABEL)
    box_width = min(width - 1, right - left + 2 * _PADDING)
    box_height = min(height - 1, bottom - top + 2 * _PADDING)
    x0, y0 = min(_MARGIN, width - 1 - box_width), min(_MARGIN, height - 1 - box_height)
    x1, y1 = width - 1 - x0 - box_width, height - 1 - y0 - box_height
    return [(x, y, x + box_width, y + box_height) for x, y in ((x1, y1), (x0, y1), (x0, y0), (x1, y0))]


def label_box(image: Any) -> tuple[int, int, int, int]:
    """Where :func:`stamp_png` draws the label: the corner that hides least of the figure.

    Parameters
    ----------
    image : PIL.Image.Image
        The figure.

    Returns
    -------
    tuple of int
        ``(left, top, right, bottom)`` of the label's box (inclusive): of the four
        corners, the one with fewest pixels unlike the figure's background (the
        colour of its top-left pixel) in and around it, bottom-right on a tie.

    Examples
    --------
    >>> from PIL import Image
    >>> label_box(Image.new("RGB", (600, 400), "white"))
    (419, 376, 595, 395)
    >>> figure = Image.new("RGB", (600, 400), "white")
    >>> figure.paste("black", (300, 200, 600, 400))  # something drawn in the bottom-right quarter
    >>> label_box(figure)
    (4, 376, 180, 395)
    """
    import numpy as np

    pixels = np.asarray(image.convert("RGBA"))
    ink = (pixels != pixels[0, 0]).any(axis=2)

    def hidden(box: tuple[int, int, int, int]) -> int:
        # Counted with a clearance around the box, so that the label does not run into a text beside it.
        x0, y0, x1, y1 = (max(0, box[0] - _CLEARANCE), max(0, box[1] - _CLEARANCE),
                          box[2] + _CLEARANCE + 1, box[3] + _CLEARANCE + 1)
        return int(ink[y0:y1, x0:x1].sum())

    return min(_boxes(image.width, image.height), key=hidden)


def stamp_png(png: bytes) -> bytes:
    """The PNG ``png`` with :data:`LABEL` in a semi-opaque box in a corner (:func:`label_box`).

    The same input gives the same bytes (the font is Pillow's own). Pixels
    outside :func:`label_box` are unchanged.

    Parameters
    ----------
    png : bytes
        A PNG image, as a kernel returns it.

    Returns
    -------
    bytes
        The stamped PNG, in the input's size, colour mode (RGB or RGBA) and resolution.
    """
    from PIL import Image, ImageDraw

    with Image.open(io.BytesIO(png)) as source:
        source.load()
        opaque = source.mode in ("RGB", "L") or (source.mode == "P" and "transparency" not in source.info)
        dpi = source.info.get("dpi")
        image = source.convert("RGBA")
    box = label_box(image)
    font = _font(image.width)
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw.rectangle(box, fill=_BOX, outline=_BORDER)
    left, top, _, _ = font.getbbox(LABEL)
    draw.text((box[0] + _PADDING - left, box[1] + _PADDING - top), LABEL, font=font, fill=_TEXT)
    stamped = Image.alpha_composite(image, overlay)
    if opaque:
        stamped = stamped.convert("RGB")
    out = io.BytesIO()
    stamped.save(out, format="PNG", **({"dpi": dpi} if dpi else {}))
    return out.getvalue()


def mark_notebook(notebook: nbformat.NotebookNode) -> int:
    """Mark an executed copy as made against the local archive, in place.

    Inserts :func:`notice_cell` as the first cell and stamps every ``image/png``
    output with :func:`stamp_png`, recording ``"archive": "local"`` in that
    output's metadata. Marking a marked notebook again changes nothing.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        A notebook executed against the local archive.

    Returns
    -------
    int
        How many figures were stamped by this call.
    """
    if not has_notice(notebook):
        notebook.cells.insert(0, notice_cell())
    stamped = 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" not in data or output.get("metadata", {}).get("archive") == "local":
                continue
            png = stamp_png(base64.b64decode(data["image/png"]))
            data["image/png"] = base64.b64encode(png).decode("ascii")
            output.setdefault("metadata", {})["archive"] = "local"
            stamped += 1
    return stamped
