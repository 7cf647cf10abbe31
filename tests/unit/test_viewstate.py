"""Gesture maths: window/level drag, zoom about a point, pan, one-to-one, stepping."""

import pytest

from dicomview.pipeline import Window
from dicomview.viewstate import FIT, View, drag_pan, drag_window, drag_zoom, one_to_one, step, zoom_about


def test_horizontal_drag_changes_width_vertical_changes_center():
    start = Window(40, 400)
    assert drag_window(start, 50, 0, 1000) == Window(40, 500)  # 1000 units over 500 px: 2 per px
    assert drag_window(start, 0, -25, 1000) == Window(-10, 400)
    assert drag_window(start, -1000, 0, 1000).width == 1  # never below 1 (PS3.3 C.11.2.1.2)


def test_zoom_keeps_the_point_under_the_cursor():
    view = zoom_about(FIT, 2.0, 100, -50)
    assert view.zoom == 2.0
    # the image point under the cursor (p = (100, -50) at fit) is shown at pan + zoom * p: still the cursor
    assert (view.pan_x + view.zoom * 100, view.pan_y + view.zoom * -50) == (100, -50)
    again = zoom_about(view, 1.5, -30, 20)
    p = ((-30 - view.pan_x) / view.zoom, (20 - view.pan_y) / view.zoom)
    assert (again.pan_x + again.zoom * p[0], again.pan_y + again.zoom * p[1]) == pytest.approx((-30, 20))


def test_zoom_is_clamped_and_drag_zoom_goes_in_when_dragging_up():
    assert zoom_about(FIT, 1e9, 0, 0).zoom == 64.0
    assert drag_zoom(FIT, -50).zoom > 1 > drag_zoom(FIT, 50).zoom


def test_pan_and_transform():
    view = drag_pan(View(zoom=2.0), 10, -4)
    assert view.css_transform() == "translate(10.00px, -4.00px) scale(2.00000)"


def test_one_to_one_for_a_512_image_fitted_in_a_256_square():
    assert one_to_one(FIT, (256, 300), (512, 512)).zoom == 2.0


def test_step_stops_at_the_ends():
    assert [step(0, 3, -1), step(1, 3, 1), step(2, 3, 1), step(0, 0, 1)] == [0, 2, 2, 0]
