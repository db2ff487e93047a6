"""Sphinx configuration for the tutorials' web site.

The site is built from a source folder that ``tools/build_site.py`` assembles in
``_build/site_src``: this folder's files, the README (the landing page) and the
executed notebooks. Notebooks are never executed here: the site shows exactly
the outputs of ``tools/execute_notebooks.py``.
"""

project = "NASA archive data in the cloud"
author = "Jordan Eagle (HEASARC) and this project's contributors"
copyright = "2026, " + author

extensions = [
    "myst_nb",              # notebooks and MyST markdown
    "sphinx_design",        # the {dropdown} directive of the collapsed sections
    "sphinx_copybutton",    # a copy button on every code cell
]

root_doc = "index"
# README.md is included by index.md; notebooks/*.md are the MyST sources of the executed
# notebooks, present only so that links between tutorials resolve.
exclude_patterns = ["README.md", "notebooks/*.md", "_build", "**.ipynb_checkpoints"]

# The executed copies are the single source of outputs.
nb_execution_mode = "off"
# One output per stream, with progress bars collapsed to their last state (\r handled).
nb_merge_streams = True
# Pages must render offline: no widget or MathJax scripts from a CDN.
nb_ipywidgets_js = {}
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3

html_theme = "sphinx_book_theme"
html_title = project
html_theme_options = {
    "repository_url": "",
    "use_download_button": True,
    "show_toc_level": 2,
    "navigation_with_keys": True,
}
# Light pages: the figures are drawn on white.
html_context = {"default_mode": "light"}
# Copy the code, not the prompts or the outputs.
copybutton_exclude = ".linenos, .gp, .go"
copybutton_selector = "div.cell_input pre, div.highlight pre"
