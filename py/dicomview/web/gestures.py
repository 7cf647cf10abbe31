"""Mouse, wheel, touch and keyboard on the image, turned into calls of dicomview.viewstate.

Left-drag (or one finger): window/level; right-drag, Ctrl+wheel or a two-finger pinch: zoom;
middle-drag, Shift+drag or two fingers: pan; wheel: next/previous frame (multi-frame) or image;
double-click: fit. Keys: R reset, I invert, F fit, 1 one-to-one, H and V flip, arrows and
PageUp/PageDown step, ? help; other modules add theirs to `key_actions`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dicomview import viewstate
from dicomview.pipeline import Window, min_max_window
from dicomview.readout import readout
from dicomview.render import frame_view
from dicomview.viewstate import FIT, Point, View
from dicomview.web.dom import element, listen
from dicomview.web.host import document, window

PREVIOUS_KEYS = ("ArrowUp", "ArrowLeft", "PageUp")
NEXT_KEYS = ("ArrowDown", "ArrowRight", "PageDown")
ACTIVATION_KEYS = (" ", "Enter")  # on a focused button these press it: leave them to the button
# The keys on_key acts on: those with an image shown, and those at any time. The page (site/boot.js) prevents
# their default action, which Python in its worker would do too late.
IMAGE_KEYS = ("r", "R", "i", "I", "f", "F", "h", "H", "v", "V", "1", *PREVIOUS_KEYS, *NEXT_KEYS)
ANY_TIME_KEYS = ("?", "Escape")


@dataclass(frozen=True)
class Drag:
    mode: str  # "window", "pan" or "zoom"
    x: float
    y: float
    view: View
    window: Window | None
    span: float


@dataclass(frozen=True)
class Pinch:
    """Two fingers down: where they were (relative to the viewport's centre) and the view then."""

    ids: tuple[int, int]
    before: tuple[Point, Point]
    view: View


class Gestures:
    """Owns the view (zoom, pan) of the page and routes gestures to the page's current image."""

    def __init__(self, page) -> None:
        self.page = page
        self.view = FIT
        self.drag: Drag | Pinch | None = None
        self.touches: dict[int, Point] = {}  # fingers down, by pointer id, in client coordinates
        self.key_actions: dict[str, Callable[[], None]] = {}
        self.cursor: Point | None = None  # where the mouse rests over the view, for the readout

    def attach(self) -> None:
        viewport = element("viewport")
        viewport.tabIndex = 0  # it takes the focus on a click, so Space there plays instead of pressing a button
        for name, handler in (
            ("pointerdown", self.on_pointer_down), ("pointermove", self.on_pointer_move),
            ("pointerup", self.on_pointer_up), ("pointercancel", self.on_pointer_up),
            ("dblclick", self.on_double_click),
            ("pointerleave", self.on_pointer_leave),
        ):
            listen(viewport, name, handler)
        listen(viewport, "wheel", self.on_wheel)  # site/boot.js keeps the page from scrolling
        listen(document, "keydown", self.on_key)
        listen(element("help-close"), "click", lambda event: self.toggle_help(False))

    def publish_keys(self, volume_keys) -> None:
        """Tell the page which keys are shortcuts (after every part added its key_actions)."""
        window.dicomviewShortcuts = {"anyTime": list(ANY_TIME_KEYS),
                                     "image": [*IMAGE_KEYS, *self.key_actions], "volume": list(volume_keys)}

    # --- pointer --------------------------------------------------------------------------------
    def on_pointer_down(self, event) -> None:
        rendered, image = self.page.last_rendered, self.page.current_image()
        if rendered is None or image is None or event.target.closest("#help") is not None:
            return
        self.focus_view()
        if event.pointerType == "touch" and self.touch_down(event):
            return
        if event.button == 1 or (event.button == 0 and event.shiftKey):
            mode = "pan"
        elif event.button == 2:
            mode = "zoom"
        elif event.button == 0 and rendered.voi_key:  # greyscale only: colour has no window
            mode = "window"
        else:
            return
        low, high = rendered.value_range
        start = rendered.window or min_max_window(low, high)
        self.drag = Drag(mode, event.clientX, event.clientY, self.view, start, high - low)  # captured: boot.js

    def focus_view(self, event=None) -> None:
        """Give the keys to the image (Space plays, not presses a button); for a list's click only when it
        came from a pointer (event.detail > 0), so keyboard users stay in the list."""
        if event is None or event.detail > 0:
            element("viewport").focus({"preventScroll": True})

    def touch_down(self, event) -> bool:
        """Track a finger; the second one turns the gesture into pinch and pan. True if handled here."""
        self.touches[event.pointerId] = (event.clientX, event.clientY)
        if len(self.touches) == 1:
            return False  # one finger windows, like the left button
        if len(self.touches) == 2:
            ids = tuple(self.touches)
            self.drag = Pinch(ids, tuple(self.from_centre(*self.touches[i]) for i in ids), self.view)
        return True

    def from_centre(self, x: float, y: float) -> Point:
        box = element("viewport").getBoundingClientRect()
        return x - box.left - box.width / 2, y - box.top - box.height / 2

    def on_pointer_move(self, event) -> None:
        if event.pointerId in self.touches:
            self.touches[event.pointerId] = (event.clientX, event.clientY)
        drag = self.drag
        if isinstance(drag, Pinch):
            if all(i in self.touches for i in drag.ids):
                after = tuple(self.from_centre(*self.touches[i]) for i in drag.ids)
                self.set_view(viewstate.pinch(drag.view, drag.before, after))
            return
        if drag is None:
            self.show_readout(event.clientX, event.clientY)
            return
        dx, dy = event.clientX - drag.x, event.clientY - drag.y
        if drag.mode == "window":
            self.page.current_image().window = viewstate.drag_window(drag.window, dx, dy, drag.span)
            self.page.request_render()
        elif drag.mode == "pan":
            self.set_view(viewstate.drag_pan(drag.view, dx, dy))
        else:
            self.set_view(viewstate.drag_zoom(drag.view, dy))

    def on_pointer_up(self, event) -> None:
        self.touches.pop(event.pointerId, None)
        if not isinstance(self.drag, Pinch) or len(self.touches) < 2:
            self.drag = None  # a finger left of a pinch does not start windowing

    def on_pointer_leave(self, event) -> None:
        self.cursor = None
        element("readout").textContent = ""

    def refresh_readout(self) -> None:
        """After a render or a view change under a resting cursor (cine, keys, zoom): the new value there."""
        if self.cursor is not None and self.drag is None:
            self.show_readout(*self.cursor)

    def on_double_click(self, event) -> None:
        self.set_view(viewstate.fit(self.view))

    def on_wheel(self, event) -> None:
        if self.page.current_image() is None:
            return
        if event.ctrlKey:
            x, y = self.from_centre(event.clientX, event.clientY)
            self.set_view(viewstate.zoom_about(self.view, viewstate.wheel_zoom_factor(event.deltaY), x, y))
        elif event.deltaY:
            self.step(1 if event.deltaY > 0 else -1)

    # --- keys -----------------------------------------------------------------------------------
    def on_key(self, event) -> None:
        """The shortcuts of publish_keys: what each does. Keep the two in step (the help's test checks it)."""
        if event.key == "Escape" and not element("help").hidden:  # from anywhere, a text field too
            self.toggle_help(False)
            return
        if event.target.closest("input, select, textarea") is not None or event.ctrlKey or event.metaKey:
            return
        if getattr(event, "dicomviewHandled", None):  # the volume views took it (web/mpr.py on_key)
            return
        key = event.key
        if key in ACTIVATION_KEYS and event.target.closest("button, summary, a[href]") is not None:
            return
        if key == "?":
            self.toggle_help(None)
        elif key == "Escape":
            self.toggle_help(False)
        elif self.page.current_image() is None:
            return
        elif key in ("r", "R"):
            self.reset()
        elif key in ("i", "I"):
            self.page.session.invert = not self.page.session.invert
            self.page.request_render()
        elif key in ("f", "F"):
            self.set_view(viewstate.fit(self.view))
        elif key in ("h", "H", "v", "V"):
            self.set_view(viewstate.flip(self.view, key in ("h", "H")))
        elif key == "1":
            box = element("viewport").getBoundingClientRect()
            ds = self.page.current_image().dataset
            self.set_view(viewstate.one_to_one(self.view, (box.width, box.height), (int(ds.Columns), int(ds.Rows))))
        elif key in PREVIOUS_KEYS or key in NEXT_KEYS:
            self.step(-1 if key in PREVIOUS_KEYS else 1)
        elif key in self.key_actions:
            self.key_actions[key]()
        # the page has prevented the key's default action already (site/boot.js, publish_keys)

    def show_readout(self, x: float, y: float) -> None:
        """Stored value, modality value with unit and patient position under the cursor."""
        self.cursor = (x, y)
        rendered, image = self.page.last_rendered, self.page.current_image()
        if rendered is None or image is None or rendered.stored is None:
            return
        box = element("image").getBoundingClientRect()
        ds = image.dataset
        row, column = viewstate.client_to_pixel(
            (box.left, box.top, box.width, box.height), (int(ds.Columns), int(ds.Rows)), x, y, self.view)
        shown = readout(frame_view(ds, image.frame), rendered.stored, row, column)
        element("readout").textContent = shown.text() if shown is not None else ""

    # --- effects --------------------------------------------------------------------------------
    def step(self, delta: int) -> None:
        """Through the frames of a multi-frame image, else through the images of its series."""
        page, image = self.page, self.page.current_image()
        if image.frames > 1:
            image.frame = viewstate.step(image.frame, image.frames, delta)
            page.request_render()
        else:
            index = page.session.step_in_series(delta)
            if index != page.session.current:
                page.show(index)

    def reset(self) -> None:
        image = self.page.current_image()
        image.window, image.voi_key = None, None
        self.page.session.invert = False
        self.set_view(FIT)
        self.page.request_render()

    def set_view(self, view: View) -> None:
        self.view = view
        stack = element("stack")
        stack.style.transform = view.css_transform()
        stack.dataset.zoom = f"{view.zoom:.4f}"
        self.page.annotations.update()

    def toggle_help(self, show: bool | None) -> None:
        help_panel = element("help")
        help_panel.hidden = help_panel.hidden is False if show is None else not show
