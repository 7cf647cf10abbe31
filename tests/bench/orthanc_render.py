#!/usr/bin/env python3
"""Server-side rendering benchmark (not a test): /dicomview/render/{instance} in a real Orthanc,
1, 3 and 8 concurrent requests, for each process-pool size asked; medians of the wall time of a
whole batch (all requests sent at once, timed until the last answer) over --rounds rounds, the
configurations measured in turn within each round.

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
    pools = sorted({int(w) for w in args.workers.split(",")})
    levels = [int(c) for c in args.concurrency.split(",")]
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; file {args.file}; "
          f"medians of {args.rounds} rounds (seconds per batch)", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        # one Orthanc per pool size, all started first; rounds alternate between them, so a change
        # in the machine's load (shared machines) falls on every configuration alike
        servers = {workers: start_orthanc(Path(folder) / f"pool{workers}", {"Workers": workers,
                                                                            "ExplorerButton": False})
                   for workers in pools}
        try:
            paths = {}
            for workers, server in servers.items():
                paths[workers] = f"/dicomview/render/{server.upload(corpus_file(args.file))['ID']}"
                batch(server, paths[workers], workers)  # warm: every worker has imported and rendered once
            times: dict[tuple[int, int], list[float]] = {(w, c): [] for w in pools for c in levels}
            for _ in range(args.rounds):
                for concurrent in levels:
                    for workers, server in servers.items():
                        times[workers, concurrent].append(batch(server, paths[workers], concurrent))
        finally:
            for server in servers.values():
                stop_orthanc(server)
    for workers in pools:
        cells = [f"{c} concurrent {statistics.median(times[workers, c]):6.3f} s" for c in levels]
        print(f"pool {workers}: " + " | ".join(cells))
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
