"""Cine: the rate at which a multi-frame object (or a stack) plays, and which frame is due when.

Frame rate per PS3.3 C.7.6.5 (Cine Module): Recommended Display Frame Rate (0008,2144) in frames per
second where the file asks for one, else Cine Rate (0018,0040), else Frame Time (0018,1063, ms per
frame), else Frame Time Vector (0018,1065, ms since the previous frame; its first value is 0).
The display recommendation comes first because it is what the file asks a viewer to do (Weasis
takes Cine Rate first; the two rarely disagree).
The player is time-based: each animation tick shows the frame due at that moment, so a slow render
skips frames instead of queueing them.
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass

from pydicom.dataset import Dataset

from dicomview.render import as_list

DEFAULT_FPS = 10.0  # a stack or a file without timing
MIN_FPS, MAX_FPS = 0.1, 120.0


@dataclass(frozen=True)
class FrameRate:
    fps: float
    source: str  # the attribute it comes from, or "default"
    intervals_ms: tuple[float, ...] = ()  # from Frame Time Vector: ms from each frame to the next


def clamp_fps(fps: float) -> float:
    return min(max(fps, MIN_FPS), MAX_FPS) if math.isfinite(fps) else DEFAULT_FPS


def positive(value: object) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def frame_rate(ds: Dataset) -> FrameRate:
    """The file's playback rate in frames per second and the attribute that gave it."""
    for keyword in ("RecommendedDisplayFrameRate", "CineRate"):
        fps = positive(ds.get(keyword))
        if fps is not None:
            return FrameRate(clamp_fps(fps), keyword)
    milliseconds = positive(ds.get("FrameTime"))
    if milliseconds is not None:
        return FrameRate(clamp_fps(1000.0 / milliseconds), "FrameTime")
    increments = [positive(v) for v in as_list(ds.get("FrameTimeVector"))[1:]]
    usable = [v for v in increments if v is not None]
    if usable:  # every increment usable: play them as given; else their mean rate
        intervals = tuple(usable) if len(usable) == len(increments) else ()
        return FrameRate(clamp_fps(1000.0 * len(usable) / sum(usable)), "FrameTimeVector", intervals)
    return FrameRate(DEFAULT_FPS, "default")


def frame_due(elapsed_seconds: float, fps: float, start: int, count: int, intervals_ms: tuple[float, ...] = ()) -> int:
    """The frame to show `elapsed_seconds` after playing started at frame `start`, looping over `count`:
    every 1/fps seconds, or after each frame's own interval when `intervals_ms` gives one per step
    (Frame Time Vector; the step from the last frame back to the first takes their mean)."""
    if count <= 0:
        return 0
    elapsed = max(elapsed_seconds, 0.0)
    if len(intervals_ms) != count - 1 or count < 2:
        return (start + math.floor(elapsed * fps)) % count
    steps = [*intervals_ms, sum(intervals_ms) / len(intervals_ms)]
    onsets = [0.0, *itertools.accumulate(steps)]  # onsets[k]: when frame k comes up; onsets[-1]: one loop
    moment = (onsets[start] + elapsed * 1000.0) % onsets[-1]
    return bisect.bisect_right(onsets, moment) - 1
