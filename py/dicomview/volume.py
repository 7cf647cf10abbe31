"""A series as a volume, or the exact reason it cannot be one.

Geometry comes from the Image Plane module (PS3.3 C.7.6.2): Image Orientation (Patient) gives the row
and column direction cosines, Image Position (Patient) the centre of each slice's first pixel, Pixel
Spacing the distance between rows and between columns. Enhanced CT/MR objects carry the same per frame
in their functional groups (PS3.3 C.7.6.16: Plane Position, Plane Orientation, Pixel Measures), read
through `render.frame_view`.

The voxels stay in the stored dtype (int16 for CT), as a stack of the slices' own 2-D arrays: where a
slice's Pixel Data is native and little-endian, its array is a read-only view of the dataset's bytes,
so the volume adds no copy of the pixels the opened files already hold (a 300x512x512 CT costs its
150 MiB once, not twice). The Modality LUT is applied later, to the pixels a measurement needs.

A few images unlike the main stack in a series (localizers or "scouts" saved with the axial stack, an
image of another size or pixel spacing, one without plane attributes) are left out, each named with
why in the volume's notes, when the main stack holds nearly all images (main_stack).
A Rescale Slope/Intercept per slice (PET) is kept per slice beside the stored voxels: the views apply
it to the plane they show (float32, one plane at a time), never to the whole volume.
What refuses a volume, each with a sentence naming the slices: fewer than two slices, a missing plane
attribute, two image sizes or pixel formats, two orientations, two pixel spacings, two Modality LUTs
(or one beside a rescale), two slices at one position, missing slices ("slice 37 of 120 missing"),
uneven spacing, slice origins off one line. Gantry tilt (origins on a line that is not the slice
normal) is corrected: each slice is shifted in-plane onto the normal (linear interpolation, exact for
whole-pixel shifts), and the volume says so in its notes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import UID

from dicomview.decode import PIXEL_DATA_TAG, UnreadableFile, frame_count, stored_frame
from dicomview.deferred import PIXEL_TAGS, unread_element
from dicomview.render import frame_view, modality_lut

ORIENTATION_TOLERANCE = 1e-3
"""Direction cosines closer than this are one orientation (files round them to about 6 digits)."""
SPACING_TOLERANCE = 0.05
"""A step between slices may differ from the series' nominal step by this fraction (position jitter)."""
POSITION_TOLERANCE_MM = 0.1
"""...or this many mm, if more: positions are often written to 0.1 mm, so rounding alone moves a slice 0.05 mm."""
IN_PLANE_TOLERANCE = 0.05
"""Slice origins may stray from their line, in-plane, by this fraction of a pixel (or POSITION_TOLERANCE_MM)."""
TILT_CORRECTION_PIXELS = 0.5
"""A tilt is corrected when the slices drift more than this, end to end: below, resampling would blur
more than it corrects (and rounded positions alone can fake a tiny tilt)."""
LEFT_OUT_AT_MOST = 3
"""A series with images unlike its main stack still makes a volume from that stack when the others are
this many images at most (localizers: an AP and a lateral scout, perhaps a third)..."""
MAIN_STACK_SHARE = 0.8
"""...and the main stack this share of the images at least; else what differs is reported."""
SHOWN_GROUPS = 4
"""A refusal names this many groups at most (a PET series may have a rescale per slice)."""
NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine"}


@dataclass(frozen=True)
class Slice:
    """One image plane: a classic file, or one frame of a multi-frame object."""

    label: str
    dataset: Dataset  # as the frame sees it (functional groups applied), for geometry and rescale
    source: Dataset  # the dataset holding the pixel data
    frame: int


@dataclass(frozen=True)
class NotAVolume:
    """Why a series cannot be a volume: `reason` is a sentence for the user, `kind` a stable key."""

    reason: str
    kind: str

    def __str__(self) -> str:
        return self.reason


class SliceStack:
    """A 3-D array (slices, rows, columns) held as one 2-D array per slice, so that slices can stay views
    of their files' Pixel Data. Basic indexing gives a numpy array of just the voxels asked for: a view for
    one slice, a stacked copy across slices (a view of the volume's planes is small)."""

    def __init__(self, slices: list[np.ndarray]) -> None:
        self.slices = slices
        self.dtype = slices[0].dtype
        self.shape = (len(slices), *slices[0].shape)
        self.ndim = 3
        self.size = int(np.prod(self.shape))
        self.nbytes = self.size * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        first, rest = key[0], key[1:]
        if isinstance(first, (int, np.integer)):
            return self.slices[first][rest]
        chosen = self.slices[first]
        if not chosen:
            return np.empty((0, *self.slices[0][rest].shape), self.dtype)
        return np.stack([s[rest] for s in chosen])

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = np.stack(self.slices)
        return whole if dtype is None else whole.astype(dtype)

    def min(self):
        return min(s.min() for s in self.slices)

    def max(self):
        return max(s.max() for s in self.slices)


@dataclass(frozen=True, eq=False)
class Volume:
    """Stored values on a regular grid, with the patient geometry of its three array axes.

    Array axis 0 runs across slices, 1 down the rows (the column cosine), 2 along a row (the row
    cosine). `axes[n]` is the unit vector of array axis n in patient coordinates (LPS, mm), `spacing[n]`
    the distance between neighbours along it, `origin` the centre of voxel (0, 0, 0).
    """

    voxels: SliceStack | np.ndarray  # indexed like an array (slices, rows, columns); see SliceStack
    origin: np.ndarray
    axes: np.ndarray
    spacing: tuple[float, float, float]
    modality: Dataset  # the first slice's view: Rescale Slope/Intercept or Modality LUT (PS3.3 C.11.1)
    labels: tuple[str, ...]  # the slice each index came from
    notes: tuple[str, ...] = ()
    rescales: np.ndarray | None = None  # (slices, 2) slope and intercept per slice when they differ; then
    # `modality` has slope 1, intercept 0 and the views hold modality values (dicomview.reslice.view_block)

    def modality_value(self, index: tuple[int, int, int]) -> float:
        """The modality value (HU for CT) of one voxel (PS3.3 C.11.1)."""
        stored = self.voxels[index]
        if self.rescales is not None:
            slope, intercept = self.rescales[index[0]]
            return float(stored) * float(slope) + float(intercept)
        return float(np.asarray(modality_lut(self.modality)(np.array([stored])))[0])

    def voxel_to_patient(self, index: np.ndarray) -> np.ndarray:
        """Patient coordinates (mm) of (fractional) voxel indices (..., 3)."""
        return self.origin + (np.asarray(index, float) * self.spacing) @ self.axes

    def patient_to_voxel(self, point: np.ndarray) -> np.ndarray:
        """Fractional voxel indices of patient points (..., 3), the inverse of voxel_to_patient."""
        return np.linalg.solve(self.axes.T, (np.asarray(point, float) - self.origin).T).T / self.spacing


# --- the plane of one slice (PS3.3 C.7.6.2.1.1, C.7.6.16.2.3-4) -------------------------------------


def numbers(ds: Dataset, keyword: str, count: int) -> np.ndarray | None:
    """A multi-valued decimal attribute as floats, or None if missing or malformed."""
    try:
        values = np.array([float(v) for v in ds[keyword].value], float)
    except (KeyError, TypeError, ValueError):
        return None
    return values if values.shape == (count,) and np.isfinite(values).all() else None


def plane_problem(ds: Dataset) -> str | None:
    """The first plane attribute a slice lacks, or None."""
    for keyword, count in (("ImageOrientationPatient", 6), ("ImagePositionPatient", 3), ("PixelSpacing", 2)):
        if numbers(ds, keyword, count) is None:
            return f"has no usable {keyword} ({count} numbers)"
    cosines = numbers(ds, "ImageOrientationPatient", 6)
    if abs(np.linalg.norm(np.cross(cosines[:3], cosines[3:])) - 1) > 0.01:
        return "has Image Orientation (Patient) cosines that are not two perpendicular unit vectors"
    if (numbers(ds, "PixelSpacing", 2) <= 0).any():
        return "has a Pixel Spacing that is not positive"
    return None


def slices_of(label: str, ds: Dataset) -> list[Slice]:
    """A classic image is one slice; a multi-frame object one slice per frame (PS3.3 C.7.6.16)."""
    frames = frame_count(ds)
    if frames == 1:
        return [Slice(label, frame_view(ds, 0), ds, 0)]
    return [Slice(f"{label} frame {n + 1}", frame_view(ds, n), ds, n) for n in range(frames)]


# --- checks over the series, each returning a reason or None ------------------------------------------


def counted(groups: dict, noun: str, show) -> str:
    """'two Xs in one series: A (3 slices) and B (1 slice: f1)'; past SHOWN_GROUPS, '… and N more'."""
    parts = []
    for key, labels in sorted(groups.items(), key=lambda item: (-len(item[1]), min(item[1]))):
        few = f": {', '.join(sorted(labels))}" if len(labels) <= 3 else ""
        parts.append(f"{show(key)} ({len(labels)} slice{'s' if len(labels) != 1 else ''}{few})")
    if len(parts) > SHOWN_GROUPS:
        parts = [*parts[: SHOWN_GROUPS - 1], f"{len(parts) - SHOWN_GROUPS + 1} more"]
    count = NUMBER_WORDS.get(len(groups), str(len(groups)))
    return f"{count} {noun} in one series: " + ", ".join(parts[:-1]) + " and " + parts[-1]


def group_by(slices: list[Slice], key) -> dict:
    groups: dict = {}
    for item in slices:
        groups.setdefault(key(item.dataset), []).append(item.label)
    return groups


def orientation_key(known: list[tuple], cosines: np.ndarray) -> tuple:
    """The orientation among `known` equal to these cosines within ORIENTATION_TOLERANCE; else a new one,
    added to `known`."""
    key = next((k for k in known if np.abs(np.array(k) - cosines).max() <= ORIENTATION_TOLERANCE), None)
    if key is None:
        key = tuple(np.round(cosines, 6) + 0.0)
        known.append(key)
    return key


def orientation_groups(slices: list[Slice]) -> dict:
    """Slices grouped by Image Orientation (Patient), cosines equal within ORIENTATION_TOLERANCE."""
    groups: dict[tuple, list[str]] = {}
    known: list[tuple] = []
    for item in slices:
        key = orientation_key(known, numbers(item.dataset, "ImageOrientationPatient", 6))
        groups.setdefault(key, []).append(item.label)
    return groups


def main_stack(slices: list[Slice]) -> tuple[list[Slice], str | None]:
    """Scouts and strays in a series: when one stack (one orientation, image size and pixel spacing)
    holds nearly all of its images and a few others differ or lack plane attributes (LEFT_OUT_AT_MOST,
    MAIN_STACK_SHARE), the main stack alone, and a note naming each image left out and why; else all
    slices, unchanged (what differs is then reported as the reason)."""
    problems = {id(item): plane_problem(item.dataset) for item in slices}
    placed = [item for item in slices if problems[id(item)] is None]

    known: list[tuple] = []

    def stack(item: Slice) -> tuple:
        ds = item.dataset
        return (orientation_key(known, numbers(ds, "ImageOrientationPatient", 6)), pixel_format(ds),
                tuple(np.round(numbers(ds, "PixelSpacing", 2), 4)))

    groups = group_by_item(placed, stack)
    if not groups:
        return slices, None
    main_key = max(groups, key=lambda key: len(groups[key]))
    kept = groups[main_key]
    kept_ids = {id(item) for item in kept}
    left_out = sorted((item for item in slices if id(item) not in kept_ids), key=lambda item: item.label)
    if not left_out or len(left_out) > LEFT_OUT_AT_MOST or len(kept) < MAIN_STACK_SHARE * len(slices):
        return slices, None

    def why(item: Slice) -> str:
        if problems[id(item)]:
            return f"{item.label} ({problems[id(item)]})"
        image_type = [str(v).upper() for v in (item.dataset.get("ImageType") or [])]
        kind = "a localizer, " if "LOCALIZER" in image_type else ""
        orientation, size, spacing = stack(item)
        if orientation != main_key[0]:
            return f"{item.label} ({kind}orientation [{', '.join(f'{v:g}' for v in orientation)}])"
        if size != main_key[1]:
            return f"{item.label} ({kind}{size[0]}×{size[1]} {size[3]}-bit pixels)"
        return f"{item.label} ({kind}pixel spacing {spacing[0]:g}×{spacing[1]:g} mm)"

    count = f"{len(left_out)} image{'s' if len(left_out) != 1 else ''}"
    return kept, (f"{count} unlike the main stack left out of the volume of {len(kept)} slices: "
                  + "; ".join(why(item) for item in left_out))


def group_by_item(slices: list[Slice], key) -> dict[tuple, list[Slice]]:
    groups: dict[tuple, list[Slice]] = {}
    for item in slices:
        groups.setdefault(key(item), []).append(item)
    return groups


def pixel_format(ds: Dataset) -> tuple:
    return tuple(int(ds.get(k, 0) or 0) for k in ("Rows", "Columns", "SamplesPerPixel", "BitsAllocated",
                                                  "PixelRepresentation"))


def rescale(ds: Dataset) -> tuple:
    """What the Modality LUT depends on (PS3.3 C.11.1): slices must share it to share one volume LUT."""
    if "ModalityLUTSequence" in ds:
        return ("LUT", str(ds.ModalityLUTSequence))
    return tuple(float(ds.get(keyword) or default) for keyword, default in (("RescaleSlope", 1),
                                                                            ("RescaleIntercept", 0)))


def uniformity_problem(slices: list[Slice]) -> NotAVolume | None:
    """Size, pixel format, colour, orientation, pixel spacing and rescale must be one for all slices."""
    formats = group_by(slices, pixel_format)
    if len(formats) > 1:
        return NotAVolume(counted(formats, "image sizes or pixel formats", lambda f: f"{f[0]}×{f[1]} "
                                  f"{f[3]}-bit{' signed' if f[4] else ''}"), "size")
    if next(iter(formats))[2] != 1:
        return NotAVolume("colour images cannot form a greyscale volume", "colour")
    orientations = orientation_groups(slices)
    if len(orientations) > 1:
        return NotAVolume(counted(orientations, "orientations", lambda c: "[" + ", ".join(f"{v:g}" for v in c) + "]"),
                          "orientations")
    spacings = group_by(slices, lambda ds: tuple(np.round(numbers(ds, "PixelSpacing", 2), 4)))
    if len(spacings) > 1:
        return NotAVolume(counted(spacings, "pixel spacings", lambda s: f"{s[0]:g}×{s[1]:g} mm"), "spacing")
    try:
        rescales = group_by(slices, rescale)
    except (TypeError, ValueError):
        return NotAVolume("a Rescale Slope or Intercept is not a number", "rescale")
    if len(rescales) > 1 and any(key[0] == "LUT" for key in rescales):
        return NotAVolume(counted(rescales, "rescales (Rescale Slope/Intercept)",
                                  lambda r: "a Modality LUT" if r[0] == "LUT" else f"{r[0]:g}·x{r[1]:+g}"),
                          "rescale")
    return None


def nominal_step(steps: np.ndarray) -> float:
    """The series' slice step: the median of the steps that are not duplicates."""
    real = steps[steps > 1e-3]
    return float(np.median(real)) if real.size else 0.0


def ranges(numbers_: list[int]) -> str:
    """[4, 9, 10, 11] -> '4 and 9–11'."""
    runs: list[list[int]] = []
    for n in numbers_:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    texts = [str(r[0]) if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs]
    return texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " and " + texts[-1]


def step_runs(steps: np.ndarray, tolerance: float) -> list[tuple[float, int, int]]:
    """Consecutive equal steps (within `tolerance`) as (step mm, first slice, last slice), 0-based."""
    runs: list[tuple[float, int, int]] = []
    for n, step in enumerate(steps):
        if runs and abs(step - runs[-1][0]) <= tolerance:
            runs[-1] = (runs[-1][0], runs[-1][1], n + 1)
        else:
            runs.append((float(step), n, n + 1))
    return runs


def step_change(steps: np.ndarray, tolerance: float) -> NotAVolume | None:
    """A series made of a few regular runs with different steps (a head CT: 2.5 mm through the posterior
    fossa, 5 mm above) says so, run by run. It is not resampled onto one grid: that would invent slices
    across the coarse run, and measurements would no longer be on acquired voxels."""
    runs = step_runs(steps, tolerance)
    if not 2 <= len(runs) <= SHOWN_GROUPS or min(last - first for _, first, last in runs) < 2:
        return None
    parts = [f"{step:.3g} mm (slices {first + 1}–{last + 1})" for step, first, last in runs]
    return NotAVolume("the slice step changes within the series: " + ", then ".join(parts)
                      + "; a volume needs one step", "uneven")


def no_slice_left_out(instances: list[int | None], multiples: np.ndarray) -> bool:
    """Instance Numbers (PS3.3 C.7.6.1) that run on by one across every long step: nothing is missing there,
    the series just steps further (unknown numbers prove nothing)."""
    if any(n is None for n in instances) or len(set(instances)) != len(instances):
        return False
    return all(abs(instances[n + 1] - instances[n]) == 1 for n in np.flatnonzero(multiples > 1))


def slice_grid(labels: list[str], depth: np.ndarray,
               instances: list[int | None] | None = None) -> tuple[float, float] | NotAVolume:
    """The regular grid of slices sorted by depth along the normal (mm): its step (the line through the
    first and last slices) and the farthest a slice lies from it; or why there is none: two slices at
    one position, uneven spacing, a step that changes, missing slices (named by their numbers in the
    complete run, unless the Instance Numbers show none is missing)."""
    steps = np.diff(depth)
    nominal = nominal_step(steps)
    if nominal == 0.0:
        return NotAVolume(f"all {len(labels)} slices are at the same position", "duplicate")
    tolerance = max(SPACING_TOLERANCE * nominal, POSITION_TOLERANCE_MM)
    for n, step in enumerate(steps):
        if step <= tolerance:
            return NotAVolume(f"two slices at one position ({depth[n]:.2f} mm along the normal): "
                              f"{labels[n]} and {labels[n + 1]}", "duplicate")
    multiples = np.maximum(np.rint(steps / nominal), 1)
    complete = np.concatenate([[0], np.cumsum(multiples)]).astype(int)  # each slice's place in the full run
    step = (depth[-1] - depth[0]) / complete[-1]  # the line through the first and last slices
    residual = np.abs(depth - (depth[0] + complete * step)).max()
    if residual > tolerance:
        change = step_change(steps, tolerance)
        if change is not None:
            return change
        n = int(np.argmax(np.abs(steps - multiples * nominal)))
        return NotAVolume(f"uneven spacing: {steps[n]:.3g} mm between {labels[n]} and {labels[n + 1]} where the "
                          f"series steps {nominal:.3g} mm", "uneven")
    if (multiples > 1).any() and instances is not None and no_slice_left_out(instances, multiples):
        return step_change(steps, tolerance) or NotAVolume(
            "uneven spacing: the slices are " + ", ".join(f"{v:.3g}" for v in steps[:8])
            + (" …" if len(steps) > 8 else "") + " mm apart, with no Instance Number left out", "uneven")
    if (multiples > 1).any():
        missing = sorted(set(range(complete[-1] + 1)) - set(complete.tolist()))
        word = "slice" if len(missing) == 1 else "slices"
        return NotAVolume(f"{word} {ranges([m + 1 for m in missing])} of {complete[-1] + 1} missing "
                          f"(the series steps {nominal:.3g} mm)", "gap")
    return float(step), float(residual)


def instance_number(item: Slice) -> int | None:
    """A classic image's Instance Number; None for a frame of a multi-frame object, or when missing."""
    if frame_count(item.source) > 1:
        return None
    try:
        return int(item.source.InstanceNumber)
    except (AttributeError, TypeError, ValueError):
        return None


def shear_fit(offsets: np.ndarray, depth: np.ndarray) -> tuple[np.ndarray, float]:
    """In-plane offsets (n, 2) of slice origins as a linear function of depth: the shear per mm along
    the normal (2,) and the largest residual (mm). A gantry tilt is a constant shear."""
    along = depth - depth[0]
    relative = offsets - offsets[0]
    scale = float(along @ along)
    shear = (along @ relative) / scale
    residual = np.linalg.norm(relative - np.outer(along, shear), axis=1).max()
    return shear, float(residual)


# --- the voxels -------------------------------------------------------------------------------------


def shifted(frame: np.ndarray, rows: float, columns: float, fill) -> np.ndarray:
    """`frame` moved by a fractional number of rows and columns, linear in each direction, in its own
    dtype (rounded); places with no source get `fill`. Works on one slice: a float32 slice at a time."""
    out = frame.astype(np.float32)
    for axis, shift in ((0, rows), (1, columns)):
        whole = int(np.floor(shift))
        part = np.float32(shift - whole)
        moved = np.full_like(out, np.float32(fill))
        size = out.shape[axis]
        for offset, weight in ((whole, 1 - part), (whole + 1, part)):
            if weight == 0 or abs(offset) >= size:
                continue
            target = [slice(None)] * 2
            source = [slice(None)] * 2
            target[axis] = slice(max(offset, 0), size + min(offset, 0))
            source[axis] = slice(max(-offset, 0), size - max(offset, 0))
            contribution = np.full_like(out, np.float32(fill))
            contribution[tuple(target)] = out[tuple(source)]
            moved += weight * (contribution - np.float32(fill))
        out = moved
    info = np.iinfo(frame.dtype) if frame.dtype.kind in "iu" else None
    if info is not None:
        out = np.clip(np.rint(out), info.min, info.max)
    return out.astype(frame.dtype)


NATIVE_DTYPES = {(8, 0): "u1", (8, 1): "i1", (16, 0): "<u2", (16, 1): "<i2", (32, 0): "<u4", (32, 1): "<i4"}


def pixel_data_view(ds: Dataset, frame: int) -> np.ndarray | None:
    """One frame as a read-only view of the dataset's Pixel Data bytes (PS3.5 8.1.1, native encoding:
    frames one after another, little-endian), or None when the data is encapsulated, big-endian, colour or
    of an unusual bit depth. The caller still compares it with the decoded frame before trusting it."""
    syntax = UID(str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or ""))
    code = NATIVE_DTYPES.get((int(ds.get("BitsAllocated", 0) or 0), int(ds.get("PixelRepresentation", 0) or 0)))
    data = ds.get("PixelData")
    if (not syntax or syntax.is_compressed or not syntax.is_little_endian or code is None
            or int(ds.get("SamplesPerPixel", 1) or 1) != 1 or not isinstance(data, bytes)):
        return None
    rows, columns = int(ds.Rows), int(ds.Columns)
    dtype = np.dtype(code)
    size = rows * columns * dtype.itemsize
    if len(data) < (frame + 1) * size:
        return None
    return np.frombuffer(data, dtype, rows * columns, frame * size).reshape(rows, columns)


def slice_pixels(item: Slice) -> np.ndarray:
    """A slice's stored values: a view of its file's bytes when that is exactly what decoding gives
    (no second copy of the pixels), else the decoded array (also when the bytes went back to the file
    once decoded: dicomview.deferred)."""
    decoded = stored_frame(item.source, item.frame)
    if unread_element(item.source, PIXEL_DATA_TAG) is not None:
        return decoded
    view = pixel_data_view(item.source, item.frame)
    if view is not None and view.dtype == decoded.dtype and np.array_equal(view, decoded):
        return view
    return decoded


def load_voxels(slices: list[Slice], shifts: np.ndarray | None) -> SliceStack:
    """Each slice decoded once, kept in the stored dtype (as a view of its file where it can be)."""
    arrays = [slice_pixels(item) for item in slices]
    if shifts is not None:
        fill = min(a.min() for a in arrays)
        arrays[1:] = [shifted(a, shifts[n, 0], shifts[n, 1], fill) for n, a in enumerate(arrays[1:], start=1)]
    return SliceStack(arrays)


def build_volume(images: Iterable[tuple[str, Dataset]]) -> Volume | NotAVolume:
    """A volume from a series' images (classic files, or enhanced multi-frame objects), or why not."""
    slices = [item for label, ds in images for item in slices_of(label, ds)]
    if len(slices) < 2:
        return NotAVolume(f"a volume needs at least two slices; this series has {len(slices)}", "count")
    slices, left_out = main_stack(slices)
    for item in slices:
        problem = plane_problem(item.dataset)
        if problem:
            return NotAVolume(f"{item.label} {problem}", "geometry")
    problem = uniformity_problem(slices)
    if problem:
        return problem
    first = slices[0].dataset
    cosines = numbers(first, "ImageOrientationPatient", 6)
    row_cosine, column_cosine = cosines[:3] / np.linalg.norm(cosines[:3]), cosines[3:] / np.linalg.norm(cosines[3:])
    normal = np.cross(row_cosine, column_cosine)
    normal /= np.linalg.norm(normal)
    positions = np.array([numbers(item.dataset, "ImagePositionPatient", 3) for item in slices])
    depth = positions @ normal
    order = sorted(range(len(slices)), key=lambda n: (depth[n], slices[n].label))  # input order never matters
    slices, positions = [slices[n] for n in order], positions[order]
    depth = positions @ normal
    labels = [item.label for item in slices]
    grid = slice_grid(labels, depth, [instance_number(item) for item in slices])
    if isinstance(grid, NotAVolume):
        return grid
    step, jitter = grid
    row_spacing, column_spacing = numbers(first, "PixelSpacing", 2)  # PS3.3 10.7.1.3: between rows first
    offsets = positions @ np.stack([column_cosine, row_cosine]).T  # (n, 2) in-plane, mm: down, across
    shear, residual = shear_fit(offsets, depth)
    notes = [left_out] if left_out else []
    if residual > max(IN_PLANE_TOLERANCE * min(row_spacing, column_spacing), POSITION_TOLERANCE_MM):
        worst = int(np.argmax(np.linalg.norm(offsets - offsets[0] - np.outer(depth - depth[0], shear), axis=1)))
        return NotAVolume(f"slice origins do not lie on one line: {labels[worst]} is {residual:.3g} mm off it",
                          "misaligned")
    shifts = None
    drift = float((np.abs(shear) * (depth[-1] - depth[0]) / (row_spacing, column_spacing)).max())  # pixels
    tilt = np.degrees(np.arctan(np.linalg.norm(shear)))
    if drift > TILT_CORRECTION_PIXELS:
        shifts = np.outer(depth - depth[0], shear) / (row_spacing, column_spacing)
        notes.append(f"gantry tilt of {tilt:.2f}° corrected: each slice shifted in-plane onto the slice normal "
                     f"(linear interpolation, up to {np.abs(shifts).max():.2f} pixels)")
    elif drift > IN_PLANE_TOLERANCE:
        notes.append(f"slice origins drift {drift:.2f} pixels off the normal across the series (a tilt of "
                     f"{tilt:.2g}°): too little to resample, not corrected")
    if jitter > 1e-3:
        notes.append(f"slice positions deviate up to {jitter:.2g} mm from a regular grid (tolerated)")
    rescales, modality = per_slice_rescales(slices)
    if rescales is not None:
        notes.append(f"{len(set(map(tuple, rescales.tolist())))} different Rescale Slope/Intercept values, kept "
                     "per slice: views and measurements use modality values")
    try:
        voxels = load_voxels(slices, shifts)
    except UnreadableFile as exc:
        return NotAVolume(f"the pixels of a slice cannot be read ({exc})", "pixels")
    return Volume(voxels=voxels, origin=positions[0], axes=np.stack([normal, column_cosine, row_cosine]),
                  spacing=(float(step), float(row_spacing), float(column_spacing)), modality=modality,
                  labels=tuple(labels), notes=tuple(notes), rescales=rescales)


def per_slice_rescales(slices: list[Slice]) -> tuple[np.ndarray | None, Dataset]:
    """(slope, intercept) per slice and the identity-rescale view of the first slice the views then render
    with, when slices rescale differently (PET); else None and the first slice's dataset."""
    first = slices[0].dataset
    pairs = np.array([rescale(item.dataset) for item in slices], float) if "ModalityLUTSequence" not in first else None
    if pairs is None or (pairs == pairs[0]).all():
        return None, first
    modality = Dataset()
    for tag in first.keys():  # shares the elements (none is changed); the two below are replaced in the copy only
        if tag not in PIXEL_TAGS:  # nor read, if still in the file (dicomview.deferred)
            modality.add(first[tag])
    modality.RescaleSlope, modality.RescaleIntercept = "1", "0"
    return pairs, modality
