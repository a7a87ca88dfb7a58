"""The documentation site builds: `mkdocs build --strict` (skipped without mkdocs)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(
    importlib.util.find_spec("mkdocs") is None
    or importlib.util.find_spec("mkdocstrings_handlers") is None,
    reason="needs the docs extra: pip install -e '.[docs]'",
)
def test_mkdocs_build_strict(tmp_path):
    """Any warning (a broken link, an unparsable docstring, a missing page) fails."""
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    api = tmp_path / "site" / "api"
    # Spot-check that re-exported names were documented (dynamic __all__ included).
    assert 'id="probflow.distributions.Normal"' in (api / "distributions" / "index.html").read_text()
    assert 'id="probflow.nn.Sequential"' in (api / "nn" / "index.html").read_text()
    assert 'id="probflow.inference.mcmc.sample.sample"' in (api / "mcmc" / "index.html").read_text()
