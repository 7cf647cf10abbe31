"""The tag browser: every element as a row of text (nested sequence items indented), a search box,
and copying to the clipboard: one row's value with its button, or every row shown as text."""

from __future__ import annotations

from dicomview import tags
from dicomview.web.dom import element, listen, make
from dicomview.web.host import later

SETTLE_S = 0.08
"""The table follows the image shown once it has stayed this long: scrolling or playing a stack at 60
slices per second, rebuilding ~100 rows for every slice halved the rate (the page's thread lays them out)."""


class TagBrowser:
    def __init__(self, page) -> None:
        self.page = page
        self.rows: list[tags.TagRow] = []
        self.shown: list[tags.TagRow] = []
        self.query = ""  # the search box's text, as its input events give it: drawing reads nothing
        self.body = None
        self._cancel_pending = lambda: None

    def attach(self) -> None:
        self.body = element("tags").tBodies[0]
        listen(element("tag-search"), "input", self.on_search)
        listen(element("tags"), "click", self.on_row_copy)
        listen(element("copy-tags"), "click",
               lambda event: self.page.copy_to_clipboard(tags.rows_text(self.shown), "Tags"))

    def show(self, rows: list[tags.TagRow]) -> None:
        self._cancel_pending()
        self.rows = rows
        self.draw()

    def show_settled(self, dataset) -> None:
        """The dataset's rows once no newer image has come for SETTLE_S (a newer one replaces this)."""
        self._cancel_pending()
        self._cancel_pending = later(SETTLE_S, lambda: self.show(tags.tag_rows(dataset)))

    def draw(self) -> None:
        """Every row matching the search, as text; each element row ends with a button copying its value."""
        element("tag-browser").hidden = False
        self.shown = tags.search(self.rows, self.query)
        rows = []
        for index, row in enumerate(self.shown):
            tr = make("tr", data_depth=str(row.depth))
            cells = (row.tag, ("  " * row.depth) + row.keyword, row.vr, row.value)
            tr.append(*[make("td", text) for text in cells])
            cell = make("td")
            if row.tag:  # not the "Item n" rows of a sequence
                cell.append(make("button", "", type="button", class_="copy-tag", data_row=str(index),
                                 aria_label=f"Copy the value of {row.keyword} {row.tag}", title="Copy the value"))
            tr.append(cell)
            rows.append(tr)
        self.body.replaceChildren(*rows)

    def on_search(self, event) -> None:
        self.query = str(event.target.value)
        self.draw()

    def on_row_copy(self, event) -> None:
        button = event.target.closest("button[data-row]")
        if button is not None:
            row = self.shown[int(button.getAttribute("data-row"))]
            self.page.copy_to_clipboard(row.value, f"{row.keyword} {row.tag}")

