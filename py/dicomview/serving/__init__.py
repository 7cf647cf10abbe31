"""CPython-only tools: vendoring the pinned browser runtime and serving the viewer. Not loaded in the browser."""
