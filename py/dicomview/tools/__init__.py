"""CPython-only developer tools (DCMTK references, the conformance report). Not loaded in the browser."""
