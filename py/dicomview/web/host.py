"""The page's objects for Python running in PyScript's worker (issue 7): reading, decoding and rendering
never hold up the page, which only forwards events and draws what comes back.

Why not PyScript's own `window`/`document` proxies: every new object they hand to Python (an element,
an event, a rect) costs Pyodide ~30 property probes across the threads to classify it, ~4 ms each here
(tests/bench/README.md, "Python in a worker"). Here the page keeps its objects in a table
(site/bridge.js) and Python holds their numbers. Writes (attributes, text, styles, canvas drawing, new
elements, named by Python before they exist) wait in a queue; `flush` posts it at the end of each event
handler and each step of a task, and Python goes on while the page does it (an image's pixels move there,
`Transfer`, rather than being copied). A read posts the queue and itself and waits for the answer in
shared memory. All batches travel on one MessagePort, so the page does them in order. Callbacks
(listeners, animation frames, promises) come back as numbered calls of `_dispatch`, through PyScript.
"""

from __future__ import annotations

import asyncio
import json
import traceback
from collections.abc import Callable
from typing import Any

import js
from pyodide.ffi import JsDoubleProxy, JsProxy, create_proxy, to_js
from pyscript import window as _pyscript_window

URL = js.URL  # the worker's own: a URL is plain data

_bridge = _pyscript_window.dicomviewBridge  # PyScript's synchronous proxy: used once, to connect
_METHODS: set[str] = set()  # property names seen to hold functions: no read is needed before calling them
_callbacks: dict[int, tuple[Callable, bool]] = {}  # number -> (callable, called once)
_callback_numbers: dict[int, int] = {}  # id(persistent callable) -> number
_next_callback = [0]

# Writes wait in `_queue` and cross to the page with the next read (or at the end of a handler or a task
# step, `flush`): a render's ~100 DOM and canvas writes cost one crossing, not one each.
_queue: list[list] = []
_queue_extras: list = []
_queue_transfer: list = []  # the ArrayBuffers of Transfer()-wrapped extras: moved to the page, not cloned
_released: list[int] = []
_next_kept = [0]
# Methods whose result Python never uses: queued like writes.
WRITE_METHODS = frozenset({
    "setAttribute", "removeAttribute", "append", "prepend", "replaceChildren", "remove", "add", "focus",
    "putImageData", "drawImage", "fillText", "strokeText", "fillRect", "clearRect", "strokeRect", "beginPath",
    "closePath", "moveTo", "lineTo", "arc", "rect", "stroke", "fill", "save", "restore", "setTransform",
    "translate", "scale", "rotate", "setLineDash", "addEventListener", "observe", "requestAnimationFrame",
    "revokeObjectURL", "click", "dicomviewShareFiles",
})
# Methods that always give a new object: Python names it at once (a negative number) and goes on.
CREATE_METHODS = frozenset({"createElement", "createTextNode", "getContext"})


class PageError(Exception):
    """A JavaScript exception thrown on the page by something Python asked for."""


class Transfer:
    """A typed array Python made for the page alone (an image's pixels): its buffer moves to the page with
    the batch instead of being copied, and is unusable here afterwards."""

    def __init__(self, array) -> None:
        self.array = array


class Once:
    """A callback the page calls at most once (animation frames, promise settlements, toBlob)."""

    def __init__(self, function: Callable) -> None:
        self.function = function


def _callback(function: Callable, once: bool) -> dict:
    if not once and id(function) in _callback_numbers:
        return {"c": _callback_numbers[id(function)]}
    _next_callback[0] += 1
    number = _next_callback[0]
    _callbacks[number] = (function, once)
    if not once:
        _callback_numbers[id(function)] = number
    return {"c": number}


def _encode(value: Any, extras: list) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return value if value == value and abs(value) != float("inf") else {"n": str(value)}
    if isinstance(value, PageObject):
        return {"h": value._number}
    if isinstance(value, PageMethod):
        return {"h": value._handle()._number}
    if isinstance(value, dict):
        return {"o": {str(key): _encode(item, extras) for key, item in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"l": [_encode(item, extras) for item in value]}
    if isinstance(value, Once):
        return _callback(value.function, once=True)
    if isinstance(value, Transfer):
        _queue_transfer.append(value.array.buffer)
        return _encode(value.array, extras)
    if isinstance(value, JsDoubleProxy):  # create_proxy(f): a listener kept for the page's lifetime
        return _callback(value.unwrap(), once=False)
    if isinstance(value, JsProxy):
        if value.typeof == "function":  # a worker function (a promise's resolve): called once
            return _callback(value, once=True)
        if js.ArrayBuffer.isView(value) or value.typeof != "object" or hasattr(value, "size"):
            extras.append(value)  # typed arrays, Blobs, Files: cloned by the browser, not as JSON
            return {"x": len(extras) - 1}
        return _encode(value.to_py(), extras)
    if callable(value):
        return _callback(value, once=False)
    raise TypeError(f"cannot hand {type(value).__name__} to the page")


def _arguments(values) -> list:
    return [_encode(value, _queue_extras) for value in values]


# One ordered channel to the page (site/bridge.js): a MessagePort carries every batch, in order. A batch
# of writes is posted and Python goes on while the page draws it; a batch ending in a read waits, blocked
# on Atomics.wait, until the page has written the answer into shared memory. Counters there: [0] answer
# state (0 waiting, 1 ready, 2 too long for the answer buffer), [1] answer length, [2] batches posted,
# [3] batches done (dicomviewBridge.idle compares the two).
ANSWER_WAITING, ANSWER_READY, ANSWER_TOO_LONG = 0, 1, 2
STATE, LENGTH, POSTED, DONE = 0, 1, 2, 3  # the counters' places
AHEAD_AT_MOST = 2  # batches of pixels the page may have still to draw before Python waits for it
_counters = js.Int32Array.new(js.SharedArrayBuffer.new(16))
_answer_bytes = [js.Uint8Array.new(js.SharedArrayBuffer.new(1 << 16))]
_channel = js.MessageChannel.new()


def _message(**fields: Any):
    return to_js(fields, dict_converter=js.Object.fromEntries)


def _post(message, transfer: list) -> None:
    js.Atomics.add(_counters, POSTED, 1)
    _channel.port1.postMessage(message, js.Array.from_(transfer))


def _wait_for_page(ahead: int) -> None:
    """Until the page has at most `ahead` batches still to do (it draws what it is sent, in order)."""
    while (done := js.Atomics.load(_counters, DONE)) < js.Atomics.load(_counters, POSTED) - ahead:
        js.Atomics.wait(_counters, DONE, done, 100)


def _answer() -> str:
    """The page's answer to the batch just posted: wait for it in shared memory."""
    while js.Atomics.load(_counters, STATE) == ANSWER_WAITING:
        js.Atomics.wait(_counters, STATE, ANSWER_WAITING, 1000)
    length = js.Atomics.load(_counters, LENGTH)
    if js.Atomics.load(_counters, STATE) == ANSWER_TOO_LONG:  # a larger buffer, and the page writes it again
        _answer_bytes[0] = js.Uint8Array.new(js.SharedArrayBuffer.new(2 * length))
        js.Atomics.store(_counters, STATE, ANSWER_WAITING)
        _channel.port1.postMessage(_message(answerBytes=_answer_bytes[0]))
        return _answer()
    return _answer_bytes[0].subarray(0, length).to_bytes().decode()


def _send(final: list | None = None) -> Any:
    """Everything queued, then `final`; returns final's answer (decoded)."""
    commands = list(_queue)
    if _released:  # after the writes that may still name them
        commands.append(["release", 0, None, list(_released)])
        _released.clear()
    if final is not None:
        commands.append(final)
    extras = js.Array.from_(_queue_extras) if _queue_extras else None
    transfer = list(_queue_transfer)
    _queue.clear()
    _queue_extras.clear()
    _queue_transfer.clear()
    if transfer:  # pixels: the page must not fall behind by more than a few images
        _wait_for_page(AHEAD_AT_MOST)
    js.Atomics.store(_counters, STATE, ANSWER_WAITING)
    _post(_message(json=json.dumps(commands), extras=extras, answer=final is not None), transfer)
    if final is None:
        return None
    answer = json.loads(_answer())
    for error in answer["errors"]:
        js.console.error(f"dicomview: on the page: {error}")
    return answer["r"]


def flush() -> None:
    """Send the queued writes now (the end of a handler, a task's step, before waiting on the page)."""
    if _queue or len(_released) > 256:
        _send()


def _ask(command: list, missing: str | None = None) -> Any:
    return _decode_value(_send(command), missing)


def _kept(command: list) -> PageObject:
    _next_kept[0] -= 1
    _queue.append([*command, _next_kept[0]])
    return PageObject(_next_kept[0])


def _decode_value(value: Any, missing: str | None = None) -> Any:
    if not isinstance(value, dict):
        return value
    if "h" in value:
        return PageObject(value["h"])
    if "u" in value:
        return None
    if "n" in value:
        return float(value["n"])
    if "l" in value:
        return [_decode_value(item) for item in value["l"]]
    if "e" in value:
        raise PageError(value["e"])
    if "m" in value:
        raise AttributeError(missing)
    raise ValueError(f"unexpected answer from the page: {str(value)[:80]}")


class PageObject:
    """One object of the page, by number: attribute reads, writes and calls go to the page."""

    __slots__ = ("_number",)

    def __init__(self, number: int) -> None:
        object.__setattr__(self, "_number", number)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        name = "from" if name == "from_" else name  # Array.from: a Python keyword
        if name in _METHODS or name in WRITE_METHODS or name in CREATE_METHODS:
            return PageMethod(self, name)
        value = _send(["get", self._number, name])
        if isinstance(value, dict) and "fn" in value:
            _METHODS.add(name)
            return PageMethod(self, name)
        return _decode_value(value, missing=name)

    def __setattr__(self, name: str, value: Any) -> None:
        _queue.append(["set", self._number, name, _encode(value, _queue_extras)])

    def __call__(self, *args: Any) -> Any:
        return _ask(["apply", self._number, None, _arguments(args)])

    def new(self, *args: Any) -> Any:
        return _kept(["new", self._number, None, _arguments(args)])

    def __getitem__(self, key: int | str) -> Any:
        return getattr(self, str(key))

    def __iter__(self):
        return iter(_ask(["items", self._number]))

    def __len__(self) -> int:
        return int(self.length)

    def __bool__(self) -> bool:
        return True

    def __await__(self):
        """A promise of the page: its value, or a PageError."""
        return callback_result(self.then).__await__()

    def __del__(self) -> None:
        if self._number > 2 or self._number < 0:  # 1 and 2 are the page's window and document
            _released.append(self._number)


class PageMethod:
    """`page_object.name` where that is a function: called as a method, constructed, or read further."""

    __slots__ = ("_name", "_owner")

    def __init__(self, owner: PageObject, name: str) -> None:
        self._owner, self._name = owner, name

    def __call__(self, *args: Any) -> Any:
        command = ["call", self._owner._number, self._name, _arguments(args)]
        if self._name in WRITE_METHODS:
            _queue.append(command)
            return None
        if self._name in CREATE_METHODS:
            return _kept(command)
        return _ask(command)

    def new(self, *args: Any) -> Any:
        return _kept(["new", self._owner._number, self._name, _arguments(args)])

    def _handle(self) -> PageObject:
        return _ask(["get", self._owner._number, self._name + "\0"])  # "\0": the function itself

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._handle(), name)


def _dispatch(number: int, arguments: str) -> None:
    """The page calls a callback Python gave it (site/bridge.js)."""
    entry = _callbacks.get(number)
    if entry is None:
        return
    function, once = entry
    if once:
        del _callbacks[number]
    values = [_decode_value(item) for item in json.loads(arguments)]
    if isinstance(function, JsProxy):  # a JS function of the worker keeps what it gets: no borrowed proxies
        values = [create_proxy(value) if isinstance(value, PageObject) else value for value in values]
    try:
        function(*values)
    except Exception:
        js.console.error(f"dicomview: {traceback.format_exc()}")
    finally:
        flush()


def callback_result(function: Callable, *args: Any) -> asyncio.Future:
    """Await a callback-style page API, `function(*args, success, error)` (FileSystemEntry.file,
    DirectoryReader.readEntries): the value given to `success`, or a PageError."""
    future = asyncio.get_running_loop().create_future()

    def done(value: Any = None) -> None:
        if not future.done():
            future.set_result(value)

    def failed(error: Any = None) -> None:
        if not future.done():
            future.set_exception(PageError(str(getattr(error, "message", error))))

    function(*args, Once(done), Once(failed))
    return future


_dispatcher = create_proxy(_dispatch)
_bridge.connect(_dispatcher)  # the page now listens for the channel, sent next
js.postMessage(_message(dicomviewChannel=_channel.port2, counters=_counters, answerBytes=_answer_bytes[0]),
              js.Array.of(_channel.port2))

window = PageObject(1)
document = PageObject(2)
navigator = window.navigator
location = window.location
performance = window.performance
ImageData = window.ImageData
ResizeObserver = window.ResizeObserver


_bridge_on_page = window.dicomviewBridge
_busy = [0]


def busy(delta: int) -> None:
    """Count Python's pending work on the page (dicomviewBridge.idle): tests wait for it after an input."""
    before = _busy[0]
    _busy[0] += delta
    if (before == 0) != (_busy[0] == 0):
        _bridge_on_page.busy = _busy[0]
        flush()


class _Flushing:
    """Drives a coroutine and sends its queued writes each time it waits: a task's progress (a status line,
    a progress bar) reaches the page while it runs, not at its end."""

    def __init__(self, coroutine) -> None:
        self.coroutine = coroutine

    def __await__(self):
        sent, thrown = None, None
        while True:
            try:
                waiting = self.coroutine.send(sent) if thrown is None else self.coroutine.throw(thrown)
            except StopIteration as stop:
                flush()
                return stop.value
            except BaseException:
                flush()
                raise
            flush()
            sent, thrown = None, None
            try:
                sent = yield waiting
            except BaseException as exc:  # cancellation, or an exception for the awaited future
                thrown = exc


async def flushing(coroutine):
    """`coroutine` with its writes sent at each of its waits (_Flushing); for asyncio.ensure_future."""
    return await _Flushing(coroutine)


def soon(callback: Callable) -> None:
    """Run `callback` once the events already waiting have been handled: a drag's many moves, one render.
    Not at the page's next animation frame, as on a main thread: from here that costs a crossing to the
    page and back, and the page shows the pixels when they arrive anyway."""
    busy(+1)

    def run() -> None:
        _run_pending(callback)
        busy(-1)

    asyncio.get_running_loop().call_soon(run)


def _run_pending(callback: Callable) -> None:
    """Work Python scheduled for itself: an error is logged (nobody awaits it), the writes are sent."""
    try:
        callback()
    except Exception:
        js.console.error(f"dicomview: {traceback.format_exc()}")
    finally:
        flush()


def later(delay: float, callback: Callable) -> Callable[[], None]:
    """Run `callback` after `delay` seconds unless the function returned is called first: work that a
    newer request makes useless (the tag table of a slice scrolled past). Pending work until then, as
    for `soon` (dicomviewBridge.idle waits for it)."""
    busy(+1)
    settled = [False]

    def settle() -> bool:
        if settled[0]:
            return False
        settled[0] = True
        busy(-1)
        return True

    def run() -> None:
        if not settled[0]:
            _run_pending(callback)
            settle()

    handle = asyncio.get_running_loop().call_later(delay, run)

    def cancel() -> None:
        if settle():
            handle.cancel()

    return cancel


def request_animation_frame(callback: Callable) -> None:
    """Run `callback` before the page's next paint (cine's frames). The page stays idle meanwhile: a render
    that must be waited for is asked for with `soon`."""
    window.requestAnimationFrame(Once(callback))


import_module = js.Function.new("url", "return import(url)")  # Python cannot write import()

_files_waiting: dict[int, tuple[asyncio.Future, list]] = {}


def _files_arrived(event) -> None:
    """One part of a choice of files (bridge.js posts them in parts); the last part completes it."""
    ticket = event.data.ticket
    if ticket not in _files_waiting:
        return
    future, arrived = _files_waiting[ticket]
    arrived.extend(event.data.files)
    if event.data.last:
        del _files_waiting[ticket]
        if future.done():
            return
        if getattr(event.data, "error", None):
            future.set_exception(PageError(f"the files could not be handed to Python: {event.data.error}"))
        else:
            future.set_result(arrived)


_channel.port1.onmessage = create_proxy(_files_arrived)  # what the page sends on the channel: Files only


async def local_files(files) -> list:
    """The page's File objects (a FileList or an array, as a PageObject) as this thread's own, to read
    here: the page posts the Files (handles, not their bytes) back on this module's channel
    (site/bridge.js dicomviewShareFiles), and they arrive as the worker's."""
    ticket = 1
    while ticket in _files_waiting:
        ticket += 1
    future = asyncio.get_running_loop().create_future()
    _files_waiting[ticket] = (future, [])
    window.dicomviewShareFiles(ticket, files)
    flush()
    return await future
