"""Server-side rendering: one frame of a DICOM file to PNG or JPEG with the viewer's own pipeline.

The Orthanc plugin runs these functions in a process pool (they are CPU-bound and hold the GIL), so
they take and return plain bytes and numbers, which pickle cheaply. The pixels are those of
dicomview.render.render_frame, exactly as the browser draws them; only the encoding differs.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

import numpy as np
from PIL import Image

from dicomview.decode import UnreadableFile, check_pixels, read_dataset
from dicomview.pipeline import Window
from dicomview.render import CUSTOM, render_frame

FORMATS = {"png": ("PNG", "image/png"), "jpeg": ("JPEG", "image/jpeg"), "jpg": ("JPEG", "image/jpeg")}
JPEG_QUALITY = 90
PNG_LEVEL = 1


class BadRequest(ValueError):
    """A request parameter the renderer cannot use; the message names it."""


@dataclass(frozen=True)
class RenderRequest:
    """What to render: frame (0-based), an optional window (both center and width), output format
    and, for thumbnails, the longest side in pixels (0: natural size)."""

    frame: int = 0
    window: Window | None = None
    image_format: str = "png"
    max_size: int = 0


def _number(arguments: dict[str, str], name: str, kind: type) -> float | int | None:
    text = arguments.get(name, "")
    if text == "":
        return None
    try:
        return kind(text)
    except ValueError:
        raise BadRequest(f"{name}={text!r} is not a number") from None


def parse_request(arguments: dict[str, str], max_size: int = 0) -> RenderRequest:
    """Read ?frame=&wc=&ww=&format= (the query of /render/...); raise BadRequest naming the bad one."""
    frame = _number(arguments, "frame", int)
    if frame is not None and frame < 0:
        raise BadRequest(f"frame={frame} must be 0 or more")
    center, width = _number(arguments, "wc", float), _number(arguments, "ww", float)
    if (center is None) != (width is None):
        raise BadRequest("wc and ww go together")
    if width is not None and width < 1:
        raise BadRequest(f"ww={width:g} must be at least 1 (PS3.3 C.11.2.1.2)")
    image_format = arguments.get("format", "png").lower()
    if image_format not in FORMATS:
        raise BadRequest(f"format={image_format!r} is not one of png, jpeg")
    window = None if center is None else Window(center, width)
    return RenderRequest(frame or 0, window, image_format, max_size)


def mime_type(image_format: str) -> str:
    return FORMATS[image_format][1]


def render_rgba(dicom: bytes, request: RenderRequest):
    """The frame's RGBA pixels as the viewer renders them (the file's default VOI, or the window asked)."""
    ds = read_dataset(dicom)
    check_pixels(ds)
    voi_key = CUSTOM if request.window is not None else None
    return render_frame(ds, request.frame, voi_key, request.window).rgba


def encode(rgba: np.ndarray, request: RenderRequest) -> bytes:
    """RGBA to PNG (lossless) or JPEG, shrunk to max_size if asked. Greyscale (R = G = B) is
    written as one channel: the same pixels, a third of the bytes to compress; PNG at zlib level 1,
    because compressing dominates the time of a large image and the answer is for a viewer."""
    rgb = rgba[..., :3]
    grey = np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2])
    picture = Image.fromarray(np.ascontiguousarray(rgb[..., 0]), "L") if grey else Image.fromarray(rgb, "RGB")
    if request.max_size:
        picture.thumbnail((request.max_size, request.max_size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    name = FORMATS[request.image_format][0]
    picture.save(out, name, **({"quality": JPEG_QUALITY} if name == "JPEG" else {"compress_level": PNG_LEVEL}))
    return out.getvalue()


def render_image(dicom: bytes, request: RenderRequest) -> bytes:
    """The whole job a pool worker does: DICOM bytes in, encoded picture out.

    Raises UnreadableFile with the reason when the file cannot be rendered."""
    return encode(render_rgba(dicom, request), request)


def warm_up() -> int:
    """A no-op a new pool worker runs first, so numpy, pydicom and Pillow are imported before the first request."""
    return os.getpid()


__all__ = ["BadRequest", "RenderRequest", "UnreadableFile", "mime_type", "parse_request", "render_image", "warm_up"]
