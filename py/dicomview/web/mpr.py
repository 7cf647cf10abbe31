"""The volume views on the page: three canvases (canvas[data-view="axial|coronal|sagittal"]) linked by a
crosshair, layouts, window, slab, measurement tools and their list. Thin glue: events become calls of
dicomview.mpr.Mpr, and what it returns is drawn.

Each view canvas holds its output image at natural size (one canvas pixel per output pixel) and carries
the contract attributes of canvas#image; its CSS size follows the physical spacing. The crosshair and
the measurements are drawn on an overlay canvas above it, never into it.
"""

from __future__ import annotations

import math

from dicomview.measure import describe, modality_unit
from dicomview.mpr import LAYOUTS, SLAB_CHOICES, TOOLS, Mpr
from dicomview.render import CUSTOM, modality_lut, voi_choices
from dicomview.reslice import VIEWS
from dicomview.volume import NotAVolume, build_volume
from dicomview.web.dom import announce_render, element, listen, make, show_rendered
from dicomview.web.host import document, window

SLAB_LABELS = {"none": "None", "mip": "MIP", "minip": "MinIP", "mean": "Mean"}
CROSSHAIR_COLOUR = "#ffd23f"
MEASURE_COLOUR = "#5ef38c"
HANDLE_REACH_CSS_PX = 8


def wasm_memory_bytes() -> int:
    """The size of Pyodide's WebAssembly memory: it only grows, so it is the tab's Python peak so far."""
    try:
        import pyodide_js

        return int(pyodide_js._module.HEAPU8.byteLength)
    except Exception:  # a private attribute: report 0 rather than fail the views
        return 0


def select(element_id: str, options: list[tuple[str, str]], value: str):
    node = make("select", id=element_id)
    node.append(*[make("option", label, value=key) for key, label in options])
    node.value = value
    return node


def labelled(text: str, control):
    label = make("label", text + " ")
    label.append(control)
    return label


class MprPage:
    """The volume views of the page's current series; built on demand by the Volume views button."""

    def __init__(self, page) -> None:
        self.page = page
        self.mpr: Mpr | None = None
        self.series = None
        self.images = {}  # label -> dataset, for each view's SOP Instance UID
        self.render_count = 0
        self.built = False
        self.listed: list[tuple] = []  # the measurement lines on the page
        self.drag_from = (0.0, 0.0)  # where a window drag started (CSS pixels)

    # --- the page's hooks ---------------------------------------------------------------------
    def attach(self) -> None:
        listen(element("volume-toggle"), "click", self.on_toggle)

    def offer(self, image) -> None:
        """After the 2-D view shows an image: offer the volume views when its series has several slices."""
        slices = [i for i in self.page.session.images if i.series == image.series]
        toggle = element("volume-toggle")
        toggle.hidden = len(slices) < 2 and image.frames < 2
        toggle.setAttribute("data-wasm-memory-bytes", str(wasm_memory_bytes()))  # for the memory benchmark

    # --- building -----------------------------------------------------------------------------
    def build_dom(self) -> None:
        """The views and controls, made once (text only, never HTML)."""
        self.built = True
        section = element("mpr")
        toolbar = make("div", class_="mpr-toolbar")
        toolbar.append(
            labelled("Layout", select("mpr-layout", [(k, k.replace("x", " × ")) for k in LAYOUTS], "1x3")),
            labelled("Tool", select("mpr-tool", [(k, k.capitalize()) for k in TOOLS], "crosshair")),
            labelled("Window", make("select", id="mpr-window")),
            labelled("Same window in all views", make("input", type="checkbox", id="mpr-link-windows")),
            labelled("Slab", select("mpr-slab", [(k, SLAB_LABELS[k]) for k in SLAB_CHOICES], "none")),
            labelled("mm", make("input", type="number", id="mpr-slab-mm", min="0", step="0.5", value="10")),
            make("output", id="mpr-readout", aria_label="Crosshair position and value"),
            make("span", "Left: tool · right-drag: window · wheel, arrows: slices · Delete: last measurement",
                 class_="mpr-hint"),
        )
        grid = make("div", class_="mpr-grid", id="mpr-grid", data_layout="1x3")
        for view in VIEWS:
            pane = make("div", class_="mpr-pane", data_pane=view)
            stack = make("div", class_="mpr-stack")
            stack.append(make("canvas", data_view=view, width="0", height="0", aria_label=f"{view} view"),
                         make("canvas", class_="mpr-overlay", data_overlay=view, width="0", height="0"))
            pane.append(make("div", view, class_="mpr-label", data_label_for=view), stack)
            grid.append(pane)
        grid.append(make("div", class_="mpr-pane mpr-info", data_pane="info"))
        section.append(toolbar, grid)
        panel = make("section", id="mpr-panel")
        panel.append(make("h2", "Volume"), make("p", id="mpr-status", role="status"),
                     make("ul", id="mpr-measurements", class_="mpr-measurements"))
        document.querySelector("aside.side").prepend(panel)
        element("mpr-link-windows").checked = True
        listen(element("mpr-layout"), "change", lambda e: self.change(lambda m: m.set_layout(e.target.value)))
        listen(element("mpr-tool"), "change", lambda e: self.change(lambda m: m.set_tool(e.target.value)))
        listen(element("mpr-window"), "change", self.on_window)
        listen(element("mpr-link-windows"), "change", self.on_link_windows)
        for control in ("mpr-slab", "mpr-slab-mm"):
            listen(element(control), "change", self.on_slab)
        listen(element("mpr-measurements"), "click", self.on_list_click)
        section.setAttribute("tabindex", "-1")  # focused by a press on a view: then keys reach on_key
        listen(section, "keydown", self.on_key)
        for overlay in document.querySelectorAll("canvas.mpr-overlay"):
            listen(overlay, "pointerdown", self.on_pointer_down)
            listen(overlay, "pointermove", self.on_pointer_move)
            listen(overlay, "pointerup", self.on_pointer_up)
            listen(overlay, "pointercancel", self.on_pointer_up)
            listen(overlay, "wheel", self.on_wheel)  # site/boot.js keeps the page from scrolling or a menu opening

    def on_toggle(self, event) -> None:
        if not element("mpr").hidden:
            self.close()
            return
        image = self.page.current_image()
        if image is None:
            return
        if not self.built:
            self.build_dom()
        images = [i for i in self.page.session.images if i.series == image.series]
        try:
            result = build_volume([(i.file_name, i.dataset) for i in images])
        except Exception as exc:  # an unforeseen file must not break the page: say what happened
            result = NotAVolume(f"the volume could not be built ({type(exc).__name__}: {exc})", "error")
        status = element("mpr-status")
        if isinstance(result, NotAVolume):
            status.textContent = f"Not a volume: {result.reason}"
            status.setAttribute("data-kind", result.kind)
            element("mpr-panel").hidden = False
            return
        status.removeAttribute("data-kind")
        self.images = {i.file_name: i.dataset for i in images}
        self.mpr = Mpr(result)
        views = self.mpr.planes
        shape = " × ".join(str(n) for n in result.voxels.shape)
        status.textContent = " ".join([f"{shape} voxels, {result.voxels.dtype}, spacing "
                                       + " × ".join(f"{s:.3g}" for s in result.spacing) + " mm.",
                                       *result.notes])
        document.querySelector('[data-pane="info"]').textContent = status.textContent
        for view in VIEWS:
            document.querySelector(f'[data-label-for="{view}"]').textContent = views[view].label
        choices = voi_choices(result.modality)
        element("mpr-window").replaceChildren(*[make("option", c.label, value=c.key) for c in choices])
        element("mpr-panel").hidden = False
        element("viewport").hidden = True
        element("mpr").hidden = False
        element("volume-toggle").textContent = "2-D view"
        self.draw_all()
        element("mpr").setAttribute("data-wasm-memory-bytes", str(wasm_memory_bytes()))

    def close(self) -> None:
        element("mpr").hidden = True
        element("viewport").hidden = False
        element("volume-toggle").textContent = "Volume views"

    # --- events -------------------------------------------------------------------------------
    def change(self, action) -> None:
        if self.mpr is not None:
            action(self.mpr)
            self.draw_all()

    def on_window(self, event) -> None:
        key = event.target.value
        if key != CUSTOM:
            self.change(lambda m: m.set_window(m.active, voi_key=key))

    def on_link_windows(self, event) -> None:
        def link(m: Mpr) -> None:
            m.linked_windows = bool(event.target.checked)
            if m.linked_windows:
                choice = m.windows[m.active]
                m.set_window(m.active, choice.voi_key, choice.window)
        self.change(link)

    def on_slab(self, event) -> None:
        mode, millimetres = element("mpr-slab").value, element("mpr-slab-mm").value
        self.change(lambda m: m.set_slab(mode, float(millimetres or 0)))

    def on_list_click(self, event) -> None:
        button = event.target.closest("button[data-delete]")
        if button is not None:
            self.change(lambda m: m.measurements.delete(int(button.getAttribute("data-delete"))))

    def view_pixel(self, event) -> tuple[str, float, float]:
        """The view and (row, column) under the pointer, output pixels with centres on whole numbers."""
        view = event.target.getAttribute("data-overlay")  # the overlay: pointer capture (site/boot.js)
        canvas = document.querySelector(f'canvas[data-view="{view}"]')  # the overlay's store is finer
        box = canvas.getBoundingClientRect()
        column = (event.clientX - box.left) / box.width * canvas.width - 0.5
        row = (event.clientY - box.top) / box.height * canvas.height - 0.5
        return view, row, column

    def on_pointer_down(self, event) -> None:
        if self.mpr is None or event.button not in (0, 2):
            return
        view, row, column = self.view_pixel(event)
        if event.button == 2:  # right-drag: window / level
            self.drag_from = (event.clientX, event.clientY)
            self.mpr.start_window_drag(view)
            return
        canvas = document.querySelector(f'canvas[data-view="{view}"]')
        box = canvas.getBoundingClientRect()
        reach = (HANDLE_REACH_CSS_PX * canvas.height / max(box.height, 1),
                 HANDLE_REACH_CSS_PX * canvas.width / max(box.width, 1))  # in image rows and columns
        element("mpr").focus()
        self.change(lambda m: m.pointer_down(view, row, column, reach))

    def on_pointer_move(self, event) -> None:
        if self.mpr is not None and self.mpr.dragging is not None and self.mpr.dragging[0] == "window":
            self.change(lambda m: m.drag_window_by(event.clientX - self.drag_from[0],
                                                   event.clientY - self.drag_from[1]))
        elif self.mpr is not None and self.mpr.dragging is not None:
            view, row, column = self.view_pixel(event)
            if self.mpr.pointer_move(view, row, column):
                self.draw_all()

    def on_pointer_up(self, event) -> None:
        if self.mpr is not None:
            self.mpr.pointer_up()

    def on_key(self, event) -> None:
        """Keys while the views have focus; handled ones do not reach the 2-D view's shortcuts."""
        if self.mpr is None or event.target.closest("select, input") is not None:
            return
        if self.mpr.key(event.key):
            event.dicomviewHandled = True  # not also the 2-D view's shortcut (web/gestures.py on_key)
            self.draw_all()

    def on_wheel(self, event) -> None:
        if self.mpr is not None and event.deltaY:
            view = event.target.getAttribute("data-overlay")
            self.change(lambda m: m.scroll(view, 1 if event.deltaY > 0 else -1))

    # --- drawing ------------------------------------------------------------------------------
    def draw_all(self) -> None:
        mpr = self.mpr
        element("mpr-grid").setAttribute("data-layout", mpr.layout)
        element("mpr-tool").value = mpr.tool  # the controls follow the state (a new volume starts afresh)
        element("mpr-layout").value = mpr.layout
        element("mpr-slab").value = mpr.slab_mode
        element("mpr-link-windows").checked = mpr.linked_windows
        for view in VIEWS:
            pane = document.querySelector(f'[data-pane="{view}"]')
            pane.hidden = view not in mpr.visible()
            pane.classList.toggle("active", view == mpr.active)
            if not pane.hidden:
                self.draw_view(view)
        document.querySelector('[data-pane="info"]').hidden = mpr.layout != "2x2"
        self.draw_window_menu(mpr.windows[mpr.active])
        element("mpr-readout").textContent = mpr.readout()
        self.draw_list()

    def draw_window_menu(self, choice) -> None:
        """The menu shows the active view's VOI; a dragged window appears as a Custom entry."""
        menu = element("mpr-window")
        custom = menu.querySelector(f'option[value="{CUSTOM}"]')
        if choice.window is None:
            if custom is not None:
                custom.remove()
            menu.value = choice.voi_key or ""
            return
        text = f"Custom (C {choice.window.center:.0f} / W {choice.window.width:.0f})"
        if custom is None:
            custom = make("option", text, value=CUSTOM)
            menu.prepend(custom)
        custom.textContent = text
        menu.value = CUSTOM

    def draw_view(self, view: str) -> None:
        mpr = self.mpr
        rendered = mpr.render(view)
        canvas = document.querySelector(f'canvas[data-view="{view}"]')
        self.render_count += 1
        plane, index = mpr.planes[view], mpr.index(view)
        row, column = mpr.crosshair(view)
        source = self.images.get(mpr.volume.labels[index]) if plane.axis == 0 else None
        show_rendered(canvas, rendered.rgba,
                      sop_instance_uid=str(source.get("SOPInstanceUID", "")) if source is not None else "",
                      frame=index, window=rendered.window,
                      data_slice_count=str(mpr.count(view)), data_crosshair=f"{row:.3f} {column:.3f}",
                      data_plane=plane.label)
        overlay = document.querySelector(f'canvas[data-overlay="{view}"]')
        self.draw_overlay(view, overlay, self.fit(view, canvas, overlay), row, column)
        announce_render(canvas, self.render_count)

    def fit(self, view: str, canvas, overlay) -> tuple[float, float]:
        """CSS size in true proportions (physical mm), as large as the pane allows; returns it."""
        width_mm, height_mm = self.mpr.physical_size(view)
        pane = canvas.parentElement.parentElement
        available_w = max(pane.clientWidth - 4, 16)
        available_h = max(pane.clientHeight - 24, 16)
        scale = min(available_w / width_mm, available_h / height_mm)
        for node in (canvas, overlay):
            node.style.width = f"{width_mm * scale:.2f}px"
            node.style.height = f"{height_mm * scale:.2f}px"
        return width_mm * scale, height_mm * scale

    def draw_overlay(self, view: str, overlay, size: tuple[float, float], row: float, column: float) -> None:
        """Crosshair and measurements on a layer of screen resolution (lines stay thin and round shapes
        round whatever the spacing); image pixel centres map to layer coordinates."""
        rows, columns = self.mpr.image_shape(view)
        ratio = window.devicePixelRatio or 1
        overlay.width, overlay.height = max(round(size[0] * ratio), 1), max(round(size[1] * ratio), 1)
        sx, sy = overlay.width / columns, overlay.height / rows

        def at(r: float, c: float) -> tuple[float, float]:
            return (c + 0.5) * sx, (r + 0.5) * sy

        context = overlay.getContext("2d")
        context.clearRect(0, 0, overlay.width, overlay.height)
        context.lineWidth = ratio
        context.strokeStyle = CROSSHAIR_COLOUR
        x, y = at(row, column)
        context.beginPath()
        context.moveTo(0, y)
        context.lineTo(overlay.width, y)
        context.moveTo(x, 0)
        context.lineTo(x, overlay.height)
        context.stroke()
        context.strokeStyle = context.fillStyle = MEASURE_COLOUR
        context.font = f"{12 * ratio:.0f}px sans-serif"
        for item in self.mpr.shown_measurements(view):
            self.draw_measurement(context, item.kind, [at(*p) for p in item.points], str(item.number), ratio)
        if self.mpr.pending and self.mpr.pending_view == view:
            self.draw_measurement(context, "pending", [at(*p) for p in self.mpr.pending], "", ratio)

    @staticmethod
    def draw_measurement(context, kind: str, points, label: str, ratio: float) -> None:
        """A measurement's shape, handles and number, at layer coordinates (x, y)."""
        context.beginPath()
        if kind in ("rectangle", "ellipse"):
            (x0, y0), (x1, y1) = points
            if kind == "rectangle":
                context.rect(min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0))
            else:
                context.ellipse((x0 + x1) / 2, (y0 + y1) / 2, abs(x1 - x0) / 2, abs(y1 - y0) / 2, 0, 0, 2 * math.pi)
        else:
            context.moveTo(*points[0])
            for x, y in points[1:]:
                context.lineTo(x, y)
        context.stroke()
        half = 3 * ratio
        for x, y in points:  # the handles
            context.fillRect(x - half, y - half, 2 * half, 2 * half)
        if label:
            context.fillText(label, points[0][0] + 2 * half, points[0][1] - 2 * half)

    def draw_list(self) -> None:
        """The side panel's measurement lines, each with a Delete button (text only)."""
        mpr = self.mpr
        unit, modality = modality_unit(mpr.volume.modality), modality_lut(mpr.volume.modality)
        listed = []
        for item in mpr.measurements.items:
            plane = mpr.planes[item.view]
            image = mpr.image(item.view, item.slice)
            text = describe(item, image, (plane.row_spacing, plane.column_spacing), modality, unit)
            listed.append((item.number, text, " ".join(f"{r!r},{c!r}" for r, c in item.points)))
        if listed == self.listed:  # unchanged: keep the elements (a click may be under way on them)
            return
        self.listed = listed
        lines = []
        for number, text, points in listed:
            line = make("li", data_number=str(number), data_points=points)
            line.append(make("span", text), make("button", "Delete", type="button", data_delete=str(number),
                                                 aria_label=f"Delete measurement {number}"))
            lines.append(line)
        element("mpr-measurements").replaceChildren(*lines)
