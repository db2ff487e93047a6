"""The site's navigation lists every tutorial, the basic one first (no browser needed)."""

from pathlib import Path

from site_pages import ROOT, TUTORIALS, toctree


def test_every_tutorial_is_in_the_navigation():
    assert sorted(TUTORIALS) == sorted(f"notebooks/{path.stem}" for path in (ROOT / "notebooks").glob("*.md"))
    assert TUTORIALS[0] == "notebooks/data_access"


def test_toctree_reads_entries_not_options(tmp_path: Path):
    index = tmp_path / "index.md"
    index.write_text("# Site\n\n```{toctree}\n:hidden:\n:caption: Tutorials\n\na/one\nb/two\n```\n")
    assert toctree(index) == ["a/one", "b/two"]
