"""Glue between the page and the session: file events in, canvas pixels and text out.

Every value from a file reaches the DOM through textContent or an attribute, never as HTML.
"""

from __future__ import annotations

import asyncio
import traceback
from collections import Counter

from js import console

from dicomview.mpr import VOLUME_KEYS
from dicomview.overlays import frame_overlays, overlays_to_rgba
from dicomview.render import CUSTOM, RenderedFrame, frame_view, voi_choices
from dicomview.series import series_label
from dicomview.session import OpenedImage, Problem, Session
from dicomview.web import codecs
from dicomview.web.annotation_layer import AnnotationLayer
from dicomview.web.cine_player import CinePlayer
from dicomview.web.dom import (
    announce_render,
    clear_canvas,
    element,
    listen,
    make,
    put_pixels,
    resize_canvas,
    show_rendered,
)
from dicomview.web.gestures import Gestures
from dicomview.web.host import Once, busy, document, flushing, local_files, navigator, soon, window
from dicomview.web.library import Library, chosen_entries
from dicomview.web.mpr import MprPage
from dicomview.web.studies import StudyBrowser
from dicomview.web.tag_browser import TagBrowser


class ViewerPage:
    """The page's state and handlers; one instance lives for the page's lifetime."""

    def __init__(self) -> None:
        self.session = Session()
        self.render_count = 0
        self.canvas = element("image")
        self._tasks = set()  # keep running work alive until it finishes
        self.codecs_loaded = None  # the task loading the WebAssembly codecs (load_codecs)
        self.last_rendered: RenderedFrame | None = None
        self.gestures = Gestures(self)
        self.annotations = AnnotationLayer(self)
        self.cine = CinePlayer(self)
        self._tags_for: OpenedImage | None = None
        self._overlays_for: tuple[OpenedImage, int] | None = None
        self.tag_browser = TagBrowser(self)
        self._render_pending = False
        self.library = Library(self)  # opening folders/archives, series list, diagnostics
        self.mpr = MprPage(self)

    def load_codecs(self) -> None:
        """Start loading the codecs in the background: start-up does not wait, opening files does."""
        self.codecs_loaded = asyncio.ensure_future(flushing(codecs.load_all()))
        self._tasks.add(self.codecs_loaded)

    def spawn(self, coroutine) -> None:
        task = asyncio.ensure_future(flushing(coroutine))
        self._tasks.add(task)
        busy(+1)
        task.add_done_callback(self._finished)

    def _finished(self, task) -> None:
        self._tasks.discard(task)
        busy(-1)
        if not task.cancelled() and task.exception() is not None:  # a bug: say so, where a developer looks
            exc = task.exception()
            console.error("dicomview: " + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))

    # --- events -------------------------------------------------------------------------------
    def attach(self) -> None:
        self.body_classes = document.body.classList  # kept: each lookup would cross to the page
        self._marked = -1  # the image marked current in the lists
        self._list_buttons: list = []  # #image-list's buttons by image index: marking one needs no lookup
        self._marked_button = None
        self._show_overlays = bool(element("show-overlays").checked)
        self._overlay_drawn = True  # the overlay canvas may hold pixels (cleared at the first image)
        listen(element("open-files"), "change", self.on_open_files)
        for name in ("dragenter", "dragover"):
            listen(document, name, self.on_drag_over)
        listen(document, "dragleave", self.on_drag_leave)
        listen(document, "drop", self.on_drop)
        listen(element("image-list"), "click", self.on_list_click)
        listen(element("window-preset"), "change", self.on_window_preset)
        listen(element("frame"), "input", self.on_frame)
        listen(element("show-overlays"), "change", self.on_show_overlays)
        self.gestures.attach()
        self.annotations.attach()
        self.cine.attach()
        self.tag_browser.attach()
        listen(element("export-png"), "click", self.on_export_png)
        self.library.attach()
        self.mpr.attach()
        self.studies = StudyBrowser(self)  # DICOMweb study browser (web/studies.py)
        self.studies.attach()
        self.gestures.publish_keys(VOLUME_KEYS)

    def on_open_files(self, event) -> None:
        self.spawn(self.open_chosen(event.target))

    async def open_chosen(self, input_element) -> None:
        files = await local_files(input_element.files)
        input_element.value = ""  # choosing the same files again fires change again
        await self.library.open(chosen_entries(files))  # already this thread's Files

    def on_drag_over(self, event) -> None:
        self.body_classes.add("dragging")  # site/boot.js prevents the browser's own handling

    def on_drag_leave(self, event) -> None:
        self.body_classes.remove("dragging")

    def on_drop(self, event) -> None:
        self.body_classes.remove("dragging")
        self.library.on_drop(event)

    def on_list_click(self, event) -> None:
        button = event.target.closest("button[data-index]")
        if button is not None:
            self.show(int(button.getAttribute("data-index")))
            self.gestures.focus_view(event)

    def current_image(self) -> OpenedImage | None:
        index = self.session.current
        return self.session.images[index] if 0 <= index < len(self.session.images) else None

    def on_window_preset(self, event) -> None:
        image = self.current_image()
        if image is not None and event.target.value != CUSTOM:
            image.voi_key, image.window = event.target.value, None
            self.show(self.session.current)

    def request_render(self) -> None:
        """Re-render the current image once the waiting events are handled: a drag's many moves, one render."""
        if not self._render_pending:
            self._render_pending = True
            soon(self._render_now)

    def _render_now(self, timestamp=None) -> None:
        self._render_pending = False
        if self.current_image() is not None:
            self.show(self.session.current)

    def on_frame(self, event) -> None:
        image = self.current_image()
        if image is not None:
            image.frame = min(max(int(event.target.value), 0), image.frames - 1)
            self.show(self.session.current)

    def on_export_png(self, event) -> None:
        """Download the current view at the image's natural size, with the overlay layer if asked."""
        image = self.current_image()
        if image is None:
            return
        canvas = document.createElement("canvas")
        canvas.width, canvas.height = self.canvas.width, self.canvas.height
        context = canvas.getContext("2d")
        context.drawImage(self.canvas, 0, 0)
        overlay = element("overlay")
        if element("export-annotations").checked:
            if not overlay.hidden and overlay.width:
                context.drawImage(overlay, 0, 0)
            self.annotations.paint(context, canvas.width, canvas.height)
        name = image.file_name.rsplit(".", 1)[0] + (f"-frame{image.frame + 1}" if image.frames > 1 else "")

        def save(blob) -> None:
            link = make("a", href=window.URL.createObjectURL(blob), download=f"{name}.png")
            link.click()
            window.URL.revokeObjectURL(link.href)

        canvas.toBlob(Once(save), "image/png")

    def on_show_overlays(self, event) -> None:
        self._show_overlays = bool(event.target.checked)
        element("overlay").hidden = not self._show_overlays

    # --- work ---------------------------------------------------------------------------------
    async def open_files(self, files) -> None:
        """Open Files of the page (a FileList or an array), read in this thread (host.local_files)."""
        await self.library.open(chosen_entries(await local_files(files)))

    async def codecs_ready(self) -> None:
        """Decoding waits for the WebAssembly codecs; one that failed to load is logged, not fatal."""
        if self.codecs_loaded is None:
            return
        if not self.codecs_loaded.done():
            self.status("Loading image decoders…")
        for failure in await self.codecs_loaded:
            console.warn(f"dicomview: codec unavailable: {failure}")

    async def present(self, opened: list[OpenedImage], summary: str = "") -> None:
        """After images were added and the session arranged: list them, then show the first one opened,
        as separate tasks so the page answers input in between (issue 7)."""
        self.refresh_list()
        if opened:
            await asyncio.sleep(0)
            self.show(self.session.images.index(opened[0]))
        self.status(f"{len(self.session.images)} image(s) open" + (f" · {summary}" if summary else ""))

    def show(self, index: int) -> None:
        outcome = self.session.render(index)
        if isinstance(outcome, Problem):
            self.add_problem(outcome)
            self.refresh_list()
            return
        self.last_rendered = outcome
        self.draw(self.session.images[index], outcome)
        if self._marked != index:  # the list itself changes only when files are added or dropped
            self.mark_current()

    # --- drawing ------------------------------------------------------------------------------
    def draw(self, image: OpenedImage, rendered: RenderedFrame) -> None:
        self.render_count += 1
        window = rendered.window
        show_rendered(self.canvas, rendered.rgba, sop_instance_uid=image.sop_instance_uid, frame=image.frame,
                      window=window)
        self.body_classes.add("has-image")
        info = element("image-info")
        info.replaceChildren()
        ds = image.dataset
        for label, value in (
            ("File", image.file_name),
            ("Modality", ds.get("Modality", "")),
            ("Size", f"{ds.get('Columns', '?')} × {ds.get('Rows', '?')}"),
            ("Frame", f"{image.frame + 1} of {image.frames}"),
            ("Window", "—" if window is None else f"C {window.center:g} / W {window.width:g}"),
        ):
            info.append(make("dt", label), make("dd", str(value)))
        notes = element("notes")
        notes.replaceChildren(*[make("p", note) for note in rendered.notes])
        self.draw_controls(image, rendered)
        if self._overlays_for != (image, image.frame):  # not on every window change of a drag
            self._overlays_for = (image, image.frame)
            self.draw_overlays(image)
        self.annotations.update()
        self.cine.sync(image)
        if self._tags_for is not image:  # the rows change with the image, not with each render
            self._tags_for = image
            self.tag_browser.show_settled(image.dataset)
        self.mpr.offer(image)
        announce_render(self.canvas, self.render_count)

    def draw_overlays(self, image: OpenedImage) -> None:
        """The annotation layer: overlay planes of this frame, drawn above canvas#image, never into it."""
        ds = image.dataset
        overlays = frame_overlays(ds, image.frame)
        rows, columns = int(ds.Rows), int(ds.Columns)
        if overlays:
            put_pixels(element("overlay"), overlays_to_rgba(overlays, (rows, columns)))
        elif self._overlay_drawn:  # no pixels to send for an image without overlays (most of a stack)
            clear_canvas(element("overlay"), rows, columns)
        else:
            resize_canvas(element("overlay"), rows, columns)
        self._overlay_drawn = bool(overlays)
        for part in ("overlay-caption", "overlay-row"):
            element(part).hidden = not overlays
        element("overlay-label").textContent = ", ".join(overlay.label for overlay in overlays)
        element("overlay").hidden = not self._show_overlays

    def draw_controls(self, image: OpenedImage, rendered: RenderedFrame) -> None:
        """The window menu (the file's windows and VOI LUTs, min-max) and, for multi-frame, the frame slider."""
        element("image-controls").hidden = False
        preset = element("window-preset")
        greyscale = rendered.voi_key != ""
        preset.disabled = not greyscale
        choices = voi_choices(frame_view(image.dataset, image.frame))
        options = [make("option", choice.label, value=choice.key) for choice in choices]
        if rendered.voi_key == CUSTOM:
            window = rendered.window
            options.insert(0, make("option", f"Custom (C {window.center:.0f} / W {window.width:.0f})", value=CUSTOM))
        preset.replaceChildren(*(options if greyscale else [make("option", "Colour image: no window")]))
        if greyscale:
            preset.value = rendered.voi_key
        several = image.frames > 1
        for part in ("frame-caption", "frame-row"):
            element(part).hidden = not several
        slider = element("frame")
        slider.max = str(image.frames - 1)
        slider.value = str(image.frame)
        element("frame-label").textContent = f"{image.frame + 1} / {image.frames}"

    def refresh_list(self) -> None:
        listing = element("image-list")
        listing.replaceChildren()
        images = self.session.images
        counts = Counter(image.series for image in images)
        self._list_buttons, self._marked_button = [], None
        for index, image in enumerate(images):
            if index == 0 or image.series != images[index - 1].series:
                listing.append(make("li", series_label(image.dataset, counts[image.series]), class_="series-header"))
            button = make("button", image.label, type="button", data_index=str(index),
                          data_sop_instance_uid=image.sop_instance_uid)
            self._list_buttons.append(button)
            item = make("li")
            item.append(button)
            listing.append(item)
        self.mark_current()
        self.library.draw_series()

    def mark_current(self) -> None:
        """aria-current on the list's button of the image shown: writes only, no lookup on the page (it runs
        for every slice of a scrolled stack)."""
        self._marked = self.session.current
        if self._marked_button is not None:
            self._marked_button.removeAttribute("aria-current")
        self._marked_button = None
        if 0 <= self.session.current < len(self._list_buttons):
            self._marked_button = self._list_buttons[self.session.current]
            self._marked_button.setAttribute("aria-current", "true")
        self.library.mark_current()

    def add_problem(self, problem: Problem) -> None:
        element("messages").append(make("li", str(problem), data_file=problem.file_name))
        self.library.count_problems()
        element("problems").hidden = False

    def copy_to_clipboard(self, text: str, what: str) -> None:
        """Copy text, then say what was copied."""
        navigator.clipboard.writeText(text).then(Once(lambda _: self.status(f"{what} copied to the clipboard")))

    def status(self, text: str) -> None:
        element("status-text").textContent = text
