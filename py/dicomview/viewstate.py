"""How the user's gestures change what is shown: window/level drag, zoom, pan, frame stepping.

Plain Python, so the browser layer only forwards pointer, wheel and key events here. Conventions
follow clinical viewers (OHIF, Weasis): left-drag horizontal = window width, vertical = window
center (down = brighter centre value, so the image darkens); zoom and pan are a CSS transform of the
image layers, never a resampling of canvas#image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from dicomview.pipeline import Window

MIN_ZOOM, MAX_ZOOM = 0.05, 64.0
WHEEL_ZOOM_STEP = 1.1  # per wheel notch (100 px of deltaY)
DRAG_ZOOM_PER_PIXEL = 1.01


@dataclass(frozen=True)
class View:
    """Zoom relative to the fitted image (1 = fit), pan in CSS pixels, the user's inversion and flips
    (a flip mirrors the image about its own centre, inside the zoom and pan)."""

    zoom: float = 1.0
    pan_x: float = 0.0
    pan_y: float = 0.0
    inverted: bool = False
    flip_horizontal: bool = False
    flip_vertical: bool = False

    def css_transform(self) -> str:
        transform = f"translate({self.pan_x:.2f}px, {self.pan_y:.2f}px) scale({self.zoom:.5f})"
        if self.flip_horizontal or self.flip_vertical:
            transform += f" scale({-1 if self.flip_horizontal else 1}, {-1 if self.flip_vertical else 1})"
        return transform


FIT = View()
Point = tuple[float, float]


def window_sensitivity(value_span: float) -> float:
    """Modality units per dragged CSS pixel: the frame's value span crossed in about 500 pixels."""
    return max(value_span / 500.0, 0.01)


def drag_window(start: Window, dx: float, dy: float, value_span: float) -> Window:
    """Window after a left-drag of (dx, dy) CSS pixels from `start`: width follows x, center follows y."""
    step = window_sensitivity(value_span)
    width = max(start.width + dx * step, 1.0)
    return Window(start.center + dy * step, width, start.function)


def clamp_zoom(zoom: float) -> float:
    return min(max(zoom, MIN_ZOOM), MAX_ZOOM)


def zoom_about(view: View, factor: float, x: float, y: float) -> View:
    """Zoom by `factor` keeping the point (x, y) fixed; x, y relative to the viewport's centre."""
    zoom = clamp_zoom(view.zoom * factor)
    ratio = zoom / view.zoom
    return replace(view, zoom=zoom, pan_x=x - (x - view.pan_x) * ratio, pan_y=y - (y - view.pan_y) * ratio)


def wheel_zoom_factor(delta_y: float) -> float:
    """Ctrl+wheel: up (negative delta) zooms in."""
    return WHEEL_ZOOM_STEP ** (-delta_y / 100.0)


def drag_zoom(start: View, dy: float) -> View:
    """Right-drag: up zooms in, about the viewport's centre."""
    return zoom_about(start, DRAG_ZOOM_PER_PIXEL ** (-dy), 0.0, 0.0)


def drag_pan(start: View, dx: float, dy: float) -> View:
    return replace(start, pan_x=start.pan_x + dx, pan_y=start.pan_y + dy)


def pinch(start: View, before: tuple[Point, Point], after: tuple[Point, Point]) -> View:
    """Two fingers moved from `before` to `after` (points relative to the viewport's centre): zoom by
    the change of their distance about their first midpoint, and pan by the move of their midpoint,
    so the image point under the fingers stays under them (OHIF, Weasis and maps on phones do this)."""
    (ax, ay), (bx, by) = before
    (cx, cy), (dx, dy) = after
    distance = math.hypot(bx - ax, by - ay)
    factor = math.hypot(dx - cx, dy - cy) / distance if distance else 1.0
    mid_x, mid_y = (ax + bx) / 2, (ay + by) / 2
    zoomed = zoom_about(start, factor, mid_x, mid_y)
    return drag_pan(zoomed, (cx + dx) / 2 - mid_x, (cy + dy) / 2 - mid_y)


def fit(view: View) -> View:
    """The image fitted and centred again; flips stay (they are a reading choice, not a zoom)."""
    return replace(view, zoom=1.0, pan_x=0.0, pan_y=0.0)


def flip(view: View, horizontal: bool) -> View:
    """Mirror left-right (horizontal) or top-bottom."""
    if horizontal:
        return replace(view, flip_horizontal=not view.flip_horizontal)
    return replace(view, flip_vertical=not view.flip_vertical)


def fitted_scale(viewport: tuple[float, float], image: tuple[int, int]) -> float:
    """CSS pixels per image pixel when the image (columns x rows) is fitted in the viewport."""
    return min(viewport[0] / image[0], viewport[1] / image[1])


def display_scale(view: View, viewport: tuple[float, float], image: tuple[int, int]) -> float:
    """CSS pixels per image pixel as shown: the fit times the zoom."""
    return fitted_scale(viewport, image) * view.zoom


def one_to_one(view: View, viewport: tuple[float, float], image: tuple[int, int]) -> View:
    """Zoom so that one image pixel covers one CSS pixel, centred (image is columns x rows)."""
    return replace(view, zoom=clamp_zoom(1.0 / fitted_scale(viewport, image)), pan_x=0.0, pan_y=0.0)


def step(current: int, count: int, delta: int) -> int:
    """Next or previous frame or image, stopping at the ends (no wrap: a reader knows where he is)."""
    return min(max(current + delta, 0), count - 1) if count else 0


def client_to_pixel(box: tuple[float, float, float, float], image: tuple[int, int], x: float, y: float,
                    view: View = FIT) -> tuple[int, int]:
    """(row, column) of the image pixel under client point (x, y). `box` is the image layer's
    (left, top, width, height) on screen, transform included; the image sits in it with
    object-fit: contain (centred, uniform scale); `image` is (columns, rows); `view` tells the flips."""
    left, top, width, height = box
    scale = min(width / image[0], height / image[1])
    x0 = left + (width - image[0] * scale) / 2
    y0 = top + (height - image[1] * scale) / 2
    row, column = int((y - y0) // scale), int((x - x0) // scale)
    if view.flip_vertical:
        row = image[1] - 1 - row
    if view.flip_horizontal:
        column = image[0] - 1 - column
    return row, column
