"""Small DOM helpers shared by the page and its gestures: lookups, text-only elements, listeners."""

from __future__ import annotations

from js import Object, document
from pyodide.ffi import create_proxy, to_js


def element(element_id: str):
    return document.getElementById(element_id)


def make(tag: str, text: str = "", **attributes: str):
    """An element whose content is text (never HTML); class_ -> class, data_x -> data-x."""
    node = document.createElement(tag)
    node.textContent = text
    for name, value in attributes.items():
        node.setAttribute(name.rstrip("_").replace("_", "-"), value)
    return node


class Listeners:
    """Event handlers as JS proxies, kept alive as long as their owner (Pyodide frees unreferenced ones)."""

    def __init__(self) -> None:
        self._proxies = []

    def on(self, target, name: str, handler, **options) -> None:
        proxy = create_proxy(handler)
        self._proxies.append(proxy)
        if options:
            target.addEventListener(name, proxy, to_js(options, dict_converter=Object.fromEntries))
        else:
            target.addEventListener(name, proxy)
