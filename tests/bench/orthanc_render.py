#!/usr/bin/env python3
"""Server-side rendering benchmark (not a test): /dicomview/render/{instance} in a real Orthanc,
1, 3 and 8 concurrent requests, for each process-pool size asked; medians of the wall time of a
whole batch (all requests sent at once, timed until the last answer) over --rounds rounds.

    .venv/bin/python tests/bench/orthanc_render.py [--workers 1,2] [--rounds 7] [--file RG1_UNCR.dcm]

With N workers on >= N cores, a batch of up to N requests should take about as long as one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests" / "orthanc"), str(ROOT / "tests"), str(ROOT / "py")]
from conftest import start_orthanc, stop_orthanc  # noqa: E402
from corpus import corpus_file  # noqa: E402


def batch(server, path: str, concurrent: int) -> float:
    def one(_: int) -> int:
        reply = server.request(path)
        assert reply.status == 200, (reply.status, reply.body[:200])
        return len(reply.body)

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrent) as threads:
        list(threads.map(one, range(concurrent)))
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default=f"1,{os.cpu_count()}", help="pool sizes to try (comma-separated)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--file", default="RG1_UNCR.dcm", help="a file of the test corpora (default 1955x1841 CR)")
    parser.add_argument("--concurrency", default="1,3,8")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; file {args.file}; medians of {args.rounds} rounds (seconds per batch)")
    for workers in sorted({int(w) for w in args.workers.split(",")}):
        with tempfile.TemporaryDirectory() as folder:
            server = start_orthanc(Path(folder), {"Workers": workers, "ExplorerButton": False})
            try:
                instance = server.upload(corpus_file(args.file))["ID"]
                path = f"/dicomview/render/{instance}"
                batch(server, path, workers)  # warm: every worker has imported and rendered once
                cells = []
                for concurrent in (int(c) for c in args.concurrency.split(",")):
                    median = statistics.median(batch(server, path, concurrent) for _ in range(args.rounds))
                    cells.append(f"{concurrent} concurrent {median:6.3f} s")
                print(f"pool {workers}: " + " | ".join(cells), flush=True)
            finally:
                stop_orthanc(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
