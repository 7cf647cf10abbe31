#!/usr/bin/env python3
"""Serve the dicomview page on 127.0.0.1, vendoring the pinned browser runtime first if missing.

    python serve.py                    # http://127.0.0.1:8000/
    python serve.py --port 8080
    python serve.py --vendor-only      # fetch and verify site/vendor/, pack py/ into it, then exit

Needs only the Python standard library (plus npm, Node.js and pip for the one-time vendor step). Node.js
also packs py/ with its bytecode after an edit; without it serve.py warns, and the page compiles the edits.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO_ROOT / "py"))

from dicomview.serving import bundle, static, vendor  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = any free port)")
    parser.add_argument("--vendor-only", action="store_true", help="vendor the runtime and exit")
    parser.add_argument("--no-vendor", action="store_true", help="serve without checking site/vendor/")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    if not args.no_vendor:
        try:
            vendor.vendor(REPO_ROOT / "site" / "vendor")
        except vendor.VendorError as exc:
            print(f"serve.py: cannot vendor the browser runtime: {exc}", file=sys.stderr)
            return 2
        if not pack(strict=args.vendor_only):
            return 2
    if args.vendor_only:
        return 0

    server = static.make_server(REPO_ROOT, args.host, args.port, verbose=args.verbose)
    host, port = server.server_address[:2]
    try:  # the banner inside: a Ctrl-C right after it still stops cleanly
        print(f"dicomview: serving http://{host}:{port}/ (Ctrl-C stops)", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        print("\ndicomview: stopped")
    finally:
        server.server_close()
    return 0


def pack(strict: bool) -> bool:
    """Pack py/ into site/vendor/dicomview.zip with its bytecode, for static hosts. Returns False if that
    failed and `strict` (the vendor step, which is what static hosts get).

    Serving does not need it: this server builds the archive from py/ at each request, reusing the
    bytecode of unchanged modules, and the browser compiles the others. So without Node.js, or with a
    module that does not compile (the page shows its error), serve.py warns in one line and serves."""
    try:
        if bundle.vendor_archive(REPO_ROOT):
            print(f"dicomview: py/dicomview packed into site/vendor/{bundle.ARCHIVE}", flush=True)
        return True
    except (vendor.VendorError, OSError) as exc:
        what = f"cannot pack py/ into site/vendor/{bundle.ARCHIVE} with its bytecode: {exc}"
    if strict:
        print(f"serve.py: {what}", file=sys.stderr)
        return False
    print(f"serve.py: warning: {what} (serving anyway; the browser compiles what lacks bytecode)", file=sys.stderr)
    return True


if __name__ == "__main__":
    sys.exit(main())
