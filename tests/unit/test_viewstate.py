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


def test_pinch_zooms_by_the_finger_distance_and_keeps_the_image_under_the_fingers():
    from dicomview.viewstate import pinch

    start = View(zoom=1.5, pan_x=10, pan_y=-20)
    before, after = ((-50, 0), (50, 0)), ((-90, 30), (110, 30))  # 100 px apart, then 200 px; midpoint moves
    view = pinch(start, before, after)
    assert view.zoom == 3.0
    # the image point under the first midpoint (0, 0) is now under the new midpoint (10, 30)
    image_point = ((0 - start.pan_x) / start.zoom, (0 - start.pan_y) / start.zoom)
    assert (view.pan_x + view.zoom * image_point[0], view.pan_y + view.zoom * image_point[1]) == pytest.approx((10, 30))


def test_two_fingers_moving_together_only_pan():
    from dicomview.viewstate import pinch

    view = pinch(FIT, ((0, 0), (0, 80)), ((25, -10), (25, 70)))
    assert (view.zoom, view.pan_x, view.pan_y) == (1.0, 25, -10)
    assert pinch(FIT, ((5, 5), (5, 5)), ((9, 5), (5, 9))).zoom == 1.0  # fingers on one point: no zoom


def test_flips_mirror_the_transform_and_the_pixel_under_the_cursor_and_fit_keeps_them():
    from dicomview.viewstate import client_to_pixel, fit, flip

    view = flip(flip(View(zoom=2.0, pan_x=3), True), False)
    assert view.css_transform() == "translate(3.00px, 0.00px) scale(2.00000) scale(-1, -1)"
    assert flip(flip(FIT, True), True) == FIT
    box = (100, 50, 400, 200)  # a 4x2 image shown at 100 px per pixel
    assert client_to_pixel(box, (4, 2), 110, 60) == (0, 0)
    assert client_to_pixel(box, (4, 2), 110, 60, flip(FIT, True)) == (0, 3)
    assert client_to_pixel(box, (4, 2), 110, 60, view) == (1, 3)
    assert fit(view) == View(flip_horizontal=True, flip_vertical=True)


def test_display_scale_is_the_fit_times_the_zoom():
    from dicomview.viewstate import display_scale

    assert display_scale(View(zoom=1.5), (1000, 600), (512, 512)) == pytest.approx(600 / 512 * 1.5)
