"""Axial, coronal and sagittal views of a Volume, on its own grid.

A view is the volume's voxel array turned (axes moved, transposed, flipped) so that its rows and
columns point where a reader expects: no interpolation, so every output pixel is a stored voxel and the
result stays in the stored dtype (or, for a volume with a rescale per slice, is that voxel's modality
value in float32). Only the voxels a view shows are gathered. The three planes of the grid are named
after the patient axis their normal is nearest (PS3.3 C.7.6.2.1.1: x to the patient's left, y to
posterior, z to head): x sagittal, y coronal, z axial; an oblique acquisition gives oblique views,
and each view says how far off it is.

Screen directions follow the radiological convention: axial with the patient's left on the screen's
right and anterior up; coronal with left on the right and head up; sagittal with anterior on the left
and head up. The displayed aspect follows the physical spacing of the output rows and columns.

A shared crosshair is a point in patient coordinates (mm); each view maps it to its slice index, row
and column. A slab combines neighbouring slices of a view: maximum (MIP), minimum (MinIP) or mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations

import numpy as np

from dicomview.volume import Volume

VIEWS = ("axial", "coronal", "sagittal")
PATIENT_NORMALS = {"sagittal": (1.0, 0.0, 0.0), "coronal": (0.0, 1.0, 0.0), "axial": (0.0, 0.0, 1.0)}
SCREEN = {  # patient directions of the screen's right and down, per view (radiological convention)
    "axial": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
    "coronal": ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0)),
    "sagittal": ((0.0, 1.0, 0.0), (0.0, 0.0, -1.0)),
}
TRUE_PLANE_DEGREES = 0.5
"""A plane within this angle of its patient plane is called by the name alone, not "oblique"."""
SLAB_MODES = ("mip", "minip", "mean")


@dataclass(frozen=True)
class Plane:
    """One view of a volume: which array axis it steps through, which run down and across the screen."""

    name: str  # axial | coronal | sagittal
    axis: int  # array axis across the plane: the view's slice index
    row_axis: int  # array axis down the screen
    column_axis: int  # array axis across the screen
    flip_rows: bool
    flip_columns: bool
    obliquity: float  # degrees between the plane's normal and the patient axis it is named after
    slice_spacing: float  # mm between the view's slices
    row_spacing: float  # mm between output rows
    column_spacing: float  # mm between output columns

    @property
    def label(self) -> str:
        """What the view shows, plain: 'coronal', or 'oblique coronal (20.0° from true coronal)'."""
        if self.obliquity < TRUE_PLANE_DEGREES:
            return self.name
        return f"oblique {self.name} ({self.obliquity:.1f}° from true {self.name})"

    @property
    def aspect(self) -> float:
        """Displayed width / height of one output pixel, for a display in true proportions."""
        return self.column_spacing / self.row_spacing


def plane_names(axes: np.ndarray) -> dict[str, int]:
    """Each view name -> the array axis whose direction is nearest its patient normal, all three
    distinct (the assignment with the largest total alignment)."""
    alignment = np.abs(axes @ np.array([PATIENT_NORMALS[name] for name in VIEWS]).T)  # [axis, view]
    best = max(permutations(range(3)), key=lambda order: sum(alignment[order[v], v] for v in range(3)))
    return {name: best[v] for v, name in enumerate(VIEWS)}


def make_plane(volume: Volume, name: str, axis: int) -> Plane:
    """Lay the other two array axes along the screen's right and down for this view (PS3.3 C.7.6.2.1.1)."""
    right, down = (np.array(v) for v in SCREEN[name])
    first, second = (a for a in range(3) if a != axis)
    keep = abs(volume.axes[second] @ right) + abs(volume.axes[first] @ down)
    swap = abs(volume.axes[first] @ right) + abs(volume.axes[second] @ down)
    row_axis, column_axis = (second, first) if swap > keep else (first, second)
    cosine = abs(float(volume.axes[axis] @ np.array(PATIENT_NORMALS[name])))
    return Plane(name=name, axis=axis, row_axis=row_axis, column_axis=column_axis,
                 flip_rows=bool(volume.axes[row_axis] @ down < 0),
                 flip_columns=bool(volume.axes[column_axis] @ right < 0),
                 obliquity=float(np.degrees(np.arccos(min(cosine, 1.0)))),
                 slice_spacing=volume.spacing[axis], row_spacing=volume.spacing[row_axis],
                 column_spacing=volume.spacing[column_axis])


def planes(volume: Volume) -> dict[str, Plane]:
    """The three views of a volume, by name."""
    return {name: make_plane(volume, name, axis) for name, axis in plane_names(volume.axes).items()}


def view_block(volume: Volume, plane: Plane, start: int, stop: int) -> np.ndarray:
    """The view's slices start..stop as (view slice, row, column), flipped for the screen: only those
    voxels are gathered (a view of an array volume; for a stack of slices, a copy of just the block)."""
    key = [slice(None)] * 3
    key[plane.axis] = slice(start, stop)
    block = volume.voxels[tuple(key)]
    if volume.rescales is not None:  # a rescale per acquired slice (array axis 0): modality values
        chosen = volume.rescales[start:stop] if plane.axis == 0 else volume.rescales
        slope, intercept = (chosen[:, n].astype(np.float32).reshape(-1, 1, 1) for n in (0, 1))
        block = block.astype(np.float32) * slope + intercept
    view = np.moveaxis(block, (plane.axis, plane.row_axis, plane.column_axis), (0, 1, 2))
    return view[:, ::-1 if plane.flip_rows else 1, ::-1 if plane.flip_columns else 1]


def slice_count(volume: Volume, plane: Plane) -> int:
    return volume.voxels.shape[plane.axis]


def plane_image(volume: Volume, plane: Plane, index: int) -> np.ndarray:
    """Slice `index` of the view, stored values."""
    if not 0 <= index < slice_count(volume, plane):
        raise IndexError(f"slice {index} of a view with {slice_count(volume, plane)} slices")
    return view_block(volume, plane, index, index + 1)[0]


def slab_range(index: int, thickness: int, count: int) -> tuple[int, int]:
    """The `thickness` slices centred on `index` (one more after than before when even), within 0..count."""
    thickness = max(thickness, 1)
    start = index - (thickness - 1) // 2
    return max(start, 0), min(start + thickness, count)


def slab_slices(plane: Plane, millimetres: float) -> int:
    """How many of the view's slices make a slab about `millimetres` thick (at least one)."""
    return max(1, round(millimetres / plane.slice_spacing))


def slab_image(volume: Volume, plane: Plane, index: int, thickness: int, mode: str) -> np.ndarray:
    """Maximum (mip), minimum (minip) or mean of `thickness` slices of the view around `index`, in the
    stored dtype (float32 modality values for a volume with a rescale per slice). The mean sums in
    float32 over the slab only, then rounds to the stored dtype."""
    if mode not in SLAB_MODES:
        raise ValueError(f"slab mode must be one of {SLAB_MODES}, not {mode!r}")
    start, stop = slab_range(index, thickness, slice_count(volume, plane))
    slab = view_block(volume, plane, start, stop)
    if mode == "mip":
        return slab.max(axis=0)
    if mode == "minip":
        return slab.min(axis=0)
    mean = slab.mean(axis=0, dtype=np.float32)
    return mean if slab.dtype.kind == "f" else np.rint(mean, out=mean).astype(slab.dtype)


# --- the crosshair: one patient point, seen from each view ---------------------------------------


def view_point(volume: Volume, plane: Plane, point: np.ndarray) -> tuple[float, float, float]:
    """A patient point (mm) as (slice index, row, column) of the view, fractional; pixel centres are whole."""
    voxel = volume.patient_to_voxel(point)
    shape = volume.voxels.shape
    row = shape[plane.row_axis] - 1 - voxel[plane.row_axis] if plane.flip_rows else voxel[plane.row_axis]
    column = (shape[plane.column_axis] - 1 - voxel[plane.column_axis] if plane.flip_columns
              else voxel[plane.column_axis])
    return float(voxel[plane.axis]), float(row), float(column)


def patient_point(volume: Volume, plane: Plane, index: float, row: float, column: float) -> np.ndarray:
    """The patient point (mm) at (slice index, row, column) of the view: the inverse of view_point."""
    shape = volume.voxels.shape
    voxel = np.zeros(3)
    voxel[plane.axis] = index
    voxel[plane.row_axis] = shape[plane.row_axis] - 1 - row if plane.flip_rows else row
    voxel[plane.column_axis] = shape[plane.column_axis] - 1 - column if plane.flip_columns else column
    return volume.voxel_to_patient(voxel)


def nearest_slice(volume: Volume, plane: Plane, point: np.ndarray) -> int:
    """The view's slice through (or nearest to) a patient point, within the volume."""
    index, _, _ = view_point(volume, plane, point)
    return int(np.clip(round(index), 0, slice_count(volume, plane) - 1))


def centre(volume: Volume) -> np.ndarray:
    """The patient point at the middle voxel: where the crosshair starts."""
    return volume.voxel_to_patient([(n - 1) // 2 for n in volume.voxels.shape])
