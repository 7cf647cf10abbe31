"""One frame of a dataset to RGBA pixels, choosing the window the way a reader expects.

Window choice (DESIGN §8): the file's first VOI window; where it is missing or unusable (width <= 0),
the min-max of the frame's modality values, and a note says so. The note and the values used are
returned with the pixels, so the page can show them and publish them in the automation contract.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.pixels.processing import apply_modality_lut

from dicomview import pipeline
from dicomview.decode import UnreadableFile, frame_count, stored_frame
from dicomview.pipeline import Window

# A LUT over the stored range pays off while it is no larger than the common 16-bit case.
MAX_LUT_ENTRIES = 1 << 17
GREYSCALE = ("MONOCHROME1", "MONOCHROME2")
# pydicom's decoders return these as RGB (their default as_rgb=True converts YBR to RGB).
COLOUR_AS_RGB = ("RGB", "YBR_FULL", "YBR_FULL_422")
NOTE_MIN_MAX = "no usable VOI window in the file: showing the frame's min-max"


@dataclass(frozen=True)
class RenderedFrame:
    """RGBA pixels of one frame (rows, columns, 4), the window used (None for colour), notes for the user."""

    rgba: np.ndarray
    window: Window | None
    notes: tuple[str, ...] = ()


def first_value(value: object) -> object:
    return value[0] if isinstance(value, MultiValue | list | tuple) and len(value) else value


def file_window(ds: Dataset) -> Window | None:
    """The first VOI window of the file (PS3.3 C.11.2), or None if it has none that parses."""
    center, width = ds.get("WindowCenter"), ds.get("WindowWidth")
    if center is None or width is None:
        return None
    try:
        function = str(ds.get("VOILUTFunction", "LINEAR") or "LINEAR").strip().upper()
        return Window(float(first_value(center)), float(first_value(width)), function)
    except (TypeError, ValueError):
        return None


def is_inverted(ds: Dataset) -> bool:
    """MONOCHROME1 shows its minimum as white, as does Presentation LUT Shape INVERSE (PS3.3 C.11.6)."""
    photometric = str(ds.get("PhotometricInterpretation", "")).strip()
    shape = str(ds.get("PresentationLUTShape", "") or "").strip().upper()
    return photometric == "MONOCHROME1" or shape == "INVERSE"


def modality_lut(ds: Dataset) -> pipeline.ModalityLut:
    """pydicom's Modality LUT (rescale or Modality LUT Sequence) bound to this dataset.

    Rescale Slope and Intercept are checked first: pydicom multiplies by whatever string it finds.
    """
    if "ModalityLUTSequence" not in ds:
        for keyword in ("RescaleSlope", "RescaleIntercept"):
            if keyword not in ds:
                continue
            value = first_value(ds[keyword].value)
            try:
                if not np.isfinite(float(value)):
                    raise ValueError
            except (TypeError, ValueError):
                raise UnreadableFile(f"{keyword} is not a finite number ({value!r})") from None
    return lambda values: apply_modality_lut(values, ds)


def frame_min_max_window(stored: np.ndarray, ds: Dataset, modality: pipeline.ModalityLut) -> Window:
    """Min-max window over the frame's modality values."""
    if "ModalityLUTSequence" in ds:  # a LUT need not be monotonic: look at every value
        values = modality(stored)
    else:  # rescale is monotonic: the extremes map to the extremes
        values = modality(np.array([stored.min(), stored.max()], dtype=np.int64))
    return pipeline.min_max_window(float(np.min(values)), float(np.max(values)))


def render_greyscale(ds: Dataset, stored: np.ndarray) -> RenderedFrame:
    modality = modality_lut(ds)
    window, notes = file_window(ds), []
    if not pipeline.window_is_usable(window):
        window = frame_min_max_window(stored, ds, modality)
        notes.append(NOTE_MIN_MAX)
    inverted = is_inverted(ds)
    if stored.dtype.kind in "iu" and stored.size:
        lowest, highest = int(stored.min()), int(stored.max())
        if highest - lowest < MAX_LUT_ENTRIES:
            lut = pipeline.grey_lut(lowest, highest, modality, window, inverted)
            rgba32 = pipeline.apply_lut(stored, lut, lowest)
            return RenderedFrame(pipeline.rgba32_to_bytes(rgba32), window, tuple(notes))
    rgba32 = pipeline.grey_direct(stored, modality, window, inverted)
    return RenderedFrame(pipeline.rgba32_to_bytes(rgba32), window, tuple(notes))


def render_rgb8(rgb: np.ndarray) -> RenderedFrame:
    rows, columns = rgb.shape[:2]
    rgba = np.empty((rows, columns, 4), dtype=np.uint8)
    rgba[..., :3] = rgb
    rgba[..., 3] = 255
    return RenderedFrame(rgba, None)


def check_renderable(ds: Dataset) -> str:
    """What can be checked before decoding: a supported photometric and a usable Modality LUT.
    Returns the photometric interpretation."""
    photometric = str(ds.get("PhotometricInterpretation", "")).strip()
    if photometric not in GREYSCALE + COLOUR_AS_RGB:
        raise UnreadableFile(f"photometric interpretation {photometric or '(missing)'} is not supported yet")
    if photometric in GREYSCALE:
        modality_lut(ds)
    return photometric


def render_frame(ds: Dataset, index: int = 0) -> RenderedFrame:
    """Decode and render frame `index` (0-based) of `ds`."""
    frames = frame_count(ds)
    if not 0 <= index < frames:
        raise UnreadableFile(f"frame {index} does not exist (the file has {frames})")
    photometric = check_renderable(ds)
    stored = stored_frame(ds, index)
    if photometric in GREYSCALE:
        if stored.ndim != 2:
            raise UnreadableFile(f"a {photometric} frame must have one sample per pixel, got shape {stored.shape}")
        return render_greyscale(ds, stored)
    if stored.ndim != 3 or stored.shape[-1] != 3 or stored.dtype != np.uint8:
        raise UnreadableFile(f"{photometric} with {ds.get('BitsAllocated')} bits allocated is not supported yet")
    return render_rgb8(stored)
