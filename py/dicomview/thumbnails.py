"""Series thumbnails: the series' middle image rendered by the viewer's own pipeline, then shrunk
by averaging whole blocks of pixels in numpy (area resampling, so thin lines fade instead of vanishing)."""

from __future__ import annotations

import math

import numpy as np
from pydicom.dataset import Dataset

from dicomview.decode import DEFAULT_LIMITS, Limits, UnreadableFile, stored_frame
from dicomview.render import render_frame

THUMBNAIL_SIZE = 64  # the longer side, in pixels


def block_means(values: np.ndarray, factor: int, axis: int) -> np.ndarray:
    """Means over consecutive blocks of `factor` along `axis`; the last block may be shorter."""
    starts = np.arange(0, values.shape[axis], factor)
    sums = np.add.reduceat(values, starts, axis=axis)
    lengths = np.diff(np.append(starts, values.shape[axis]))
    shape = [1] * values.ndim
    shape[axis] = len(lengths)
    return sums / lengths.reshape(shape)


def downsample(rgba: np.ndarray, size: int = THUMBNAIL_SIZE) -> np.ndarray:
    """An RGBA image shrunk by one integer factor so that its longer side is at most `size`."""
    factor = max(1, math.ceil(max(rgba.shape[:2]) / size))
    if factor == 1:
        return rgba
    means = block_means(block_means(rgba.astype(np.float64), factor, 0), factor, 1)
    return np.rint(means).astype(np.uint8)


def middle_frame(frames: int) -> int:
    """The frame a multi-frame image is shown by in the series list: its middle one, as for stacks."""
    return frames // 2


def thumbnail(ds: Dataset, frame: int = 0, limits: Limits = DEFAULT_LIMITS,
              size: int = THUMBNAIL_SIZE) -> np.ndarray | None:
    """The frame with its default window, downsampled; None if it cannot be decoded (the image's own
    problem line appears when it is shown)."""
    try:
        return downsample(render_frame(ds, frame, stored=stored_frame(ds, frame, limits)).rgba, size)
    except UnreadableFile:
        return None
