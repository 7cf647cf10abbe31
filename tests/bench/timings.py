"""What the bench computes from the timestamps tests/bench/probe.js records (plain Python, no browser)."""

from __future__ import annotations

import bisect
import math
import statistics
from dataclasses import dataclass, field


def median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


@dataclass
class Record:
    """One measured stretch of a page: times in ms on the page's performance.now() clock."""

    marks: dict[str, float] = field(default_factory=dict)
    inputs: list[list[float | None]] = field(default_factory=list)  # [capture start, bubble end] per input
    renders: list[float] = field(default_factory=list)  # each data-render-count change
    frames: list[float] = field(default_factory=list)  # each animation frame's start
    longtasks: list[list[float]] = field(default_factory=list)  # [start, duration]
    jsHeapPeak: float = 0.0  # the probe's JSON names
    wasmBytes: float = 0.0  # every WebAssembly memory's size at the end

    def first_render_after(self, mark: str) -> float:
        start = self.marks.get(mark, math.nan)
        later = [t for t in self.renders if t > start]
        return later[0] - start if later else math.nan

    def loaded_after(self, mark: str) -> float:
        """Until the page said the load ended (dwv's load event), else until its first render after mark."""
        if "loaded" in self.marks:
            return self.marks["loaded"] - self.marks.get(mark, math.nan)
        return self.first_render_after(mark)

    def longest_task(self) -> float:
        """The longest task the browser reported as blocking the main thread (>= 50 ms), else 0."""
        return max((duration for _, duration in self.longtasks), default=0.0)

    def task_until(self, mark: str) -> float:
        """How long the long task in which `mark` happened had run until then, else 0. For the files a test
        chooses, this is the browser's own work before the page hears of them: the input's change event is
        dispatched at the end of the task that builds its FileList (a 300-file choice: 55-85 ms in a
        trace, for every page alike)."""
        at = self.marks.get(mark, math.nan)
        return max((at - start for start, duration in self.longtasks if start <= at <= start + duration), default=0.0)

    def longest_task_after(self, mark: str) -> float:
        """The longest blocking the page did after `mark`: a long task that began later, or the rest of the
        one `mark` happened in (the page's own handlers ran there), else 0."""
        at = self.marks.get(mark, math.nan)
        return max((start + duration - max(start, at) for start, duration in self.longtasks
                    if start + duration >= at), default=0.0)

    def update_costs(self) -> list[float]:
        """Main-thread time spent for each render: the input handlers since the previous render, plus the
        render itself. A render inside an input handler (dwv; our wheel) costs that handler's whole span;
        a render queued to the next animation frame (our window/level) costs from that frame's start."""
        costs, previous = [], -math.inf
        for rendered in self.renders:
            since = [(s, e) for s, e in self.inputs if e is not None and previous < s <= rendered]
            around = [(s, e) for s, e in since if e >= rendered]
            cost = sum(e - s for s, e in since if e < rendered)
            if around:
                cost += around[-1][1] - around[-1][0]
            else:
                index = bisect.bisect_right(self.frames, rendered) - 1
                frame = self.frames[index] if index >= 0 else rendered
                cost += rendered - max(frame, since[-1][1] if since else frame)
            costs.append(cost)
            previous = rendered
        return costs

    def render_rate(self) -> float:
        """Renders per second over the stretch from the first input to the last render."""
        if not self.renders or not self.inputs:
            return math.nan
        span = self.renders[-1] - self.inputs[0][0]
        return len(self.renders) / span * 1000 if span > 0 else math.nan


def number(value: float) -> str:
    """Whole numbers from 100 up, three significant digits below."""
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def summarise(results: dict[str, list[dict[str, float]]], targets: dict[str, str]) -> str:
    """A markdown table: per metric, each viewer's median (min-max), the ratio of the first two, the target."""
    names = list(results)
    metrics = list(dict.fromkeys(key for runs in results.values() for run in runs for key in run))
    header = ["measurement", *names, *(["ratio"] if len(names) == 2 else []), "issue 7 target"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for metric in metrics:
        medians, cells = [], []
        for name in names:
            values = [run[metric] for run in results[name] if not math.isnan(run.get(metric, math.nan))]
            medians.append(median(values))
            cells.append(f"{number(median(values))} ({number(min(values))}-{number(max(values))})" if values else "n/a")
        if len(names) == 2:
            ratio = medians[0] / medians[1] if medians[1] and not math.isnan(medians[1]) else math.nan
            cells.append("n/a" if math.isnan(ratio) else f"{ratio:.2f}")
        lines.append("| " + " | ".join([metric, *cells, targets.get(metric, "")]) + " |")
    return "\n".join(lines) + "\n"
