"""The page's library: opening files, folders, archives and drops with a progress bar; the series list
with thumbnails; the diagnostics panel. The decisions are dicomview.opening / studies / thumbnails;
this module turns events into their calls and draws what comes back, as text.
"""

from __future__ import annotations

import asyncio
import time

from pyodide.ffi import JsException

from dicomview.opening import PEEK_ABOVE_BYTES, TOO_LARGE, Batch, Entry, Skipped, diagnostics_text, skipped_summary
from dicomview.studies import SeriesEntry, group_studies
from dicomview.thumbnails import middle_frame, thumbnail
from dicomview.web.dom import element, listen, make, put_pixels
from dicomview.web.host import PageError, callback_result, document, local_files, window
from dicomview.web.local_file import open_local_file

YIELD_EVERY_S = 0.025  # hand the page back to the browser at least this often while reading


def chosen_entries(files) -> list[Entry]:
    """Files picked by name (Open files…, or dropped one by one)."""
    return [Entry(file.name, chosen=True, handle=file) for file in files]


def folder_entries(files) -> list[Entry]:
    """Files of a folder (Open folder…): their path inside it is webkitRelativePath; read in name order."""
    entries = [Entry(file.webkitRelativePath or file.name, chosen=False, handle=file) for file in files]
    return sorted(entries, key=lambda entry: entry.path)


async def walk(directory) -> list[Entry]:
    """Every file under a dropped FileSystemDirectoryEntry; readEntries gives at most 100 per call."""
    paths, files, pending = [], [], [directory]
    while pending:
        reader = pending.pop().createReader()
        while children := list(await callback_result(reader.readEntries)):
            for child in children:
                if child.isDirectory:
                    pending.append(child)
                else:
                    paths.append(child.fullPath.lstrip("/"))
                    files.append(await callback_result(child.file))
    handles = await local_files(window.Array.of(*files))
    return sorted((Entry(path, chosen=False, handle=handle) for path, handle in zip(paths, handles, strict=True)),
                  key=lambda entry: entry.path)


class Library:
    def __init__(self, page) -> None:
        self.page = page
        self.skipped: list[Skipped] = []
        self.series: list[SeriesEntry] = []
        self._thumbnails: dict[tuple[str, int], object] = {}  # (SOP Instance UID, frame) -> RGBA
        self._generation = 0  # a newer series list stops the older one's thumbnail task
        self._series_buttons: list = []  # by series number, as drawn: marking one needs no lookup
        self._marked_series: int | None = None

    def attach(self) -> None:
        listen(element("open-folder"), "change", self.on_open_folder)
        listen(element("series-list"), "click", self.on_series_click)
        listen(element("copy-problems"), "click", self.on_copy)

    # --- opening ------------------------------------------------------------------------------
    def on_open_folder(self, event) -> None:
        self.page.spawn(self.open_folder(event.target))

    async def open_folder(self, input_element) -> None:
        entries = folder_entries(await local_files(input_element.files))
        input_element.value = ""
        await self.open(entries)

    def on_drop(self, event) -> None:
        """Dropped files and folders, as site/boot.js took them from the DataTransfer during the event
        (it empties afterwards, and this handler may run later, in the worker)."""
        dropped = event.dicomviewDrop
        if dropped:
            self.page.spawn(self.open_dropped(dropped.files, list(dropped.directories)))

    async def open_dropped(self, files, directories: list) -> None:
        await self.open(chosen_entries(await local_files(files)), directories)

    async def open(self, entries: list[Entry], directories=()) -> None:
        page = self.page
        await page.codecs_ready()
        batch = Batch(page.session)
        batch.add(entries)
        for directory in directories:
            page.status(f"Listing {directory.name}…")
            try:
                batch.add(await walk(directory))
            except PageError as exc:  # a folder the browser may not list (permissions, removed)
                batch.add_problem(directory.name, f"the folder could not be listed ({exc})")
        await self.read(batch)
        await asyncio.sleep(0)  # the last file read, the list (arranged with it) and the first image are
        batch.finish()  # separate tasks: the page answers input in between (issue 7)
        self.report(batch)
        await page.present(batch.opened, batch.summary())

    async def read(self, batch: Batch) -> None:
        """Read the batch one file at a time, with the count on the page, yielding to the browser often
        enough that it paints and answers input while a large folder is read."""
        bar = element("open-progress")
        bar.max, bar.value = batch.total, batch.done
        self.page.status(batch.progress_text())
        bar.hidden = False  # after its numbers: the page may paint between two writes from the worker
        last_yield = time.monotonic()
        try:
            while (entry := batch.next_entry()) is not None:
                bar.max, bar.value = batch.total, batch.done
                self.page.status(batch.progress_text())
                try:
                    if entry.read is None and entry.handle.size > PEEK_ABOVE_BYTES:
                        head = (await entry.handle.slice(0, 132).arrayBuffer()).to_bytes()
                        if batch.skip_unread(entry, head):
                            continue
                    data = None if entry.read else open_local_file(entry.handle)  # read in place
                except MemoryError:
                    batch.unreadable(entry, TOO_LARGE)
                except JsException as exc:  # NotReadableError: moved or changed since it was chosen
                    batch.unreadable(entry, f"could not be read ({exc})")
                else:
                    batch.feed(entry, data)
                self.report(batch)
                if time.monotonic() - last_yield >= YIELD_EVERY_S:
                    await asyncio.sleep(0)
                    last_yield = time.monotonic()
        finally:
            bar.hidden = True

    # --- diagnostics --------------------------------------------------------------------------
    def report(self, batch: Batch) -> None:
        """The batch's new lines in #messages as they come (one per file, the contract), and its new
        skipped files counted and named under Skipped files."""
        for problem in batch.problems[batch.reported:]:
            self.page.add_problem(problem)
        new = batch.skipped[batch.reported_skipped:]
        batch.reported, batch.reported_skipped = len(batch.problems), len(batch.skipped)
        if new:
            self.skipped += new
            element("skipped-list").append(*[make("li", str(item), data_file=item.path) for item in new])
            element("skipped").textContent = skipped_summary(self.skipped)
            for part in ("skipped", "skipped-details", "problems"):
                element(part).hidden = False

    def count_problems(self) -> None:
        count = element("messages").childElementCount
        element("problem-count").textContent = f"({count})" if count else ""

    def on_copy(self, event) -> None:
        self.page.copy_to_clipboard(diagnostics_text(self.page.session.problems, self.skipped), "Diagnostics")

    # --- series list --------------------------------------------------------------------------
    def draw_series(self) -> None:
        """Studies with their series (thumbnail, title, counts); thumbnails fill in afterwards."""
        images = self.page.session.images
        studies = group_studies(images)
        self.series = [entry for study in studies for entry in study.series]
        items = []
        number = 0
        self._series_buttons, self._marked_series = [], None
        for study in studies:
            group = make("ul")
            for entry in study.series:
                button = make("button", type="button", class_="series", data_series=str(number),
                              data_series_instance_uid=entry.key.series)
                self._series_buttons.append(button)
                canvas = make("canvas", class_="thumb", width="0", height="0", aria_hidden="true")
                button.append(canvas, make("span", entry.title, class_="series-title"),
                              make("span", entry.counts, class_="series-counts"))
                item = make("li")
                item.append(button)
                group.append(item)
                number += 1
            study_item = make("li", class_="study")
            study_item.append(make("div", study.title, class_="study-title"), group)
            items.append(study_item)
        element("series-list").replaceChildren(*items)
        element("series-section").hidden = not images
        self.mark_current()
        self._generation += 1
        self.page.spawn(self.draw_thumbnails(self._generation))

    async def draw_thumbnails(self, generation: int) -> None:
        await asyncio.sleep(0)  # after the image opened with the list is shown: its first render comes first
        session = self.page.session
        for number, entry in enumerate(list(self.series)):
            if generation != self._generation:
                return
            image = session.images[entry.thumbnail_index]
            frame = middle_frame(image.frames)
            key = (image.sop_instance_uid, frame)
            if key not in self._thumbnails:
                self._thumbnails[key] = thumbnail(image.dataset, frame, session.limits)
                await asyncio.sleep(0)  # one decode at a time, the page answering in between
                if generation != self._generation:
                    return
            canvas = document.querySelector(f'#series-list button[data-series="{number}"] canvas')
            rgba = self._thumbnails[key]
            if canvas is not None and rgba is not None:
                put_pixels(canvas, rgba)
                canvas.setAttribute("data-sop-instance-uid", image.sop_instance_uid)
                canvas.setAttribute("data-frame", str(frame))

    def on_series_click(self, event) -> None:
        button = event.target.closest("button[data-series]")
        if button is not None:
            self.page.show(self.series[int(button.getAttribute("data-series"))].first)
            self.page.gestures.focus_view(event)

    def mark_current(self) -> None:
        """aria-current on the series holding the image shown: writes only, and only when the series
        changes (it runs for every slice of a scrolled stack)."""
        current = self.page.session.current
        number = next((n for n, entry in enumerate(self.series) if entry.holds(current)), -1)
        if number == self._marked_series:
            return
        if self._marked_series is not None and self._marked_series >= 0:
            self._series_buttons[self._marked_series].removeAttribute("aria-current")
        if number >= 0:
            self._series_buttons[number].setAttribute("aria-current", "true")
        self._marked_series = number
