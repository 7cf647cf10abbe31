"""The state of the three linked views of a volume, in plain Python: the browser layer turns events into
calls here and draws what comes back.

One crosshair point (patient mm) links the views: a click in one view moves it, and each view shows
the slice through it. Windows are shared by the three views or kept per view; a slab (MIP, MinIP,
mean) of a thickness in mm applies to every view; layouts show one view (the active one), three in a
row, or three in a 2x2 grid whose fourth cell holds the measurement list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dicomview.measure import KINDS, Measurement, Measurements, Point, modality_unit
from dicomview.pipeline import Window, min_max_window
from dicomview.render import RenderedFrame, default_voi_key, render_greyscale
from dicomview.reslice import (
    VIEWS,
    Plane,
    centre,
    nearest_slice,
    patient_point,
    plane_image,
    planes,
    slab_image,
    slab_slices,
    slice_count,
    view_point,
)
from dicomview.viewstate import drag_window
from dicomview.volume import Volume

LAYOUTS = ("1x1", "1x3", "2x2")
TOOLS = ("crosshair", *KINDS)
STEP_KEYS = {"ArrowUp": -1, "PageUp": -1, "ArrowLeft": -1, "ArrowDown": 1, "PageDown": 1, "ArrowRight": 1}
VOLUME_KEYS = (*STEP_KEYS, "Delete", "Backspace", "Escape")  # what `key` may act on
SLAB_CHOICES = ("none", "mip", "minip", "mean")


@dataclass
class ViewWindow:
    """A view's VOI: a key of render.voi_choices, or a window the user set (wins when present)."""

    voi_key: str | None = None
    window: Window | None = None


@dataclass
class Mpr:
    """Three linked views of one volume."""

    volume: Volume
    layout: str = "1x3"
    active: str = "axial"
    linked_windows: bool = True
    slab_mode: str = "none"
    slab_mm: float = 0.0
    point: np.ndarray = field(default=None)
    windows: dict[str, ViewWindow] = field(default_factory=dict)
    measurements: Measurements = field(default_factory=Measurements)
    tool: str = "crosshair"
    pending: list[Point] = field(default_factory=list)  # points of a measurement being drawn...
    pending_view: str = ""  # ...on this view
    dragging: tuple | None = None  # ("crosshair", view), ("handle", number, point), ("window", view, start, span)

    def __post_init__(self) -> None:
        self.planes: dict[str, Plane] = planes(self.volume)
        if self.point is None:
            self.point = centre(self.volume)
        for name in VIEWS:
            self.windows.setdefault(name, ViewWindow(default_voi_key(self.volume.modality)))

    # --- what each view shows ----------------------------------------------------------------
    def index(self, view: str) -> int:
        """The view's slice: the one through the crosshair point."""
        return nearest_slice(self.volume, self.planes[view], self.point)

    def count(self, view: str) -> int:
        return slice_count(self.volume, self.planes[view])

    def crosshair(self, view: str) -> tuple[float, float]:
        """Where the crosshair point falls in the view: (row, column), output pixels."""
        _, row, column = view_point(self.volume, self.planes[view], self.point)
        return row, column

    def image(self, view: str, index: int | None = None) -> np.ndarray:
        """Stored values the view shows at its slice (or at `index`): the slice, or the slab around it."""
        plane = self.planes[view]
        index = self.index(view) if index is None else index
        if self.slab_mode == "none":
            return plane_image(self.volume, plane, index)
        return slab_image(self.volume, plane, index, slab_slices(plane, self.slab_mm), self.slab_mode)

    def render(self, view: str) -> RenderedFrame:
        choice = self.windows[view]
        return render_greyscale(self.volume.modality, self.image(view), choice.voi_key, choice.window)

    def readout(self) -> str:
        """The crosshair point in patient mm (LPS) and the modality value of the voxel nearest it."""
        voxel = np.clip(np.rint(self.volume.patient_to_voxel(self.point)), 0, np.array(self.volume.voxels.shape) - 1)
        value = self.volume.modality_value(tuple(int(v) for v in voxel))
        unit = modality_unit(self.volume.modality)
        x, y, z = self.point
        return f"({x:.1f}, {y:.1f}, {z:.1f}) mm · {value:g}{' ' + unit if unit else ''}"

    def visible(self) -> tuple[str, ...]:
        return (self.active,) if self.layout == "1x1" else VIEWS

    def physical_size(self, view: str) -> tuple[float, float]:
        """Width and height of the view in mm: the displayed aspect."""
        plane = self.planes[view]
        rows, columns = self.image_shape(view)
        return columns * plane.column_spacing, rows * plane.row_spacing

    def image_shape(self, view: str) -> tuple[int, int]:
        return plane_image(self.volume, self.planes[view], 0).shape

    # --- what the user does --------------------------------------------------------------------
    def click(self, view: str, row: float, column: float) -> None:
        """Move the crosshair to a point of a view: the other views go to the slices through it."""
        self.active = view
        self.point = patient_point(self.volume, self.planes[view], self.index(view), row, column)

    def scroll(self, view: str, delta: int) -> None:
        """Step the view's slice; the crosshair point moves with it, so do the lines in the other views."""
        self.active = view
        index = int(np.clip(self.index(view) + delta, 0, self.count(view) - 1))
        row, column = self.crosshair(view)
        self.point = patient_point(self.volume, self.planes[view], index, row, column)

    def set_window(self, view: str, voi_key: str | None = None, window: Window | None = None) -> None:
        """A VOI choice or a dragged window for one view, or all three when windows are linked."""
        for name in VIEWS if self.linked_windows else (view,):
            self.windows[name] = ViewWindow(voi_key, window)

    def set_layout(self, layout: str) -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, not {layout!r}")
        self.layout = layout

    def set_slab(self, mode: str, millimetres: float) -> None:
        if mode not in SLAB_CHOICES:
            raise ValueError(f"slab must be one of {SLAB_CHOICES}, not {mode!r}")
        self.slab_mode, self.slab_mm = mode, max(float(millimetres), 0.0)

    # --- pointer: crosshair, drawing measurements point by point, dragging their handles ----------
    def set_tool(self, tool: str) -> None:
        if tool not in TOOLS:
            raise ValueError(f"tool must be one of {TOOLS}, not {tool!r}")
        self.tool, self.pending = tool, []

    def shown_measurements(self, view: str) -> list[Measurement]:
        return self.measurements.on(view, self.index(view))

    def handle_at(self, view: str, row: float, column: float, reach: tuple[float, float]) -> tuple[int, int] | None:
        """The measurement point within `reach` (rows, columns) of (row, column) on the view's slice, if any."""
        for item in reversed(self.shown_measurements(view)):
            for n, (r, c) in enumerate(item.points):
                if abs(r - row) <= reach[0] and abs(c - column) <= reach[1]:
                    return item.number, n
        return None

    def pointer_down(self, view: str, row: float, column: float, reach: tuple[float, float] = (1.0, 1.0)) -> str:
        """A press on a view: grab a measurement handle, else add a point of the tool's measurement
        (a measurement is made when it has its points), else move the crosshair. Returns what it did."""
        handle = self.handle_at(view, row, column, reach) if not self.pending else None
        if handle is not None:
            self.dragging = ("handle", *handle)
            return "handle"
        if self.tool == "crosshair":
            self.dragging = ("crosshair", view)
            self.click(view, row, column)
            return "crosshair"
        if self.pending and self.pending_view != view:
            self.pending = []
        self.pending_view = view
        self.pending.append((row, column))
        if len(self.pending) < KINDS[self.tool]:
            return "point"
        self.measurements.add(self.tool, view, self.index(view), self.pending)
        self.pending = []
        return "added"

    def pointer_move(self, view: str, row: float, column: float) -> bool:
        """Follow a drag; True when something changed."""
        if self.dragging is None or self.dragging[0] == "window":  # a window drag moves by screen pixels
            return False
        if self.dragging[0] == "crosshair":
            if self.dragging[1] == view:
                self.click(view, row, column)
            return True
        _, number, n = self.dragging
        _, item = self.measurements.find(number)
        points = list(item.points)
        points[n] = (row, column)
        self.measurements.edit(number, points)
        return True

    def pointer_up(self) -> None:
        self.dragging = None

    def start_window_drag(self, view: str) -> None:
        """A window drag starts from the view's current window (or its min-max) over its value span."""
        rendered = self.render(view)
        low, high = rendered.value_range
        self.active = view
        self.dragging = ("window", view, rendered.window or min_max_window(low, high), high - low)

    def drag_window_by(self, dx: float, dy: float) -> None:
        """The window dragged (dx, dy) CSS pixels from where the drag started (viewstate.drag_window)."""
        _, view, start, span = self.dragging
        self.set_window(view, window=drag_window(start, dx, dy, span))

    def key(self, key: str) -> bool:
        """Keys on the views: arrows and PageUp/PageDown step the active view's slices, Delete removes the
        last measurement on its slice, Escape drops a measurement being drawn. True when handled."""
        if key in STEP_KEYS:
            self.scroll(self.active, STEP_KEYS[key])
        elif key in ("Delete", "Backspace") and self.shown_measurements(self.active):
            self.measurements.delete(self.shown_measurements(self.active)[-1].number)
        elif key == "Escape" and self.pending:
            self.pending = []
        else:
            return False
        return True
