"""Debian's Chromium driven by PyPI playwright (DESIGN §6): `playwright install` downloads a browser and
cannot work here. One place for the binary and its flags, shared by the tests and the benchmarks."""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
