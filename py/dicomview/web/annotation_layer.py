"""The text layer above the image: corner texts, orientation markers and the scale bar.

dicomview.annotations decides what to show; this module writes it into DOM text elements over the
viewport (textContent only, never HTML) and paints the same layout on an exported PNG. The layer sits
outside #stack, so zoom and pan move the image under it, not the texts.
"""

from __future__ import annotations

from dicomview import annotations, viewstate
from dicomview.annotations import CORNERS, EDGES, Layout, place_of
from dicomview.render import frame_view
from dicomview.web.dom import element, listen, make
from dicomview.web.host import ResizeObserver

EXPORT_MARGIN_FRACTION = 1 / 80  # of the exported image's shorter side


class AnnotationLayer:
    """Owns #annotations (built at attach) and the #show-annotations toggle (key T)."""

    def __init__(self, page) -> None:
        self.page = page

    def attach(self) -> None:
        # The parts are kept, with what they show: an update writes only what changed (a drag changes
        # only the window's line), and never looks anything up on the page.
        root = make("div", id="annotations", class_="annotations")
        self.corners = {corner: make("div", class_="corner", data_corner=corner) for corner in CORNERS}
        self.markers = {edge: make("div", class_="marker", data_edge=edge) for edge in EDGES}
        root.append(*self.corners.values(), *self.markers.values())
        bar = make("div", id="scale-bar", class_="scale-bar")
        self.scale_label, self.scale_line = make("span", class_="scale-label"), make("div", class_="scale-line")
        self.scale_line_style = self.scale_line.style
        bar.append(self.scale_label, self.scale_line)
        root.append(bar)
        self.scale_bar = bar
        self.shown: dict[str, object] = {}
        element("viewport").insertBefore(root, element("readout"))
        self.measure_viewport()
        listen(element("show-annotations"), "change", lambda event: self.show(event.target.checked))
        # the fit, hence the scale bar, changes with the viewport's size: window resizes, and the side
        # panel growing under the image on narrow screens
        ResizeObserver.new(self.on_resize).observe(element("viewport"))
        for key in ("t", "T"):
            self.page.gestures.key_actions[key] = self.toggle

    def on_resize(self, entries, observer) -> None:
        self.measure_viewport()
        self.update()

    def measure_viewport(self) -> None:
        box = element("viewport").getBoundingClientRect()
        self.viewport_size = (box.width, box.height)

    def write(self, key: str, value, apply) -> None:
        """apply(value) unless the part already shows value."""
        if self.shown.get(key) != value:
            self.shown[key] = value
            apply(value)

    # --- state ------------------------------------------------------------------------------------
    @property
    def visible(self) -> bool:
        return bool(element("show-annotations").checked)

    def show(self, visible: bool) -> None:
        element("show-annotations").checked = visible
        element("annotations").hidden = not visible

    def toggle(self) -> None:
        self.show(not self.visible)

    def layout(self, pixels_per_image_pixel: float, bar_limit: float, view: viewstate.View) -> Layout | None:
        page, image, rendered = self.page, self.page.current_image(), self.page.last_rendered
        if image is None or rendered is None:
            return None
        place = place_of(image.frames, image.frame, [other.series for other in page.session.images],
                         page.session.current)
        voi_label = "VOI LUT" if rendered.voi_key.startswith("voi-lut") else ""
        return annotations.layout(
            frame_view(image.dataset, image.frame), place, rendered.window, voi_label, pixels_per_image_pixel,
            bar_limit, inverted=page.session.invert, flip_horizontal=view.flip_horizontal,
            flip_vertical=view.flip_vertical)

    # --- on screen --------------------------------------------------------------------------------
    def update(self) -> None:
        """Refill the layer for the current image, window, frame and view (cheap: text only)."""
        image = self.page.current_image()
        if image is None:
            return
        self.page.gestures.refresh_readout()  # the cursor's readout belongs to the layer too
        width, height = self.viewport_size
        view = self.page.gestures.view
        ds = image.dataset
        scale = viewstate.display_scale(view, (width, height), (int(ds.Columns), int(ds.Rows)))
        layout = self.layout(scale, width / 4, view)
        if layout is None:
            return
        for corner, node in self.corners.items():
            self.write(corner, tuple(layout.corners[corner]),
                       lambda lines, node=node: node.replaceChildren(*[make("div", line) for line in lines]))
        for edge, node in self.markers.items():
            self.write(edge, layout.markers.get(edge, ""), lambda text, node=node: setattr(node, "textContent", text))
        self.write("bar", layout.scale is None, lambda hidden: setattr(self.scale_bar, "hidden", hidden))
        if layout.scale is not None:
            self.write("bar-width", f"{layout.scale.pixels:.2f}px",
                       lambda width: setattr(self.scale_line_style, "width", width))
            self.write("bar-label", layout.scale.label, lambda text: setattr(self.scale_label, "textContent", text))
            self.write("bar-mm", f"{layout.scale.mm:g}", lambda mm: self.scale_bar.setAttribute("data-mm", mm))

    # --- on an exported PNG -------------------------------------------------------------------------
    def paint(self, context, width: int, height: int) -> None:
        """Paint the layer on an export of the image at its natural size (one pixel per image pixel,
        not flipped), if the layer is shown."""
        if not self.visible:
            return
        layout = self.layout(1.0, width / 4, viewstate.FIT)
        if layout is None:
            return
        size = max(10, round(min(width, height) / 40))
        margin = max(2, round(min(width, height) * EXPORT_MARGIN_FRACTION))
        context.save()
        context.font = f"{size}px sans-serif"
        context.fillStyle = "#ffffff"
        context.strokeStyle = "#000000"
        context.lineWidth = max(2, size / 5)
        context.lineJoin = "round"

        def write(line: str, x: float, y: float, align: str, baseline: str) -> None:
            context.textAlign, context.textBaseline = align, baseline
            context.strokeText(line, x, y)
            context.fillText(line, x, y)

        step = size * 1.2
        for corner in CORNERS:
            vertical, horizontal = corner.split("-")
            lines = layout.corners[corner]
            x = margin if horizontal == "left" else width - margin
            for n, line in enumerate(lines if vertical == "top" else reversed(lines)):
                y = margin + n * step if vertical == "top" else height - margin - n * step
                write(line, x, y, horizontal, vertical)
        places = {"top": (width / 2, margin, "center", "top"),
                  "bottom": (width / 2, height - margin, "center", "bottom"),
                  "left": (margin, height / 2, "left", "middle"),
                  "right": (width - margin, height / 2, "right", "middle")}
        for edge, letters in layout.markers.items():
            write(letters, *places[edge])
        if layout.scale is not None:
            thickness = max(2, size / 6)
            y = height - margin - 2 * step
            left = (width - layout.scale.pixels) / 2
            context.fillRect(left, y, layout.scale.pixels, thickness)
            write(layout.scale.label, width / 2, y - thickness, "center", "bottom")
        context.restore()

