#!/usr/bin/env python3
"""Reslice benchmark (not a test): a 300-slice 512x512 int16 CT phantom written as 300 DICOM files with
pydicom, read, built into a volume, then each view resliced. Prints the median time per plane (one slice
of the view turned into RGBA with a 40/400 HU window, as the page draws it), per 10-slice slab (MIP,
MinIP, mean, stored values), and the peak memory that tracemalloc sees while building and reslicing.

    .venv/bin/python tests/bench/reslice.py [--slices 300] [--size 512] [--runs 15]
"""

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "py")]
from dicomview.decode import read_dataset  # noqa: E402
from dicomview.pipeline import Window  # noqa: E402
from dicomview.render import render_greyscale  # noqa: E402
from dicomview.reslice import plane_image, planes, slab_image, slice_count  # noqa: E402
from dicomview.volume import Volume, build_volume  # noqa: E402
from synthetic import body_phantom, phantom_series  # noqa: E402

MIB = 1 << 20


def median_ms(action, indices) -> float:
    times = []
    for index in indices:
        start = time.perf_counter()
        action(index)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    files = phantom_series(body_phantom(args.slices, args.size), (1.0, 0.7, 0.7))
    images = [(name, read_dataset(data)) for name, data in files]
    del files
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    start = time.perf_counter()
    volume = build_volume(images)
    built = time.perf_counter() - start
    assert isinstance(volume, Volume), volume
    build_peak = tracemalloc.get_traced_memory()[1] - base
    print(f"volume {volume.voxels.shape} {volume.voxels.dtype}: {volume.voxels.nbytes / MIB:.0f} MiB, "
          f"built in {built:.2f} s, peak while building {build_peak / MIB:.0f} MiB above the opened files")
    tracemalloc.reset_peak()
    held = tracemalloc.get_traced_memory()[0]
    for name, plane in planes(volume).items():
        count = slice_count(volume, plane)
        indices = np.linspace(0, count - 1, args.runs).round().astype(int)
        plain = median_ms(lambda i, plane=plane: render_greyscale(volume.modality, plane_image(volume, plane, i),
                                                                  window=Window(40, 400)), indices)
        slabs = {mode: median_ms(lambda i, plane=plane, mode=mode: slab_image(volume, plane, i, 10, mode), indices)
                 for mode in ("mip", "minip", "mean")}
        shape = plane_image(volume, plane, 0).shape
        print(f"{name:9s} {count:3d} slices of {shape}: plane to RGBA {plain:6.2f} ms, "
              + ", ".join(f"10-slice {mode} {ms:6.2f} ms" for mode, ms in slabs.items()) + " (medians)")
    reslice_peak = tracemalloc.get_traced_memory()[1] - held
    print(f"peak while reslicing: {reslice_peak / MIB:.1f} MiB above the volume")
    print("(one float64 copy of the volume would be "
          f"{volume.voxels.size * 8 / MIB:.0f} MiB: none is made)")


if __name__ == "__main__":
    main()
