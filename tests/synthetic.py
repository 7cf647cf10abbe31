"""DICOM files written by the tests with pydicom, for cases the real corpora do not hold."""

from __future__ import annotations

import copy
import io
import json
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate, generate_frames
from pydicom.uid import ExplicitVRLittleEndian, HTJ2KLossless, HTJ2KLosslessRPCL, generate_uid


def write_dicom(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def base_dataset(**attributes) -> Dataset:
    """A Secondary Capture instance with file meta and the given attributes."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    for name, value in attributes.items():
        setattr(ds, name, value)
    return ds


def image_dataset(pixels: np.ndarray, **attributes) -> Dataset:
    """An unsigned 16-bit MONOCHROME2 image of `pixels`; attributes override the image module."""
    image = dict(Rows=pixels.shape[0], Columns=pixels.shape[1], SamplesPerPixel=1,
                 PhotometricInterpretation="MONOCHROME2", BitsAllocated=16, BitsStored=16, HighBit=15,
                 PixelRepresentation=0)
    ds = base_dataset(**(image | attributes))
    ds.PixelData = pixels.astype("<u2").tobytes()
    return ds


def claiming(**attributes) -> bytes:
    """A 2x2 image file whose header claims other attributes (absurd sizes, impossible values)."""
    return write_dicom(image_dataset(np.zeros((2, 2)), **attributes))


def encapsulated(transfer_syntax: str) -> bytes:
    """A 2x2 image whose Pixel Data is encapsulated under `transfer_syntax` (a syntax with no decoder
    anywhere, such as MPEG-2 video, gives a stable "not supported" case)."""
    ds = image_dataset(np.zeros((2, 2)), BitsAllocated=8, BitsStored=8, HighBit=7)
    ds.file_meta.TransferSyntaxUID = transfer_syntax
    ds.PixelData = encapsulate([b"\x00" * 16])
    ds["PixelData"].VR = "OB"
    return write_dicom(ds)


# --- HTJ2K made from real pixel data by OpenJPH's WebAssembly encoder, run under Node.js ---------------
# The corpora hold no HTJ2K file. tests/openjph.cjs runs the vendored npm @cornerstonejs/codec-openjph
# (the module the page decodes with) under Node.js; lossless files keep the source's own pixels as truth.
OPENJPH_SCRIPT = Path(__file__).with_name("openjph.cjs")
OPENJPH_MODULE = Path(__file__).resolve().parents[1] / "site" / "vendor" / "codecs" / "openjph" / "openjphjs.js"


class OpenJPHUnavailable(RuntimeError):
    """Node.js or the vendored OpenJPH module is missing: HTJ2K files cannot be made here."""


def run_openjph(*args: str) -> None:
    node = shutil.which("node")
    if node is None:
        raise OpenJPHUnavailable("Node.js is not installed")
    if not OPENJPH_MODULE.is_file():
        raise OpenJPHUnavailable(f"{OPENJPH_MODULE} is missing (run serve.py --vendor-only)")
    done = subprocess.run([node, str(OPENJPH_SCRIPT), *args], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"openjph.cjs {args[0]} failed: {done.stderr.strip()}")


def pack_codestreams(codestreams: list[bytes]) -> bytes:
    return b"".join(struct.pack("<I", len(codestream)) + codestream for codestream in codestreams)


def unpack_codestreams(data: bytes) -> list[bytes]:
    codestreams, at = [], 0
    while at < len(data):
        (length,) = struct.unpack_from("<I", data, at)
        codestreams.append(data[at + 4 : at + 4 + length])
        at += 4 + length
    return codestreams


def openjph_samples(frames: np.ndarray, bits_stored: int, signed: bool) -> np.ndarray:
    """Frames in OpenJPH's layout: one byte per sample up to 8 bits, else two, little endian."""
    if bits_stored <= 8:
        return frames.astype(np.int8 if signed else np.uint8)
    return frames.astype("<i2" if signed else "<u2")


def htj2k_encode(frames: np.ndarray, bits_stored: int, signed: bool, *, colour_transform: bool = False,
                 lossless: bool = True, quantization_step: float = 0.0, tlm_marker: bool = False) -> list[bytes]:
    """One HTJ2K codestream per frame of `frames` ((frames, rows, columns[, 3]) stored values), by OpenJPH:
    RPCL, 5 decompositions, 64x64 code blocks; reversible 5-3 wavelet (and RCT if colour_transform) when
    lossless, else the 9-7 wavelet (and ICT) with the given quantization step."""
    colour = frames.ndim == 4
    params = dict(frames=frames.shape[0], width=frames.shape[2], height=frames.shape[1],
                  componentCount=3 if colour else 1, bitsPerSample=bits_stored, isSigned=signed,
                  isUsingColorTransform=colour_transform, lossless=lossless, quantizationStep=quantization_step,
                  progressionOrder=2, decompositions=5, tlmMarker=tlm_marker)
    if colour and not colour_transform:
        # Without a component transform OpenJPH's codestream takes the planes one after the other, but
        # this encoder hands it lines row by row, component by component: lay the planes' lines out in
        # that order (the codestream then holds the true planes; OpenJPEG decodes them as the source).
        n, rows, columns = frames.shape[:3]
        frames = frames.transpose(0, 3, 1, 2).reshape(n, rows, 3, columns).transpose(0, 1, 3, 2)
    with tempfile.TemporaryDirectory(prefix="dicomview-htj2k-") as tmp:
        samples, out = Path(tmp) / "samples", Path(tmp) / "codestreams"
        samples.write_bytes(openjph_samples(frames, bits_stored, signed).tobytes())
        run_openjph("encode", json.dumps(params), str(samples), str(out))
        return unpack_codestreams(out.read_bytes())


def htj2k_decode(codestreams: list[bytes], shape: tuple[int, ...], bits_stored: int, signed: bool) -> np.ndarray:
    """The frames as OpenJPH's WebAssembly decoder returns them: clamped only to its 8- or 16-bit
    containers, and colour without a component transform laid out plane line by plane line."""
    dtype = (np.int8 if signed else np.uint8) if bits_stored <= 8 else np.dtype("<i2" if signed else "<u2")
    with tempfile.TemporaryDirectory(prefix="dicomview-htj2k-") as tmp:
        data, out = Path(tmp) / "codestreams", Path(tmp) / "samples"
        data.write_bytes(pack_codestreams(codestreams))
        run_openjph("decode", str(data), str(out))
        return np.frombuffer(out.read_bytes(), dtype).reshape(shape)


def stored_frames(ds: Dataset) -> np.ndarray:
    """Every frame's stored values as (frames, rows, columns[, samples])."""
    arr = ds.pixel_array
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    return arr.reshape((frames, ds.Rows, ds.Columns) + (() if ds.SamplesPerPixel == 1 else (ds.SamplesPerPixel,)))


def htj2k_from(source: Dataset, transfer_syntax: str = HTJ2KLossless, *, colour_transform: bool = False,
               lossless: bool = True, quantization_step: float = 0.0) -> tuple[bytes, list[bytes]]:
    """A copy of `source` (attributes kept, new SOP Instance UID) whose pixel data is re-encoded as HTJ2K
    under `transfer_syntax`; returns the file and its codestreams. A TLM marker is written for HTJ2K
    Lossless RPCL, which DICOM requires (with the RPCL progression, which OpenJPH uses anyway)."""
    signed = bool(source.get("PixelRepresentation", 0))
    frames = stored_frames(source)
    codestreams = htj2k_encode(frames, int(source.BitsStored), signed, colour_transform=colour_transform,
                               lossless=lossless, quantization_step=quantization_step,
                               tlm_marker=transfer_syntax == HTJ2KLosslessRPCL)
    ds = copy.deepcopy(source)
    ds.file_meta.TransferSyntaxUID = transfer_syntax
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    if frames.ndim == 4:
        ds.PlanarConfiguration = 0
        ds.PhotometricInterpretation = ("YBR_RCT" if lossless else "YBR_ICT") if colour_transform else "RGB"
    if not lossless:
        ds.LossyImageCompression = "01"
        ds.LossyImageCompressionMethod = "ISO_15444_15"
        ds.LossyImageCompressionRatio = f"{frames.nbytes / sum(map(len, codestreams)):.2f}"
    ds.PixelData = encapsulate(codestreams)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    return write_dicom(ds), codestreams


def uncompressed_twin(source: Dataset, frames: np.ndarray) -> bytes:
    """A copy of `source` holding `frames` as native (uncompressed) pixel data: the expected image of a
    lossy file, for pydicom to render."""
    ds = copy.deepcopy(source)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    if frames.ndim == 4:
        ds.PlanarConfiguration = 0
        ds.PhotometricInterpretation = "RGB"
    for keyword in ("LossyImageCompression", "LossyImageCompressionMethod", "LossyImageCompressionRatio"):
        ds.pop(keyword, None)
    signed = bool(ds.get("PixelRepresentation", 0))
    ds.PixelData = frames.astype(f"<{'i' if signed else 'u'}{ds.BitsAllocated // 8}").tobytes()
    ds["PixelData"].VR = "OB" if ds.BitsAllocated == 8 else "OW"
    ds["PixelData"].is_undefined_length = False
    return write_dicom(ds)


def jpeg_without_scan(name: str) -> bytes:
    """A real DCT JPEG file (from the corpora) cut after its frame header: the codestream has tables and a
    frame header but no scan, which every IJG-based decoder refuses ("missing SOS marker")."""
    from corpus import corpus_file

    ds = pydicom.dcmread(corpus_file(name))
    frame = next(generate_frames(ds.PixelData, number_of_frames=1))
    start = max(frame.find(b"\xff\xc0"), frame.find(b"\xff\xc1"))  # SOF0 or SOF1 (ISO 10918-1 B.2.2)
    end = start + 2 + int.from_bytes(frame[start + 2:start + 4], "big")
    ds.PixelData = encapsulate([frame[:end] + b"\xff\xd9"])
    return write_dicom(ds)


# --- volume phantoms: CT series of known geometry (PS3.3 C.7.6.2 Image Plane, C.7.6.16 functional groups) ---
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
ENHANCED_CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2.1"
AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def ct_dataset(pixels: np.ndarray, sop_class: str = CT_IMAGE_STORAGE, **attributes) -> Dataset:
    """A signed 16-bit CT image (or multi-frame, for a 3-d `pixels`) in Hounsfield units by
    slope 1, intercept -1024 unless `attributes` say otherwise."""
    image = dict(Rows=pixels.shape[-2], Columns=pixels.shape[-1], SamplesPerPixel=1, Modality="CT",
                 PhotometricInterpretation="MONOCHROME2", BitsAllocated=16, BitsStored=16, HighBit=15,
                 PixelRepresentation=1, StudyInstanceUID="1.2.826.0.1.3680043.2.1125.1",
                 SeriesInstanceUID="1.2.826.0.1.3680043.2.1125.1.1")
    ds = base_dataset(**(image | attributes))
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.PixelData = pixels.astype("<i2").tobytes()
    return ds


def phantom_positions(count: int, spacing: tuple[float, float, float], orientation=AXIAL, origin=(0.0, 0.0, 0.0),
                      shear_per_slice: float = 0.0) -> np.ndarray:
    """Image Position (Patient) of `count` slices stepping spacing[0] mm along the normal, each moved
    `shear_per_slice` mm further along the column cosine (a gantry tilt of atan(shear / step))."""
    row, column = np.array(orientation[:3], float), np.array(orientation[3:], float)
    normal = np.cross(row, column)
    steps = np.arange(count)[:, None]
    return np.asarray(origin, float) + steps * spacing[0] * normal + steps * shear_per_slice * column


def phantom_series(voxels: np.ndarray, spacing: tuple[float, float, float], orientation=AXIAL,
                   origin=(0.0, 0.0, 0.0), positions: np.ndarray | None = None, skip: tuple[int, ...] = (),
                   shear_per_slice: float = 0.0, **attributes) -> list[tuple[str, bytes]]:
    """One CT file per slice of `voxels` (slices, rows, columns; stored values), named slice001.dcm...,
    with Pixel Spacing spacing[1:] and positions from phantom_positions unless given; slices whose index
    is in `skip` are not written (a gap)."""
    if positions is None:
        positions = phantom_positions(len(voxels), spacing, orientation, origin, shear_per_slice)
    files = []
    for n, pixels in enumerate(voxels):
        if n in skip:
            continue
        plane = dict(ImageOrientationPatient=[f"{v:.6f}" for v in orientation],
                     ImagePositionPatient=[f"{v:.4f}" for v in positions[n]],
                     PixelSpacing=[f"{v:g}" for v in spacing[1:]], SliceThickness=f"{spacing[0]:g}",
                     RescaleSlope="1", RescaleIntercept="-1024", InstanceNumber=n + 1)
        ds = ct_dataset(pixels, **(plane | attributes))
        files.append((f"slice{n + 1:03d}.dcm", write_dicom(ds)))
    return files


def enhanced_phantom(voxels: np.ndarray, spacing: tuple[float, float, float], orientation=AXIAL,
                     origin=(0.0, 0.0, 0.0), frame_order: list[int] | None = None) -> bytes:
    """An Enhanced CT object holding `voxels` as frames in `frame_order` (default: as given): orientation,
    pixel measures and rescale shared, Plane Position per frame (PS3.3 C.7.6.16.2)."""
    from pydicom.sequence import Sequence

    order = list(range(len(voxels))) if frame_order is None else frame_order
    positions = phantom_positions(len(voxels), spacing, orientation, origin)
    ds = ct_dataset(voxels[order], ENHANCED_CT_IMAGE_STORAGE, NumberOfFrames=len(order))
    shared, plane, measures, transformation = Dataset(), Dataset(), Dataset(), Dataset()
    plane.ImageOrientationPatient = [f"{v:.6f}" for v in orientation]
    measures.PixelSpacing = [f"{v:g}" for v in spacing[1:]]
    measures.SliceThickness = f"{spacing[0]:g}"
    transformation.RescaleSlope, transformation.RescaleIntercept, transformation.RescaleType = "1", "-1024", "HU"
    shared.PlaneOrientationSequence = Sequence([plane])
    shared.PixelMeasuresSequence = Sequence([measures])
    shared.PixelValueTransformationSequence = Sequence([transformation])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    frames = []
    for n in order:
        frame, position = Dataset(), Dataset()
        position.ImagePositionPatient = [f"{v:.4f}" for v in positions[n]]
        frame.PlanePositionSequence = Sequence([position])
        frames.append(frame)
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
    return write_dicom(ds)


def body_phantom(slices: int, size: int) -> np.ndarray:
    """Air with a water cylinder and a bone rod, stored as int16 with intercept -1024."""
    rows, columns = np.ogrid[:size, :size]
    body = (rows - size / 2) ** 2 + (columns - size / 2) ** 2 <= (size * 0.4) ** 2
    rod = (rows - size / 2) ** 2 + (columns - size * 0.3) ** 2 <= (size * 0.05) ** 2
    frame = np.full((size, size), 24, np.int16)
    frame[body], frame[rod] = 1024, 2024
    return np.broadcast_to(frame, (slices, size, size))
