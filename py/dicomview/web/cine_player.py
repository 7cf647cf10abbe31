"""Cine: play the frames of a multi-frame image, or the images of a stack, at the file's frame rate.

The rate comes from dicomview.cine (PS3.3 C.7.6.5) and can be changed in #cine-fps. One animation
frame callback is outstanding at most; each shows the frame due at that time (dicomview.cine.frame_due)
and renders it there and then, so a slow render skips frames and never piles renders up.
"""

from __future__ import annotations

from dicomview import cine
from dicomview.annotations import place_of
from dicomview.series import series_members
from dicomview.web.dom import element, listen
from dicomview.web.host import request_animation_frame as requestAnimationFrame


class CinePlayer:
    """Owns #cine-play (aria-pressed tells whether it plays), #cine-fps and the Space key."""

    def __init__(self, page) -> None:
        self.page = page
        self.playing = False
        self._scheduled = False
        self._started: tuple[float, int] | None = None  # (timestamp in ms, position) when timing began
        self._shown = -1  # the position the last tick left on screen
        self._rate_for = None  # what the fps field was filled for: the image, or its series for a stack
        self._file_rate = cine.FrameRate(cine.DEFAULT_FPS, "default")
        self._rate_changed = False  # the user set the rate: play evenly at it

    def attach(self) -> None:
        listen(element("cine-play"), "click", lambda event: self.toggle())
        listen(element("cine-fps"), "change", self.on_fps)
        self.page.gestures.key_actions[" "] = self.toggle

    # --- what plays -------------------------------------------------------------------------------
    def series_keys(self) -> list:
        return [other.series for other in self.page.session.images]

    def sequence(self) -> tuple[int, int]:
        """(position, count) of what plays: the frames of a multi-frame image, else the images of its series."""
        image = self.page.current_image()
        if image is None:
            return 0, 0
        place = place_of(image.frames, image.frame, self.series_keys(), self.page.session.current)
        return place.number - 1, place.count

    def go(self, position: int) -> None:
        page, image = self.page, self.page.current_image()
        if image.frames > 1:
            image.frame = position
            page.show(page.session.current)
        else:
            page.show(series_members(self.series_keys(), page.session.current)[position])

    def fps(self) -> float:
        try:
            return cine.clamp_fps(float(element("cine-fps").value))
        except ValueError:
            return cine.DEFAULT_FPS

    # --- controls -----------------------------------------------------------------------------------
    def sync(self, image) -> None:
        """After each render: show the controls when there is something to play; take the file's rate
        when another image (or stack) comes up."""
        count = self.sequence()[1]
        for part in ("cine-caption", "cine-row"):
            element(part).hidden = count < 2
        key = ("frames", id(image)) if image.frames > 1 else ("series", image.series)
        if key != self._rate_for:
            self._rate_for = key
            rate = self._file_rate = cine.frame_rate(image.dataset)
            self._rate_changed = False
            element("cine-fps").value = f"{round(rate.fps, 2):g}"  # 1000 / 33.333 ms shows as 30
            element("cine-source").textContent = "" if rate.source == "default" else f"from {rate.source}"
            self._started = None
        if count < 2 and self.playing:
            self.stop()

    def on_fps(self, event) -> None:
        event.target.value = f"{self.fps():g}"
        self._rate_changed = True
        self._started = None  # keep playing from the frame shown, at the new rate

    def toggle(self) -> None:
        if self.playing:
            self.stop()
        else:
            self.play()

    def play(self) -> None:
        if self.sequence()[1] < 2:
            return
        self.playing, self._started = True, None
        button = element("cine-play")
        button.setAttribute("aria-pressed", "true")
        button.textContent = "Pause"
        self.schedule()

    def stop(self) -> None:
        self.playing = False
        button = element("cine-play")
        button.setAttribute("aria-pressed", "false")
        button.textContent = "Play"

    def schedule(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            requestAnimationFrame(self.tick)

    def tick(self, timestamp: float) -> None:
        self._scheduled = False
        if not self.playing:
            return
        position, count = self.sequence()
        if count < 2:
            self.stop()
            return
        if self._started is None or position != self._shown:  # started, new rate, or the user stepped
            self._started = (timestamp, position)
        started_at, start = self._started
        intervals = () if self._rate_changed else self._file_rate.intervals_ms
        due = cine.frame_due((timestamp - started_at) / 1000.0, self.fps(), start, count, intervals)
        if due != position:
            self.go(due)
        self._shown = due
        self.schedule()
