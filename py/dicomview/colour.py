"""The colour pixel pipeline as small pure functions over numpy arrays (PS3.3 C.7.6.3, C.7.9).

colour samples (as `pydicom.pixels.pixel_array` returns them) -> RGB at the stored bit depth
-> 8-bit RGB -> RGBA, alpha 255.

What pydicom 3.0.2 hands us, per Photometric Interpretation (default `pixel_array` options):
- RGB: (rows, columns, 3) whatever the Planar Configuration, masked to Bits Stored, in the file's
  byte order (a big-endian file gives '>u2'/'>u4' arrays, which numpy reads correctly).
- YBR_FULL, YBR_FULL_422: already RGB. Its decoders run `convert_color_space` (as_rgb=True) for
  native, RLE and JPEG data alike, after expanding uncompressed 4:2:2 (PS3.3 C.7.6.3.1.2).
  That conversion assumes 8-bit samples, so YBR with more than 8 bits stored cannot be shown.
- YBR_ICT, YBR_RCT: already RGB. Every JPEG 2000 decoder pydicom uses (pylibjpeg-openjpeg,
  Pillow, GDCM) undoes the multi-component transform inside the codestream (PS3.5 A.4.4).
- PALETTE COLOR: one sample per pixel; the palette is applied here.

Scaling to 8 bits follows DCMTK's display of colour (dcm2pnm; DiColorPixelTemplate): samples of
more than 8 bits keep their top 8, v >> (bits - 8), which is floor(v * 256 / 2**bits) and within
1 of the rounded v * 255 / (2**bits - 1); samples of fewer than 8 bits scale up as
floor(v * 255 / (2**bits - 1)). Measured against dcm2pnm 3.6.7 on 9- to 32-bit ramps: identical.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels.processing import apply_color_lut

from dicomview.decode import UnreadableFile, transfer_syntax
from dicomview.pipeline import OPAQUE, rgba32_to_bytes

# Photometric interpretations whose frames pydicom's pixel_array already returns as RGB.
AS_RGB = ("RGB", "YBR_FULL", "YBR_FULL_422", "YBR_ICT", "YBR_RCT")
# pydicom converts these from YBR with 8-bit arithmetic (offset 128, clipped to 255).
CONVERTED_FROM_8_BIT_YBR = ("YBR_FULL", "YBR_FULL_422")
PALETTE = "PALETTE COLOR"
CHANNELS = ("Red", "Green", "Blue")
MAX_LUT_ENTRIES = 1 << 16  # a descriptor's "0 entries" means 2^16 (PS3.3 C.7.6.3.1.5)


def scale_to_8_bits(values: np.ndarray, bits: int) -> np.ndarray:
    """Unsigned samples of `bits` significant bits onto 0..255, as DCMTK displays colour.

    bits > 8: v >> (bits - 8); bits < 8: floor(v * 255 / (2**bits - 1)); 8: unchanged. Bits above
    `bits` are not part of the sample (PS3.5 8.1.1) and are masked, so a wrong Bits Stored cannot index
    past the table.
    """
    if bits == 8:
        return values.astype(np.uint8, copy=False)
    if bits > 8:
        kind = np.uint32 if bits > 16 else np.uint16
        return (values.astype(kind, copy=False) >> kind(bits - 8)).astype(np.uint8)
    lut = (np.arange(1 << bits, dtype=np.uint32) * 255 // ((1 << bits) - 1)).astype(np.uint8)
    return lut[values & ((1 << bits) - 1)]


def unsigned_samples(samples: np.ndarray, bits: int, signed: bool) -> np.ndarray:
    """Samples as unsigned `bits`-bit values; signed ones are offset by 2**(bits-1) as DCMTK does,
    so the most negative value is black (Pixel Representation 1, PS3.3 C.7.6.3.1)."""
    if not signed:
        return samples
    return (samples.astype(np.int64) + (1 << (bits - 1))).astype(np.uint32)


def rgb_to_rgba(rgb8: np.ndarray) -> np.ndarray:
    """(rows, columns, 3) uint8 -> (rows, columns, 4) uint8 with alpha 255."""
    rows, columns = rgb8.shape[:2]
    rgba = np.empty((rows, columns, 4), dtype=np.uint8)
    rgba[..., :3] = rgb8
    rgba[..., 3] = 255
    return rgba


def rgb_frame_to_rgba(ds: Dataset, rgb: np.ndarray, photometric: str) -> np.ndarray:
    """An RGB frame of any bit depth (PS3.3 C.7.6.3.1.2: RGB, and YBR that pydicom converted) to RGBA."""
    if rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise UnreadableFile(f"a {photometric} frame must have three samples per pixel, got shape {rgb.shape}")
    if rgb.dtype.kind not in "iu":
        raise UnreadableFile(f"{photometric} pixel data must be integers, not {rgb.dtype}")
    bits = bits_stored(ds, rgb)
    if photometric in CONVERTED_FROM_8_BIT_YBR and bits > 8:
        raise UnreadableFile(
            f"{photometric} with {bits} bits stored is not supported: only 8-bit YBR converts to RGB here"
        )
    signed = rgb.dtype.kind == "i"
    return rgb_to_rgba(scale_to_8_bits(unsigned_samples(rgb, bits, signed), bits))


def bits_stored(ds: Dataset, samples: np.ndarray) -> int:
    """Bits Stored (PS3.3 C.7.6.3), bounded by the array's own width."""
    width = samples.dtype.itemsize * 8
    try:
        bits = int(ds.get("BitsStored", width))
    except (TypeError, ValueError):
        bits = width
    return min(max(bits, 1), width)


def is_little_endian(ds: Dataset) -> bool:
    """The byte order the dataset's OW values were read in (PS3.5 7.3), from the file itself."""
    encoding = getattr(ds, "original_encoding", (None, None))
    if encoding and encoding[1] is not None:
        return bool(encoding[1])
    try:
        syntax = transfer_syntax(ds)
        return syntax.is_little_endian if syntax.is_transfer_syntax else True
    except UnreadableFile:
        return True


def lut_descriptor(ds: Dataset, channel: str) -> tuple[int, int, int]:
    """(entries, first value mapped, bits per entry) of one Palette Color LUT (PS3.3 C.7.6.3.1.5)."""
    keyword = f"{channel}PaletteColorLookupTableDescriptor"
    value = ds.get(keyword)
    try:
        entries, first, bits = (int(v) for v in value[:3])
    except (TypeError, ValueError):
        raise UnreadableFile(f"PALETTE COLOR needs a three-number {keyword}, found {value!r}") from None
    if ds.get("PixelRepresentation", 0) == 1 and first >= 1 << 15:
        first -= 1 << 16  # US in the file, SS by meaning, for signed pixels
    return entries or MAX_LUT_ENTRIES, first, bits


def lut_entries(data: bytes | Sequence[int], entries: int, little_endian: bool) -> np.ndarray:
    """Palette Color LUT Data (PS3.3 C.7.6.3.1.6) as unsigned entries, read in the file's byte order.

    16 bits allocated per entry, one OW word each; or 8 bits allocated when the data holds one byte
    per entry, two entries to a word with the first in its low byte, so a big-endian file swaps
    each pair (as for 8-bit pixel data in OW, PS3.5 8.1.1; DCMTK reads them the same way).
    pydicom 3.0.2's apply_color_lut reads the words in the machine's byte order instead.
    """
    if not isinstance(data, bytes | bytearray):  # a US-valued element pydicom already decoded
        return np.asarray(data, dtype=np.int64).astype(np.uint16)
    words = np.frombuffer(data, dtype="<u2" if little_endian else ">u2", count=len(data) // 2)
    if len(words) != entries and len(words) == (entries + 1) // 2:
        return words.astype("<u2").view(np.uint8)[:entries].astype(np.uint16)
    return words.astype(np.uint16)


def entry_bits(declared: int, table: np.ndarray) -> int:
    """Bits per LUT entry: the descriptor's, or, if outside 1..16, the width of the largest entry
    (at least 8), as DCMTK's DiLookupTable::checkBits does."""
    if 1 <= declared <= 16:
        return declared
    largest = int(table.max()) if table.size else 0
    return min(max(largest.bit_length(), 8), 16)


def palette_tables(ds: Dataset) -> tuple[int, list[np.ndarray], list[int]]:
    """First value mapped, the three LUTs as unsigned entries and their bits (PS3.3 C.7.9).

    Segmented LUTs (C.7.9.2) are expanded by pydicom's apply_color_lut, which honours the file's
    byte order for them. Plain LUT Data is read here, in the file's byte order.
    """
    descriptors = [lut_descriptor(ds, channel) for channel in CHANNELS]
    entries, first, _ = descriptors[0]
    if any(d[:2] != (entries, first) for d in descriptors):
        raise UnreadableFile(f"the PALETTE COLOR descriptors disagree ({descriptors})")
    if all(f"{channel}PaletteColorLookupTableData" in ds for channel in CHANNELS):
        little = is_little_endian(ds)
        tables = [lut_entries(ds[f"{channel}PaletteColorLookupTableData"].value, entries, little)
                  for channel in CHANNELS]
    elif all(f"Segmented{channel}PaletteColorLookupTableData" in ds for channel in CHANNELS):
        try:
            expanded = apply_color_lut(np.arange(first, first + entries, dtype=np.int64), ds)
        except (ValueError, AttributeError, KeyError, IndexError, TypeError) as exc:
            raise UnreadableFile(f"the segmented PALETTE COLOR lookup table cannot be read ({exc})") from exc
        tables = [expanded[:, index].astype(np.uint16) for index in range(3)]
    else:
        raise UnreadableFile("PALETTE COLOR without Red, Green and Blue Palette Color Lookup Table Data")
    if any(table.size == 0 for table in tables):
        raise UnreadableFile("a PALETTE COLOR lookup table is empty")
    bits = [entry_bits(d[2], table) for d, table in zip(descriptors, tables, strict=True)]
    return first, tables, bits


def palette_rgba32_lut(tables: list[np.ndarray], bits: list[int]) -> np.ndarray:
    """The three LUTs as one table of packed RGBA words (entries above `bits` are masked, as DCMTK does)."""
    length = max(len(table) for table in tables)
    lut = np.full(length, OPAQUE, dtype=np.uint32)
    for shift, table, depth in zip((0, 8, 16), tables, bits, strict=True):
        padded = np.pad(table, (0, length - len(table)), mode="edge")  # a short LUT repeats its last entry
        masked = padded & np.uint16((1 << depth) - 1)
        lut |= scale_to_8_bits(masked, depth).astype(np.uint32) << np.uint32(shift)
    return lut


def palette_to_rgba(ds: Dataset, stored: np.ndarray) -> np.ndarray:
    """PALETTE COLOR (PS3.3 C.7.6.3.1.5): values below the first mapped take the first entry, values
    past the last take the last; then one gather through the packed RGBA table."""
    if stored.ndim != 2:
        raise UnreadableFile(f"a PALETTE COLOR frame must have one sample per pixel, got shape {stored.shape}")
    if stored.dtype.kind not in "iu":
        raise UnreadableFile(f"PALETTE COLOR pixel data must be integers, not {stored.dtype}")
    first, tables, bits = palette_tables(ds)
    lut = palette_rgba32_lut(tables, bits)
    index = np.clip(stored.astype(np.int64) - first, 0, len(lut) - 1)
    return rgba32_to_bytes(lut[index])


def colour_to_rgba(ds: Dataset, stored: np.ndarray) -> np.ndarray:
    """One colour frame, exactly as `pydicom.pixels.pixel_array(ds, index=frame)` returns it, to
    (rows, columns, 4) uint8 RGBA with alpha 255 (PS3.3 C.7.6.3.1.2, C.7.6.3.1.5)."""
    photometric = str(ds.get("PhotometricInterpretation", "")).strip().upper()
    if photometric in AS_RGB:
        return rgb_frame_to_rgba(ds, stored, photometric)
    if photometric == PALETTE:
        return palette_to_rgba(ds, stored)
    raise UnreadableFile(f"colour photometric interpretation {photometric or '(missing)'} is not supported")
