"""Small DOM helpers shared by the page's modules: lookups, text-only elements, listeners, pixels to a canvas."""

from __future__ import annotations

from js import Uint8ClampedArray
from pyodide.ffi import create_proxy

from dicomview.web.host import ImageData, Transfer, document

_elements: dict[str, object] = {}


def element(element_id: str):
    """The page's element with this id, looked up once: the page's elements with ids are made once and
    kept (index.html, and the parts web/ adds when it starts), and each lookup crosses to the page."""
    found = _elements.get(element_id)
    if found is None:
        found = document.getElementById(element_id)
        if found is not None:
            _elements[element_id] = found
    return found


def make(tag: str, text: str = "", **attributes: str):
    """An element whose content is text (never HTML); class_ -> class, data_x -> data-x."""
    node = document.createElement(tag)
    node.textContent = text
    for name, value in attributes.items():
        node.setAttribute(name.rstrip("_").replace("_", "-"), value)
    return node


def listen(target, name: str, handler) -> None:
    """`handler` for the page's `name` events on `target`, for the page's lifetime: host.py keeps it and
    the page calls it by number (the page prevents default actions itself: site/boot.js)."""
    target.addEventListener(name, handler)


_canvas_sizes: dict[int, tuple[int, int]] = {}


def put_pixels(canvas, rgba) -> None:
    """Hand the RGBA array to the page's canvas: one copy out of the heap, moved to the page (host.Transfer)."""
    rows, columns = rgba.shape[:2]
    if _canvas_sizes.get(canvas._number) != (columns, rows):  # only this code sizes these canvases
        canvas.width, canvas.height = columns, rows
        _canvas_sizes[canvas._number] = (columns, rows)
    proxy = create_proxy(rgba)
    buffer = proxy.getBuffer("u8clamped")
    try:
        pixels = Uint8ClampedArray.new(buffer.data)  # this image only: the view's buffer is the whole heap
        canvas.getContext("2d").putImageData(ImageData.new(Transfer(pixels), columns, rows), 0, 0)
    finally:
        buffer.release()
        proxy.destroy()


def clear_canvas(canvas, rows: int, columns: int) -> None:
    """A transparent canvas of this size, with no pixels sent: setting its width clears it."""
    canvas.width, canvas.height = columns, rows
    _canvas_sizes[canvas._number] = (columns, rows)


def resize_canvas(canvas, rows: int, columns: int) -> None:
    """A canvas already transparent, sized for this image (cleared only if the size changes)."""
    if _canvas_sizes.get(canvas._number) != (columns, rows):
        clear_canvas(canvas, rows, columns)


def show_rendered(canvas, rgba, *, sop_instance_uid: str, frame: int, window, **extra: str) -> None:
    """Pixels to the canvas, then the automation contract's attributes (DESIGN §7) saying what they are:
    the same for canvas#image and every canvas[data-view]; `extra` adds a view's own (data_x -> data-x).
    The render is announced (data-render-count) by `announce_render` once everything drawn with it is."""
    put_pixels(canvas, rgba)
    attributes = {
        "data-sop-instance-uid": sop_instance_uid,
        "data-frame": str(frame),
        "data-window-center": "" if window is None else f"{window.center:g}",
        "data-window-width": "" if window is None else f"{window.width:g}",
        **{name.replace("_", "-"): value for name, value in extra.items()},
    }
    for name, value in attributes.items():
        canvas.setAttribute(name, value)


def announce_render(canvas, render_count: int) -> None:
    """The contract's signal that a render and all that goes with it (info, controls, annotations) is on the
    page: tests and tools wait for it. Python runs in a worker, so the page shows each step as it comes,
    and this one must come last."""
    canvas.setAttribute("data-render-count", str(render_count))
