"""Overlay planes (PS3.3 C.9.2, groups 6000-601E) as a transparent RGBA layer above the image.

Overlays are drawn in the annotation layer, never into canvas#image, so the image pixels stay
exactly the pipeline's. Separate overlays (Overlay Data, one bit per pixel) come from pydicom's
`overlay_array`; embedded ones (the retired form, PS3.5 8.1.2: bits above Bits Stored inside
Pixel Data) are read from the frame's raw words, because pydicom masks those bits off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset

from dicomview import deferred

OVERLAY_GROUPS = range(0x6000, 0x6020, 2)
OVERLAY_COLOUR = (255, 224, 64)  # a yellow that stands out on any grey


@dataclass(frozen=True)
class Overlay:
    """One overlay plane placed on the image: mask[r, c] is True where the overlay is set."""

    group: int
    label: str
    mask: np.ndarray


def overlay_groups(ds: Dataset) -> list[int]:
    """The groups that hold an overlay plane (Overlay Rows present)."""
    return [group for group in OVERLAY_GROUPS if (group, 0x0010) in ds]


def overlay_value(ds: Dataset, group: int, element: int, default=None):
    return ds[group, element].value if (group, element) in ds else default


def plane_frames(ds: Dataset, group: int, image_frame: int) -> int | None:
    """Which frame of the overlay applies to this image frame (Image Frame Origin, PS3.3 C.9.2.1.2)."""
    origin = int(overlay_value(ds, group, 0x0051, 1) or 1) - 1
    count = int(overlay_value(ds, group, 0x0015, 1) or 1)
    index = image_frame - origin
    return index if 0 <= index < count else None


def embedded_bits(ds: Dataset, group: int, image_frame: int) -> np.ndarray | None:
    """The overlay bit of an embedded overlay, from the frame's raw words (native syntaxes only)."""
    bits_allocated = int(ds.BitsAllocated)
    if bits_allocated not in (8, 16) or ds.file_meta.TransferSyntaxUID.is_compressed:
        return None
    rows, columns = int(ds.Rows), int(ds.Columns)
    order = "<" if ds.file_meta.TransferSyntaxUID.is_little_endian else ">"
    words = np.frombuffer(ds.PixelData, dtype=f"{order}u{bits_allocated // 8}",
                          count=rows * columns, offset=image_frame * rows * columns * bits_allocated // 8)
    position = int(overlay_value(ds, group, 0x0102, 0))
    bits = ((words >> position) & 1).reshape(rows, columns).astype(bool)
    deferred.release(ds)  # read from the file for this, if left there: given back as after a decode
    return bits


def place(plane: np.ndarray, origin: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    """Put an overlay plane on the image grid at Overlay Origin (1-based row, column; may be off-image)."""
    mask = np.zeros(shape, dtype=bool)
    top, left = origin[0] - 1, origin[1] - 1
    rows = slice(max(top, 0), min(top + plane.shape[0], shape[0]))
    columns = slice(max(left, 0), min(left + plane.shape[1], shape[1]))
    if rows.start < rows.stop and columns.start < columns.stop:
        mask[rows, columns] = plane[rows.start - top:rows.stop - top, columns.start - left:columns.stop - left]
    return mask


def frame_overlays(ds: Dataset, image_frame: int = 0) -> list[Overlay]:
    """Every overlay plane that applies to `image_frame`, placed on the image grid."""
    shape = (int(ds.Rows), int(ds.Columns))
    overlays = []
    for group in overlay_groups(ds):
        index = plane_frames(ds, group, image_frame)
        if index is None:
            continue
        try:
            if (group, 0x3000) in ds:  # separate Overlay Data
                planes = np.asarray(ds.overlay_array(group))
                plane = planes[index] if planes.ndim == 3 else planes
            else:
                plane = embedded_bits(ds, group, image_frame)
                if plane is None:
                    continue
            origin = tuple(int(v) for v in overlay_value(ds, group, 0x0050, [1, 1]))
        except (ValueError, TypeError, AttributeError, IndexError):
            continue  # a malformed overlay is left out; the image itself is still shown
        label = str(overlay_value(ds, group, 0x0022, "") or overlay_value(ds, group, 0x1500, "") or "")
        overlays.append(Overlay(group, label or f"Overlay {group:04X}", place(plane.astype(bool), origin, shape)))
    return overlays


def overlays_to_rgba(overlays: list[Overlay], shape: tuple[int, int]) -> np.ndarray:
    """One transparent RGBA layer with every overlay's set pixels in OVERLAY_COLOUR."""
    rgba = np.zeros((*shape, 4), dtype=np.uint8)
    if overlays:
        union = np.logical_or.reduce([overlay.mask for overlay in overlays])
        rgba[union] = (*OVERLAY_COLOUR, 255)
    return rgba
