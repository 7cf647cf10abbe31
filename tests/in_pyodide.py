"""Python run in the vendored Pyodide under Node.js by the tests of what the page's start-up imports.

COUNT_COMPILED, run first, makes `compiled` list every module compiled from source rather than loaded
from bytecode (the bytecode made at vendor time must leave it empty for start-up's modules).
"""

COUNT_COMPILED = """
import importlib._bootstrap_external as external
compiled = []
original = external.SourceLoader.source_to_code
def source_to_code(self, data, path, **kw):
    compiled.append(path)
    return original(self, data, path, **kw)
external.SourceLoader.source_to_code = source_to_code
"""
