#!/usr/bin/env python3
"""Mutation fuzzing of the decode and render path: real files, mutated, must never raise.

    .venv/bin/python tests/fuzz.py --cases 10000 [--seed 1] [--save crashes/]

Every case opens one mutated file in a fresh Session and renders its first and last frame. The
only acceptable outcomes are an image or a Problem (a reason for the user); any exception that
escapes is a defect, printed with the seed and case number that reproduce it. The mutations mix
blind byte edits with edits aimed at the attributes that drive allocation and decoding (Rows,
Columns, Bits Allocated, Number of Frames, the transfer syntax, ...). tests/unit/test_fuzz.py runs a
fixed-seed slice of the same cases inside the test suite.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "py"), str(Path(__file__).resolve().parent)]

from corpus import corpus_file  # noqa: E402
from dicomview.session import Problem, Session  # noqa: E402

SEED_FILES = (
    "MR_small.dcm", "CT_small.dcm", "MR_small_RLE.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm",
    "image_dfl.dcm", "emri_small.dcm", "rtdose.dcm", "SC_rgb.dcm", "SC_rgb_rle_2frame.dcm",
    "liver_1frame.dcm", "SC_ybr_full_uncompressed.dcm", "MR_small_jpeg_ls_lossless.dcm", "JPEG2000.dcm",
)
# (group, element) of attributes whose values steer allocation and decoding
TARGET_TAGS = (
    (0x0002, 0x0010), (0x0028, 0x0002), (0x0028, 0x0004), (0x0028, 0x0006), (0x0028, 0x0008),
    (0x0028, 0x0010), (0x0028, 0x0011), (0x0028, 0x0100), (0x0028, 0x0101), (0x0028, 0x0102),
    (0x0028, 0x0103), (0x0028, 0x1050), (0x0028, 0x1051), (0x0028, 0x1052), (0x0028, 0x1053),
    (0x0028, 0x2110), (0x7FE0, 0x0010),
)
INTERESTING = (0, 1, 2, 3, 7, 8, 12, 15, 16, 17, 31, 32, 33, 63, 64, 127, 128, 255, 256, 0x7FFF, 0x8000,
               0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF)
Mutation = Callable[[bytearray, random.Random], bytearray]


def flip_bits(buf: bytearray, rng: random.Random) -> bytearray:
    for _ in range(rng.randint(1, 8)):
        position = rng.randrange(len(buf))
        buf[position] ^= 1 << rng.randrange(8)
    return buf


def interesting_word(buf: bytearray, rng: random.Random) -> bytearray:
    size = rng.choice((1, 2, 4))
    value = rng.choice(INTERESTING) & ((1 << (8 * size)) - 1)
    position = rng.randrange(max(len(buf) - size, 1))
    buf[position:position + size] = value.to_bytes(size, rng.choice(("little", "big")))
    return buf


def truncate(buf: bytearray, rng: random.Random) -> bytearray:
    return buf[: rng.randrange(len(buf))]


def insert_bytes(buf: bytearray, rng: random.Random) -> bytearray:
    position = rng.randrange(len(buf) + 1)
    return buf[:position] + bytearray(rng.randbytes(rng.randint(1, 64))) + buf[position:]


def delete_chunk(buf: bytearray, rng: random.Random) -> bytearray:
    start = rng.randrange(len(buf))
    return buf[:start] + buf[start + rng.randint(1, 256):]


def duplicate_chunk(buf: bytearray, rng: random.Random) -> bytearray:
    start = rng.randrange(len(buf))
    chunk = buf[start:start + rng.randint(1, 256)]
    position = rng.randrange(len(buf) + 1)
    return buf[:position] + chunk + buf[position:]


def attack_attribute(buf: bytearray, rng: random.Random) -> bytearray:
    """Overwrite the value of an allocation-steering attribute (its value starts 8 bytes after the tag
    for short explicit VRs and for implicit VR alike)."""
    group, element = rng.choice(TARGET_TAGS)
    for order in ("little", "big"):
        tag = group.to_bytes(2, order) + element.to_bytes(2, order)
        position = buf.find(tag)
        if position >= 0:
            value = position + 8
            if rng.random() < 0.7:
                size = rng.choice((2, 4))
                word = (rng.choice(INTERESTING) & ((1 << (8 * size)) - 1)).to_bytes(size, order)
            else:
                word = rng.randbytes(rng.randint(1, 16))
            buf[value:value + len(word)] = word
            return buf
    return flip_bits(buf, rng)


MUTATIONS: tuple[Mutation, ...] = (
    flip_bits, interesting_word, truncate, insert_bytes, delete_chunk, duplicate_chunk,
    attack_attribute, attack_attribute, attack_attribute,
)


def mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not buf:
            break
        buf = rng.choice(MUTATIONS)(buf, rng)
    return bytes(buf)


def case_input(seeds: dict[str, bytes], seed: int, case: int) -> tuple[str, bytes]:
    """The seed file and mutated bytes of one case: the same (seed, case) always gives the same input."""
    rng = random.Random(f"{seed}:{case}")
    name = rng.choice(SEED_FILES)
    return name, mutate(seeds[name], rng)


def regenerate(seed: int, case: int) -> bytes:
    """The input of one case, to reproduce a crash the command reported."""
    return case_input({name: corpus_file(name).read_bytes() for name in SEED_FILES}, seed, case)[1]


def exercise(data: bytes) -> str:
    """Open and render one input the way the page does; return 'image' or 'problem', or raise."""
    session = Session()
    outcome = session.open_file("case.dcm", data)
    if isinstance(outcome, Problem):
        return "problem"
    for frame in sorted({0, outcome.frames - 1}):
        outcome.frame = frame
        rendered = session.render(session.images.index(outcome))
        if isinstance(rendered, Problem):
            return "problem"
        rows, columns = int(outcome.dataset.Rows), int(outcome.dataset.Columns)
        if rendered.rgba.shape != (rows, columns, 4) or rendered.rgba.dtype.name != "uint8":
            raise AssertionError(f"rendered {rendered.rgba.shape} {rendered.rgba.dtype} for {rows}x{columns}")
    return "image"


@dataclass
class Crash:
    case: int
    seed_file: str
    error: str
    where: str
    data: bytes


def run(cases: int, seed: int) -> tuple[Counter, list[Crash], float]:
    seeds = {name: corpus_file(name).read_bytes() for name in SEED_FILES}
    outcomes, crashes, slowest = Counter(), [], 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for case in range(cases):
            name, data = case_input(seeds, seed, case)
            started = time.perf_counter()
            try:
                outcomes[exercise(data)] += 1
            except Exception as exc:  # the defect we hunt: report it, keep going
                frame = traceback.extract_tb(exc.__traceback__)[-1]
                where = f"{Path(frame.filename).name}:{frame.lineno} {frame.name}"
                crashes.append(Crash(case, name, f"{type(exc).__name__}: {exc}"[:300], where, data))
                outcomes["crash"] += 1
            slowest = max(slowest, time.perf_counter() - started)
    return outcomes, crashes, slowest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--save", type=Path, help="write each crashing input to this folder")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    outcomes, crashes, slowest = run(args.cases, args.seed)
    elapsed = time.perf_counter() - started
    print(f"{args.cases} cases (seed {args.seed}) in {elapsed:.1f} s, slowest case {slowest * 1000:.0f} ms: "
          + ", ".join(f"{key} {count}" for key, count in sorted(outcomes.items())))
    by_place = Counter((crash.where, crash.error.split(":")[0]) for crash in crashes)
    for (where, kind), count in by_place.most_common():
        example = next(c for c in crashes if c.where == where)
        print(f"  {count:5d} x {kind} at {where} (e.g. case {example.case} from {example.seed_file}): {example.error}")
    if args.save and crashes:
        args.save.mkdir(parents=True, exist_ok=True)
        for crash in crashes:
            (args.save / f"case-{args.seed}-{crash.case}.dcm").write_bytes(crash.data)
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
