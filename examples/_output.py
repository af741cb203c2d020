"""What every example shares: its command line, its output folder, pyplot, diagrams and claim checks."""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# examples/ sits at the repository root; pictures go to <root>/output/<example name>/ by default.
REPO_ROOT = Path(__file__).resolve().parent.parent


def parse_args(description: str, argv: Sequence[str] | None, full: bool = False) -> argparse.Namespace:
    """The examples' common flags: --out DIR and --fast (and --full where an example has a long run)."""
    parser = argparse.ArgumentParser(description=description.strip().splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="picture folder (default output/<name>/)")
    parser.add_argument("--fast", action="store_true", help="fewer steps and points (the tests' setting)")
    if full:
        parser.add_argument("--full", action="store_true", help="also run the long computation for real")
    return parser.parse_args(None if argv is None else list(argv))


def output_dir(name: str, out: Path | None) -> Path:
    """The folder the example writes into (created), `out` or output/<name>/ under the repository."""
    folder = Path(out) if out is not None else REPO_ROOT / "output" / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pyplot(example: str) -> Any:
    """matplotlib.pyplot on the Agg back end (files only, no window), or an ImportError naming the extra."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError(
            f"{example} draws its plots with matplotlib: pip install 'axongrad[plots]'"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Path) -> Path:
    """Save a matplotlib figure as PNG at `path`, close it and return the path."""
    fig.savefig(path, dpi=120, bbox_inches="tight")
    fig.clf()
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def save_diagram(digraph: Any, folder: Path, stem: str) -> list[Path]:
    """Write a graphviz.Digraph as stem.dot, and as stem.svg and stem.png when Graphviz `dot` is installed."""
    written = [folder / f"{stem}.dot"]
    written[0].write_text(digraph.source, encoding="utf-8")
    if shutil.which("dot") is None:
        print(f"  (Graphviz 'dot' not found: wrote {written[0].name} only; install graphviz to render it)")
        return written
    import viz

    for fmt in ("svg", "png"):
        written.append(Path(viz.render(digraph, folder / f"{stem}.{fmt}", format=fmt)))
    return written


def check(condition: bool, claim: str) -> None:
    """Stop the example with SystemExit naming the claim when the claim does not hold."""
    if not condition:
        raise SystemExit(f"claim failed: {claim}")
