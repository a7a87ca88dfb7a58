"""Shared plumbing of the example scripts: the --quick switch and the output folder.

Every example imports this module from its own folder (``python examples/x.py`` puts
``examples/`` on ``sys.path``), so each script still runs on its own.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

OUTPUT_DIR = "probflow-output"


def parse_args(description: str, argv=None) -> argparse.Namespace:
    """Parses the common flags: ``--quick`` (also ``PROBFLOW_QUICK=1``) and ``--output``.

    Args:
        description: the script's one-line description for ``--help``.
        argv: arguments (default: the command line).

    Returns:
        A namespace with ``quick`` (bool) and ``output`` (a `Path`, created).
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true",
                        help="tiny settings for a smoke test (also: PROBFLOW_QUICK=1)")
    parser.add_argument("--output", default=OUTPUT_DIR,
                        help=f"folder for plots and files (default ./{OUTPUT_DIR})")
    args = parser.parse_args(argv)
    args.quick = args.quick or os.environ.get("PROBFLOW_QUICK", "") not in ("", "0")
    args.output = Path(args.output)
    args.output.mkdir(parents=True, exist_ok=True)
    return args


def pyplot():
    """matplotlib's pyplot on the non-interactive Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path) -> Path:
    """Saves `fig` to `path`, closes it and says where it went."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    pyplot().close(fig)
    print(f"wrote {path.resolve()}")
    return path


class Timer:
    """Context manager printing wall and CPU seconds of a block (CPU counts all cores)."""

    def __init__(self, label: str):
        self.label = label

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        wall, cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
        print(f"[{self.label}: {wall:.1f} s wall, {cpu:.1f} s CPU]")
        return False
