"""One frame of a dataset to RGBA pixels, choosing the window the way a reader expects.

VOI choice (DESIGN §8): by default the file's first VOI window, else its first VOI LUT, else the
min-max of the frame's modality values with a note saying so; any window or VOI LUT of the file, or
the min-max, can be chosen instead (`voi_choices`). The note and the values used are
returned with the pixels, so the page can show them and publish them in the automation contract.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.pixels.processing import apply_modality_lut, apply_voi

from dicomview import colour, pipeline
from dicomview.decode import UnreadableFile, frame_count, stored_frame
from dicomview.pipeline import Window

# A LUT over the stored range pays off while it is no larger than the common 16-bit case.
MAX_LUT_ENTRIES = 1 << 17
GREYSCALE = ("MONOCHROME1", "MONOCHROME2")
COLOUR = (*colour.AS_RGB, colour.PALETTE)
NOTE_MIN_MAX = "no usable VOI window in the file: showing the frame's min-max"


@dataclass(frozen=True)
class RenderedFrame:
    """RGBA pixels of one frame (rows, columns, 4), the VOI used, notes for the user.

    `window` is the window applied (None for colour or a VOI LUT); `voi_key` names the VOI choice.
    """

    rgba: np.ndarray
    window: Window | None
    notes: tuple[str, ...] = ()
    voi_key: str = ""
    value_range: tuple[float, float] = (0.0, 0.0)  # the frame's lowest and highest modality values
    stored: np.ndarray | None = None  # the frame's stored values, for the cursor readout


@dataclass(frozen=True)
class VoiChoice:
    """One VOI the user can pick: a window of the file, a VOI LUT of the file, or the frame's min-max."""

    key: str  # "window:N", "voi-lut:N" or "min-max"
    label: str


MIN_MAX = VoiChoice("min-max", "Min–max of the frame")
AUTO = VoiChoice("auto", "Auto (1st–99th percentile)")
# Common CT windows in HU (center, width), as clinical viewers offer them (e.g. OHIF, Weasis)
CT_PRESETS = {
    "brain": ("CT brain", 40, 80), "subdural": ("CT subdural", 75, 215), "stroke": ("CT stroke", 40, 40),
    "lung": ("CT lung", -600, 1500), "mediastinum": ("CT mediastinum", 50, 350),
    "abdomen": ("CT abdomen", 40, 400), "liver": ("CT liver", 60, 160), "bone": ("CT bone", 400, 1800),
}
AUTO_PERCENTILES = (1.0, 99.0)
MAX_AUTO_SAMPLES = 1 << 20  # the auto window reads every pixel of frames up to this size


def first_value(value: object) -> object:
    return value[0] if isinstance(value, MultiValue | list | tuple) and len(value) else value


def as_list(value: object) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, MultiValue | list | tuple) else [value]


def file_windows(ds: Dataset) -> list[Window | None]:
    """Every Window Center/Width pair of the file (PS3.3 C.11.2), None where a pair does not parse."""
    centers, widths = as_list(ds.get("WindowCenter")), as_list(ds.get("WindowWidth"))
    function = str(ds.get("VOILUTFunction", "LINEAR") or "LINEAR").strip().upper()
    windows = []
    for center, width in zip(centers, widths, strict=False):
        try:
            windows.append(Window(float(center), float(width), function))
        except (TypeError, ValueError):
            windows.append(None)
    return windows


def file_window(ds: Dataset) -> Window | None:
    """The first VOI window of the file, or None if it has none that parses."""
    windows = file_windows(ds)
    return windows[0] if windows else None


def voi_luts(ds: Dataset) -> list:
    """The items of the VOI LUT Sequence (PS3.3 C.11.2.1.1) that carry a descriptor and data."""
    items = ds.get("VOILUTSequence") or []
    return [item for item in items if "LUTDescriptor" in item and "LUTData" in item]


def voi_choices(ds: Dataset) -> list[VoiChoice]:
    """What the window menu offers for this file: its usable windows, its VOI LUTs, then min-max."""
    explanations = as_list(ds.get("WindowCenterWidthExplanation"))
    choices = []
    for n, window in enumerate(file_windows(ds)):
        if pipeline.window_is_usable(window):
            name = str(explanations[n]) if n < len(explanations) and explanations[n] else f"Window {n + 1}"
            choices.append(VoiChoice(f"window:{n}", f"{name} (C {window.center:g} / W {window.width:g})"))
    for n, item in enumerate(voi_luts(ds)):
        name = str(item.get("LUTExplanation", "") or f"VOI LUT {n + 1}")
        choices.append(VoiChoice(f"voi-lut:{n}", name))
    if str(ds.get("Modality", "")).upper() == "CT":
        choices += [VoiChoice(f"preset:{key}", f"{label} (C {c} / W {w})") for key, (label, c, w) in CT_PRESETS.items()]
    return [*choices, AUTO, MIN_MAX]


def default_voi_key(ds: Dataset) -> str:
    """The file's first window if usable (what DCMTK's +Wi 1 shows), else its first VOI LUT, else min-max."""
    first = file_window(ds)
    if pipeline.window_is_usable(first):
        return "window:0"
    return "voi-lut:0" if voi_luts(ds) else MIN_MAX.key


def voi_lut_stage(ds: Dataset, n: int) -> pipeline.VoiLut:
    """VOI LUT item n of the file as a VOI stage: pydicom's apply_voi, scaled by the nominal depth."""
    bits = int(voi_luts(ds)[n].LUTDescriptor[2])
    return lambda values: pipeline.voi_lut_to_grey(apply_voi(values, ds, n), bits)


# Functional groups whose attributes stand in for the top-level ones, frame by frame (PS3.3 C.7.6.16)
RENDERING_GROUPS = {
    "PixelValueTransformationSequence": ("RescaleSlope", "RescaleIntercept", "RescaleType"),
    "FrameVOILUTSequence": ("WindowCenter", "WindowWidth", "WindowCenterWidthExplanation", "VOILUTFunction"),
}
GEOMETRY_GROUPS = {
    "PlanePositionSequence": ("ImagePositionPatient",),
    "PlaneOrientationSequence": ("ImageOrientationPatient",),
    "PixelMeasuresSequence": ("PixelSpacing", "SliceThickness"),
}
FRAME_GROUPS = RENDERING_GROUPS | GEOMETRY_GROUPS


def group_item(ds: Dataset, index: int, keyword: str) -> Dataset | None:
    """The frame's own functional group item, else the shared one (PS3.3 C.7.6.16.1), else None."""
    for container, position in (("PerFrameFunctionalGroupsSequence", index), ("SharedFunctionalGroupsSequence", 0)):
        groups = ds.get(container) or []
        if position < len(groups) and keyword in groups[position] and len(groups[position][keyword].value):
            return groups[position][keyword][0]
    return None


def frame_view(ds: Dataset, index: int) -> Dataset:
    """The dataset as frame `index` of an enhanced multi-frame object sees it: a shallow copy whose
    top-level rescale, window and geometry attributes come from the frame's functional groups
    (FRAME_GROUPS: Pixel Value Transformation, Frame VOI LUT, Plane Position and Orientation, Pixel
    Measures). Classic datasets are returned unchanged."""
    if "PerFrameFunctionalGroupsSequence" not in ds and "SharedFunctionalGroupsSequence" not in ds:
        return ds
    view = ds.copy()  # keeps the read encoding (pydicom needs it for OW LUT data)...
    view._dict = dict(ds._dict)  # ...but pydicom's shallow copy shares the element dict: detach it
    for keyword, attributes in FRAME_GROUPS.items():
        item = group_item(ds, index, keyword)
        for attribute in attributes if item is not None else ():
            if attribute in item:
                view[attribute] = item[attribute]
    return view


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


def frame_value_range(
    stored: np.ndarray, ds: Dataset, modality: pipeline.ModalityLut, extremes: tuple[int, int] | None
) -> tuple[float, float]:
    """The lowest and highest modality values of the frame; `extremes` are its stored min and max."""
    if "ModalityLUTSequence" in ds or extremes is None:  # not monotonic, or float: look at every value
        values = modality(stored)
        finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
        values = finite if finite.size else np.zeros(1)
    else:  # rescale is monotonic: the extremes map to the extremes
        values = modality(np.array(extremes, dtype=np.int64))
    return float(np.min(values)), float(np.max(values))


CUSTOM = "custom"  # the voi_key of a window the user set by dragging


def percentile_window(stored: np.ndarray, modality: pipeline.ModalityLut) -> Window:
    """A robust auto-window: the 1st to 99th percentile of the frame's modality values, so a few
    extreme pixels (metal, air, padding) do not flatten the contrast as min-max does."""
    step = math.ceil(math.sqrt(stored.size / MAX_AUTO_SAMPLES)) if stored.ndim == 2 else 1
    values = modality(stored[::step, ::step] if step > 1 else stored)  # only very large frames are subsampled
    values = values[np.isfinite(values)] if values.dtype.kind == "f" else values
    low, high = np.percentile(values, AUTO_PERCENTILES) if values.size else (0.0, 0.0)
    return pipeline.min_max_window(float(low), float(high))


def choose_voi(
    ds: Dataset, stored: np.ndarray, modality: pipeline.ModalityLut, voi_key: str | None,
    window: Window | None, value_range: tuple[float, float],
) -> tuple[str, pipeline.VoiLut, Window | None, tuple[str, ...]]:
    """Resolve a VOI choice to its stage; the default falls back to min-max with a note."""
    if window is not None and pipeline.window_is_usable(window):
        return CUSTOM, pipeline.window_voi(window), window, ()
    notes: tuple[str, ...] = ()
    if voi_key is None:
        voi_key = default_voi_key(ds)
        if voi_key == MIN_MAX.key:
            notes = (NOTE_MIN_MAX,)
    kind, _, number = voi_key.partition(":")
    if kind == "window":
        windows = file_windows(ds)
        n = int(number)
        if n < len(windows) and pipeline.window_is_usable(windows[n]):
            return voi_key, pipeline.window_voi(windows[n]), windows[n], notes
    elif kind == "voi-lut" and int(number) < len(voi_luts(ds)) and stored.dtype.kind in "iu":
        return voi_key, voi_lut_stage(ds, int(number)), None, notes
    elif kind == "preset" and number in CT_PRESETS:
        _, center, width = CT_PRESETS[number]
        window = Window(float(center), float(width))
        return voi_key, pipeline.window_voi(window), window, notes
    elif kind == AUTO.key:
        window = percentile_window(stored, modality)
        return voi_key, pipeline.window_voi(window), window, notes
    elif kind != MIN_MAX.key:
        raise UnreadableFile(f"unknown VOI choice {voi_key!r}")
    window = pipeline.min_max_window(*value_range)
    return MIN_MAX.key, pipeline.window_voi(window), window, notes or ((NOTE_MIN_MAX,) if kind != MIN_MAX.key else ())


def render_greyscale(
    ds: Dataset, stored: np.ndarray, voi_key: str | None = None, window: Window | None = None,
    invert: bool = False,
) -> RenderedFrame:
    modality = modality_lut(ds)
    # the stored extremes, taken once: they bound the LUT and give the min-max and the value range
    extremes = (int(stored.min()), int(stored.max())) if stored.dtype.kind in "iu" and stored.size else None
    value_range = frame_value_range(stored, ds, modality, extremes) if stored.size else (0.0, 0.0)
    voi_key, voi, window, notes = choose_voi(ds, stored, modality, voi_key, window, value_range)
    inverted = is_inverted(ds) != invert
    if extremes is not None:
        lowest, highest = extremes
        if highest - lowest < MAX_LUT_ENTRIES:
            lut = pipeline.grey_lut(lowest, highest, modality, voi, inverted)
            rgba32 = pipeline.apply_lut(stored, lut, lowest)
            return RenderedFrame(pipeline.rgba32_to_bytes(rgba32), window, notes, voi_key, value_range, stored)
    rgba32 = pipeline.grey_chain(np.nan_to_num(stored), modality, voi, inverted)
    return RenderedFrame(pipeline.rgba32_to_bytes(rgba32), window, notes, voi_key, value_range, stored)


def check_renderable(ds: Dataset) -> str:
    """What can be checked before decoding: a supported photometric and a usable Modality LUT.
    Returns the photometric interpretation."""
    photometric = str(ds.get("PhotometricInterpretation", "")).strip()
    if photometric not in GREYSCALE + COLOUR:
        raise UnreadableFile(f"photometric interpretation {photometric or '(missing)'} is not supported yet")
    if photometric in GREYSCALE:
        modality_lut(ds)
    return photometric


def render_frame(
    ds: Dataset, index: int = 0, voi_key: str | None = None, window: Window | None = None, invert: bool = False,
    stored: np.ndarray | None = None,
) -> RenderedFrame:
    """Render frame `index` (0-based) of `ds` with a VOI choice (None: the file's default), or a
    window the user set (`window`, voi_key "custom"), inverted on top of the file's own presentation
    if `invert`. `stored` is the frame already decoded (decode.stored_frame); None decodes it here."""
    frames = frame_count(ds)
    if not 0 <= index < frames:
        raise UnreadableFile(f"frame {index} does not exist (the file has {frames})")
    if stored is None:
        stored = stored_frame(ds, index)
    ds = frame_view(ds, index)
    photometric = check_renderable(ds)
    if photometric in GREYSCALE:
        if stored.ndim != 2:
            raise UnreadableFile(f"a {photometric} frame must have one sample per pixel, got shape {stored.shape}")
        return render_greyscale(ds, stored, voi_key, window, invert)
    return RenderedFrame(colour.colour_to_rgba(ds, stored), None, stored=stored)
