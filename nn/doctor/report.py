"""The gradient doctor's report: findings as text, as HTML for Jupyter, and the neurons they name."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from nn.doctor.findings import Finding


@dataclass
class Report:
    """What `nn.diagnose` found. Truthy when it found something; `neurons` are the scope tags named.

    `print(report)` shows each finding with its numbers, what it means and what to try; Jupyter
    shows the same as HTML. `viz.draw(loss, group="neuron", highlight=report.neurons)` marks them.
    """

    findings: list[Finding] = field(default_factory=list)
    checked: str = ""

    @property
    def neurons(self) -> list[str]:
        """Every scope tag ("L1.n3") a finding names, in order, each once."""
        return list(dict.fromkeys(name for f in self.findings for name in f.neurons))

    @property
    def kinds(self) -> list[str]:
        """The kinds found, in order, each once."""
        return list(dict.fromkeys(f.kind for f in self.findings))

    def __bool__(self) -> bool:
        """True when something was found."""
        return bool(self.findings)

    def __len__(self) -> int:
        """How many findings."""
        return len(self.findings)

    def __str__(self) -> str:
        """The findings as text, one block each, or a line saying nothing was found."""
        if not self.findings:
            return f"Gradient doctor: nothing found ({self.checked})."
        head = f"Gradient doctor: {len(self.findings)} finding{'s' if len(self.findings) > 1 else ''}"
        return "\n".join([f"{head} ({self.checked})", *(f"- {f}" for f in self.findings)])

    def __repr__(self) -> str:
        """Report(kinds=[...], neurons=[...])."""
        return f"Report(kinds={self.kinds!r}, neurons={self.neurons!r})"

    def line(self) -> str:
        """The findings in one short line: each kind with its summary's first clause."""
        return ", ".join(f"{f.kind} ({f.summary.split(':')[0]})" for f in self.findings)

    def _repr_html_(self) -> str:
        """Jupyter's display: a list of findings, every text escaped."""
        if not self.findings:
            return f"<div><b>Gradient doctor</b>: nothing found ({html.escape(self.checked)}).</div>"
        items = "".join(
            f"<li><b>{html.escape(f.kind)}</b>: {html.escape(f.summary)}"
            f"<br><i>means</i>: {html.escape(f.meaning)}<br><i>try</i>: {html.escape(f.advice)}</li>"
            for f in self.findings
        )
        return (
            f"<div><b>Gradient doctor</b>: {len(self.findings)} finding(s) "
            f"({html.escape(self.checked)})<ul>{items}</ul></div>"
        )
