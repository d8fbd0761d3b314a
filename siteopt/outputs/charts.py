"""Charts of run results (matplotlib): the sweep's tornado chart."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

OBJECTIVE_AXIS = {
    "access": ("mean drive time of the 65+ (minutes)", 1.0),
    "cost": ("revenue cost + annualised capital (£m a year)", 1e-6),
    "weighted": ("weighted objective", 1.0),
}


def tornado_chart(bars: Iterable[Mapping[str, Any]], path: Path,
                  objective_mode: str = "access") -> Path:
    """A tornado chart (PNG) of the objective's swing across each parameter's range."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    label, scale = OBJECTIVE_AXIS.get(objective_mode, ("objective", 1.0))
    bars = list(bars)
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(bars) + 1.8), dpi=150)
    centre = scale * float(np.mean([(float(b["objective_low"]) + float(b["objective_high"])) / 2
                                    for b in bars]))
    for i, b in enumerate(reversed(bars)):
        lo, hi = scale * float(b["objective_low"]), scale * float(b["objective_high"])
        ax.barh(i, hi - centre, left=centre, color="#0072B2", label="high third" if i == 0
                else None)
        ax.barh(i, lo - centre, left=centre, color="#E69F00", label="low third" if i == 0
                else None)
    ax.set_yticks(range(len(bars)), [str(b["parameter"]) for b in reversed(bars)])
    ax.axvline(centre, color="black", linewidth=0.8)
    ax.set_xlabel(label)
    ax.set_title("Which parameters move the answer\n(mean optimum over the runs in the low and "
                 "high third of each parameter's range)", fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)
    return path
