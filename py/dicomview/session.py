"""What the user has opened: the images that could be read, and one problem line per file that could not.

Plain Python, so the browser layer only turns events into calls here and draws what comes back.
A bad file never stops a batch: it becomes a `Problem` naming the file and the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from pydicom.dataset import Dataset

from dicomview.decode import (
    DEFAULT_LIMITS,
    Limits,
    UnreadableFile,
    check_pixels,
    frame_count,
    read_dataset,
    stored_frame,
)
from dicomview.pipeline import Window
from dicomview.render import RenderedFrame, check_renderable, render_frame
from dicomview.series import SeriesKey, series_key, stack_order


@dataclass(frozen=True)
class Problem:
    """One file that cannot be shown, and why."""

    file_name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file_name}: {self.reason}"


@dataclass
class OpenedImage:
    """A readable image file and the frame currently shown."""

    file_name: str
    dataset: Dataset = field(repr=False)
    frames: int
    frame: int = 0
    voi_key: str | None = None  # None: the file's default VOI (dicomview.render.default_voi_key)
    window: Window | None = None  # a window the user dragged to; wins over voi_key until reset
    # Worked out once, as the file is opened (between reads that yield to the browser): arranging and
    # listing a 300-slice series redid them for every image in one blocking task (issue 7).
    series: SeriesKey = field(init=False, repr=False, compare=False)
    stack_key: tuple = field(init=False, repr=False, compare=False)  # dicomview.series.stack_order

    def __post_init__(self) -> None:
        self.series = series_key(self.dataset)
        self.stack_key = stack_order(self.dataset, self.file_name)

    @property
    def sop_instance_uid(self) -> str:
        return str(self.dataset.get("SOPInstanceUID", ""))

    @property
    def label(self) -> str:
        """A short description for the image list: file name, modality and size (shown as text)."""
        ds = self.dataset
        parts = [self.file_name, str(ds.get("Modality", "") or "")]
        parts.append(f"{ds.get('Columns', '?')}×{ds.get('Rows', '?')}")
        if self.frames > 1:
            parts.append(f"{self.frames} frames")
        return " · ".join(p for p in parts if p)


@dataclass
class Session:
    images: list[OpenedImage] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    current: int = -1
    limits: Limits = DEFAULT_LIMITS
    invert: bool = False  # the user's inversion (key I), on top of each file's own presentation
    # the last decoded frame (image, frame index, stored values): windowing, inverting and zooming
    # re-render it many times a second, and decoding (JPEG 2000 above all) is the costly part
    _decoded: tuple[OpenedImage, int, np.ndarray] | None = field(default=None, repr=False)

    def open_file(self, file_name: str, data: bytes) -> OpenedImage | Problem:
        """Read one file; it joins the images or the problems, never raises for bad input."""
        try:
            ds = read_dataset(data)
        except UnreadableFile as exc:
            return self.add_problem(file_name, str(exc))
        return self.open_dataset(file_name, ds)

    def open_dataset(self, file_name: str, ds: Dataset) -> OpenedImage | Problem:
        """A dataset already read (dicomview.opening reads it once to sort folders' contents)."""
        try:
            check_pixels(ds, self.limits)
            check_renderable(ds)
            image = OpenedImage(file_name, ds, frame_count(ds))
        except UnreadableFile as exc:
            return self.add_problem(file_name, str(exc))
        self.images.append(image)
        return image

    def add_problem(self, file_name: str, reason: str) -> Problem:
        problem = Problem(file_name, reason)
        self.problems.append(problem)
        return problem

    def open_batch(self, files: Iterable[tuple[str, bytes]]) -> list[OpenedImage | Problem]:
        outcomes = [self.open_file(name, data) for name, data in files]
        self.arrange()
        return outcomes

    def arrange(self) -> None:
        """Group the images by study and series (first-opened series first) and order each as a stack;
        the current image stays current."""
        current = self.images[self.current] if 0 <= self.current < len(self.images) else None
        first_seen: dict[SeriesKey, int] = {}
        for image in self.images:
            first_seen.setdefault(image.series, len(first_seen))
        self.images.sort(key=lambda image: (first_seen[image.series], image.stack_key))
        self.current = self.images.index(current) if current is not None else -1

    def step_in_series(self, delta: int) -> int:
        """The index of the previous/next image of the current series, stopping at its ends."""
        index = self.current + delta
        if 0 <= index < len(self.images) and self.images[index].series == self.images[self.current].series:
            return index
        return self.current

    def decoded_frame(self, image: OpenedImage) -> np.ndarray:
        """The image's current frame, decoded once (within this session's limits) and kept while it
        stays the one shown."""
        cached = self._decoded
        if cached is None or cached[0] is not image or cached[1] != image.frame:
            self._decoded = (image, image.frame, stored_frame(image.dataset, image.frame, self.limits))
        return self._decoded[2]

    def render(self, index: int) -> RenderedFrame | Problem:
        """Render image `index`; a decoding failure becomes a problem and the image leaves the list."""
        image = self.images[index]
        try:
            rendered = render_frame(image.dataset, image.frame, image.voi_key, image.window, self.invert,
                                    self.decoded_frame(image))
        except UnreadableFile as exc:
            problem = self.add_problem(image.file_name, str(exc))
            del self.images[index]
            self.current = min(self.current, len(self.images) - 1)
            return problem
        self.current = index
        return rendered
