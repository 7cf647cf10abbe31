"""DCMTK (Debian `dcmtk`) as the independent reference renderer: dcm2pnm to 8-bit PGM/PPM, read back.

Options follow DESIGN §8: `+Wi 1` the file's first window, `+Wm` min-max, `-O` no overlays
(overlays are drawn in the annotation layer, never burnt into canvas#image).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pydicom.uid

# What plain dcm2pnm reads: the uncompressed syntaxes (deflated included) and RLE
DCM2PNM_SYNTAXES = frozenset(pydicom.uid.UncompressedTransferSyntaxes + pydicom.uid.RLETransferSyntaxes)


class DcmtkRefused(RuntimeError):
    """DCMTK could not render the file; the message is its own."""


def read_netpbm(data: bytes) -> np.ndarray:
    """Parse binary PGM (P5) or PPM (P6) with maxval 255 into (rows, columns[, 3]) uint8."""
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    magic, width, height, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    if maxval != 255:
        raise ValueError(f"expected 8-bit netpbm, got maxval {maxval}")
    channels = {b"P5": 1, b"P6": 3}[magic]
    pixels = np.frombuffer(data, np.uint8, width * height * channels, pos + 1)
    return pixels.reshape(height, width, channels).squeeze(axis=2) if channels == 1 else pixels.reshape(
        height, width, 3)


def dcm2pnm(
    path: Path, *options: str, frame: int = 0, binary: str = "dcm2pnm", overlays: bool = False
) -> np.ndarray:
    """Render frame `frame` (0-based) of `path` with DCMTK; raise DcmtkRefused if it cannot.

    `binary` may be dcmj2pnm (adds the JPEG decoders) or dcml2pnm (JPEG-LS): same arguments.
    `overlays` lets DCMTK burn the overlay planes in (white), as our annotation layer draws them.
    """
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.pnm"
        done = subprocess.run(
            [shutil.which(binary) or f"/usr/bin/{binary}", "+op", *(() if overlays else ("-O",)), "+F", str(frame + 1),
             *options,
             str(path), str(out)],
            capture_output=True, text=True, timeout=120,
        )
        if done.returncode != 0 or not out.exists():
            raise DcmtkRefused((done.stderr or done.stdout).strip())
        return read_netpbm(out.read_bytes())


def voi_options(rendered) -> tuple[str, ...]:
    """DCMTK's options for the VOI a RenderedFrame used: the file's window or VOI LUT by number, the
    min-max, or any other window we computed (preset, auto, dragged) given explicitly."""
    kind, _, number = rendered.voi_key.partition(":")
    if kind == "window":
        return ("+Wi", str(int(number) + 1))
    if kind == "voi-lut":
        return ("+Wl", str(int(number) + 1))
    if kind == "min-max" or rendered.window is None:
        return ("+Wm",)
    return ("+Ww", repr(rendered.window.center), repr(rendered.window.width))


def uses_frame_groups(ds) -> bool:
    """Does this enhanced multi-frame object keep its rescale or window in functional groups?"""
    from dicomview.render import RENDERING_GROUPS, group_item

    return any(group_item(ds, 0, keyword) is not None for keyword in RENDERING_GROUPS)


def classic_frame_copy(path: Path, index: int, folder: Path) -> Path:
    """Frame `index` of an enhanced object as a classic single-frame file with that frame's rescale and
    window at the top level, uncompressed: DCMTK 3.6.7 ignores functional groups, so this is what it
    can render as the reference."""
    import pydicom
    import pydicom.pixels

    from dicomview.render import frame_view

    ds = pydicom.dcmread(path)
    view = frame_view(ds, index)
    frame = pydicom.pixels.pixel_array(ds, index=index, raw=True)
    for keyword in ("PerFrameFunctionalGroupsSequence", "SharedFunctionalGroupsSequence", "NumberOfFrames"):
        if keyword in ds:
            del ds[keyword]
    for keyword in ("RescaleSlope", "RescaleIntercept", "WindowCenter", "WindowWidth", "VOILUTFunction"):
        if keyword in view:
            ds[keyword] = view[keyword]
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    ds.PixelData = frame.astype(frame.dtype.newbyteorder("<")).tobytes()
    ds["PixelData"].VR = "OW" if ds.BitsAllocated > 8 else "OB"
    out = folder / f"{path.stem}-frame{index}.dcm"
    ds.save_as(out, enforce_file_format=True)
    return out
