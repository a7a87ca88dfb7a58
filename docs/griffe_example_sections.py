"""A griffe extension for the API pages: read ``Example:`` as an examples section.

probflow's docstrings head their doctests ``Example:`` (singular). griffe's Google
parser knows only ``Examples:`` as the section whose ``>>>`` lines render as code; any
other heading becomes an admonition of plain Markdown, where doctest output such as
``[3, 3]`` reads as a broken link. Renaming the heading before parsing keeps the
docstrings as they are.
"""

from __future__ import annotations

import re

import griffe

_HEADING = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)


class ExampleSections(griffe.Extension):
    """Rewrites a lone ``Example:`` heading to ``Examples:`` in every docstring."""

    def on_object(self, *, obj, **kwargs):
        docstring = obj.docstring
        if docstring is not None and "Example:" in docstring.value:
            docstring.value = _HEADING.sub(r"\1Examples:", docstring.value)
