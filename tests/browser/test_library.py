"""Opening in Chromium: a folder through input#open-folder (webkitdirectory), a real directory drop,
a zip archive, the progress count while a large folder is read, the diagnostics panel, and the series
list with thumbnails read back from their canvases and compared with the CPython pipeline."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.fileset import FileSet

from conftest import canvas_rgba, open_viewer, problem_lines, render_count, wait_for_render_after
from corpus import PYDICOM_FILES, corpus_file
from dicomview.opening import Batch, Entry, diagnostics_text
from dicomview.session import Session
from dicomview.studies import group_studies
from dicomview.thumbnails import middle_frame, thumbnail
from synthetic import image_dataset, write_dicom

pytestmark = pytest.mark.browser

FILE_SET = (PYDICOM_FILES / "dicomdirtests").resolve()
OPEN_DONE = "/image\\(s\\) open/.test(document.getElementById('status-text').textContent)"


def expected_batch(root: Path) -> Batch:
    """The same folder read by the same plain-Python batch under CPython, in the page's (name) order."""
    entries = [Entry(f"{root.name}/{path.relative_to(root).as_posix()}", False, handle=path)
               for path in root.rglob("*") if path.is_file()]
    batch = Batch(Session())
    batch.add(sorted(entries, key=lambda entry: entry.path))
    batch.run(lambda entry: Path(entry.handle).read_bytes())
    return batch


def wait_until_read(page, action) -> None:
    """Run `action`, then wait until the page has read the files and says how many images are open."""
    page.evaluate("document.getElementById('status-text').textContent = ''")
    action()
    page.wait_for_function(OPEN_DONE, timeout=120_000)


def image_paths(page) -> list[str]:
    return page.eval_on_selector_all("#image-list button", "bs => bs.map(b => b.textContent.split(' · ')[0])")


@pytest.fixture(scope="module")
def folder(viewer):
    """pydicom's DICOMDIR file-set opened through Open folder… (Playwright sets a directory on a
    webkitdirectory input, Chromium gives each file its webkitRelativePath)."""
    wait_until_read(viewer, lambda: viewer.set_input_files("#open-folder", str(FILE_SET)))
    viewer.wait_for_function("[...document.querySelectorAll('#series-list canvas')]"
                             ".every(c => c.dataset.sopInstanceUid)", timeout=60_000)
    return viewer, expected_batch(FILE_SET)


def test_the_folder_input_is_a_directory_picker_next_to_open_files(viewer):
    assert viewer.evaluate("document.getElementById('open-folder').webkitdirectory")
    assert viewer.locator("label[for='open-folder']").text_content() == "Open folder…"


def test_a_folder_opens_every_image_and_names_only_dicom_files_that_cannot_be_shown(folder):
    page, expected = folder
    assert image_paths(page) == [image.file_name for image in expected.session.images]
    assert len(expected.session.images) == 31
    lines = problem_lines(page)
    assert sorted(lines) == sorted(str(problem) for problem in expected.problems)
    assert not [line for line in lines if "README" in line or "DICOMDIR" in line]  # skipped / used, not listed
    assert page.locator("#problem-count").text_content() == f"({len(lines)})"


def test_non_dicom_files_of_a_folder_are_counted_and_listed_apart(folder):
    page, _ = folder
    assert page.locator("#skipped").text_content() == "2 non-DICOM files skipped"
    skipped = page.eval_on_selector_all("#skipped-list li", "items => items.map(item => item.dataset.file)")
    assert skipped == ["dicomdirtests/README.txt", "dicomdirtests/TINY_ALPHA/README"]
    assert "8 DICOMDIRs read" in page.locator("#status-text").text_content()


def test_the_series_list_shows_studies_and_series_with_counts(folder):
    page, expected = folder
    studies = group_studies(expected.session.images)
    titles = page.eval_on_selector_all("#series-list .study-title", "ts => ts.map(t => t.textContent)")
    assert titles == [study.title for study in studies]
    series = page.eval_on_selector_all(
        "#series-list button.series",
        "bs => bs.map(b => [b.querySelector('.series-title').textContent,"
        "                   b.querySelector('.series-counts').textContent])")
    assert series == [[entry.title, entry.counts] for study in studies for entry in study.series]


def test_each_thumbnail_is_the_pipelines_middle_image_downsampled(folder):
    page, expected = folder
    entries = [entry for study in group_studies(expected.session.images) for entry in study.series]
    for number, entry in enumerate(entries):
        image = expected.session.images[entry.thumbnail_index]
        selector = f'#series-list button[data-series="{number}"] canvas'
        assert page.get_attribute(selector, "data-sop-instance-uid") == image.sop_instance_uid
        reference = thumbnail(image.dataset, middle_frame(image.frames))
        assert page.get_attribute(selector, "data-frame") == str(middle_frame(image.frames))
        assert np.array_equal(canvas_rgba(page, selector), reference), entry.title


def test_clicking_a_series_shows_its_first_image_and_marks_it_current(folder):
    page, expected = folder
    entries = [entry for study in group_studies(expected.session.images) for entry in study.series]
    for number in (len(entries) - 1, 1):
        before = render_count(page)
        page.locator(f'#series-list button[data-series="{number}"]').click()
        wait_for_render_after(page, before)
        first = expected.session.images[entries[number].first]
        assert page.get_attribute("canvas#image", "data-sop-instance-uid") == first.sop_instance_uid
        for _ in range(2):  # re-rendered (inverted, and back): the series stays marked
            before = render_count(page)
            page.keyboard.press("i")
            wait_for_render_after(page, before)
        current = page.eval_on_selector_all("#series-list button[aria-current='true']",
                                            "bs => bs.map(b => b.dataset.series)")
        assert current == [str(number)]


def test_the_diagnostics_are_copied_as_text(folder):
    page, expected = folder
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("#copy-problems")
    page.wait_for_function("document.getElementById('status-text').textContent.includes('copied')")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == diagnostics_text(expected.session.problems, expected.skipped)


def zip_archive(tmp_path: Path) -> Path:
    mr = corpus_file("MR_small.dcm").read_bytes()
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("inner/MR_small.dcm", mr)
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("PATIENT/CT/CT_small.dcm", corpus_file("CT_small.dcm").read_bytes())
        archive.writestr("PATIENT/readme.html", "<p>burned by the scanner</p>")
        archive.writestr("__MACOSX/PATIENT/._CT_small.dcm", b"\0\5\26\7")
        archive.writestr("PATIENT/cut.dcm", mr[:600])
        archive.writestr("nested.zip", inner.getvalue())
    return path


def test_a_zip_archive_opens_with_its_nested_folders_and_archives(viewer, tmp_path):
    before_lines = len(problem_lines(viewer))
    wait_until_read(viewer, lambda: viewer.set_input_files("#open-files", str(zip_archive(tmp_path))))
    paths = image_paths(viewer)
    assert "export.zip/PATIENT/CT/CT_small.dcm" in paths and "export.zip/nested.zip/inner/MR_small.dcm" in paths
    new_lines = problem_lines(viewer)[before_lines:]
    assert [line.split(": ")[0] for line in new_lines] == ["export.zip/PATIENT/cut.dcm"]
    status = viewer.locator("#status-text").text_content()
    assert status.endswith(" · 1 non-DICOM file, 1 hidden or system file skipped")
    skipped = viewer.eval_on_selector_all("#skipped-list li", "items => items.map(item => item.dataset.file)")
    assert {"export.zip/PATIENT/readme.html", "export.zip/__MACOSX/PATIENT/._CT_small.dcm"} <= set(skipped)


def test_a_dicomdir_opened_alone_asks_for_its_folder(viewer):
    before_lines = len(problem_lines(viewer))
    wait_until_read(viewer, lambda: viewer.set_input_files("#open-files", str(FILE_SET / "DICOMDIR")))
    (line,) = problem_lines(viewer)[before_lines:]
    referenced = len(FileSet(pydicom.dcmread(FILE_SET / "DICOMDIR")))  # pydicom's count of its records' files
    assert line.startswith(f"DICOMDIR: references {referenced} of {referenced} files that were not opened (")
    assert line.endswith("Open the folder that holds it (Open folder…) to see them.")
    count = viewer.locator("#messages li").count()
    assert viewer.locator("#problem-count").text_content() == f"({count})"


def test_a_large_program_on_a_cd_is_skipped_by_its_first_bytes(viewer, tmp_path):
    folder = tmp_path / "CD"
    folder.mkdir()
    (folder / "viewer.exe").write_bytes(b"MZ\x90\x00" + bytes(3 << 20))
    (folder / "IM1").write_bytes(corpus_file("MR_small.dcm").read_bytes())
    before_lines = len(problem_lines(viewer))
    wait_until_read(viewer, lambda: viewer.set_input_files("#open-folder", str(folder)))
    assert viewer.locator("#status-text").text_content().endswith(" image(s) open · 1 non-DICOM file skipped")
    assert "CD/IM1" in image_paths(viewer) and len(problem_lines(viewer)) == before_lines
    assert viewer.locator("#skipped-list li[data-file='CD/viewer.exe']").count() == 1


def test_a_dropped_directory_is_walked(browser, server_url):
    """A real drop of a real directory: Chrome DevTools' Input.dispatchDragEvent with a path, as the
    operating system hands it to Chromium; the page gets FileSystemDirectoryEntry items to walk."""
    page = open_viewer(browser, server_url)
    folder = FILE_SET / "77654033"
    drag = {"items": [], "files": [str(folder)], "dragOperationsMask": 1}
    cdp = page.context.new_cdp_session(page)
    box = page.locator("#viewport").bounding_box()
    point = {"x": box["x"] + box["width"] / 2, "y": box["y"] + box["height"] / 2}

    def drop() -> None:
        for kind in ("dragEnter", "dragOver", "drop"):
            cdp.send("Input.dispatchDragEvent", {"type": kind, **point, "data": drag})

    wait_until_read(page, drop)
    assert image_paths(page) == [image.file_name for image in expected_batch(folder).session.images]
    assert image_paths(page)[0].startswith("77654033/")
    assert problem_lines(page) == [] and page.errors == []
    page.close()


@pytest.fixture(scope="module")
def large_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("large") / "series"
    folder.mkdir()
    for number in range(300):
        ds = image_dataset(np.full((8, 8), number), StudyInstanceUID="1.2.3", SeriesInstanceUID="1.2.3.4",
                           InstanceNumber=number + 1, Modality="OT")
        (folder / f"IM{number:04d}").write_bytes(write_dicom(ds))
    (folder / "README").write_text("exported by a test")
    return folder


@pytest.fixture(scope="module")
def large_zip(large_folder) -> Path:
    path = large_folder.parent / "series.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for member in sorted(large_folder.iterdir()):
            archive.write(member, f"series/{member.name}")
    return path


@pytest.mark.parametrize(("source", "total"), [("folder", 301), ("zip", 302)])
def test_a_large_batch_shows_its_count_and_the_page_answers_while_reading(
        browser, server_url, large_folder, large_zip, source, total):
    """Each animation frame records the progress line: frames painted between the first and the last
    file prove the page was not blocked; a key pressed mid-batch is handled mid-batch. Reading a folder
    awaits each File; an archive's members are in memory, so there only the explicit yields let the
    page paint."""
    page = open_viewer(browser, server_url)
    page.settle_inputs = False  # act while the batch is read: inputs must not wait for it (tests/chromium.py)
    page.evaluate("""() => {
        window.seen = [];
        const status = document.getElementById('status-text'), bar = document.getElementById('open-progress');
        const tick = () => {
            if (!bar.hidden) seen.push([status.textContent, bar.value, bar.max]);
            requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
        document.addEventListener('keydown', () => { window.keyStatus = status.textContent; });
    }""")
    if source == "folder":
        page.set_input_files("#open-folder", str(large_folder))
    else:
        page.set_input_files("#open-files", str(large_zip))
    page.wait_for_function(f"/^Reading [0-9]+ of {total} files$/.test(document.getElementById('status-text')"
                           ".textContent) && document.getElementById('open-progress').value > 10", timeout=120_000)
    page.keyboard.press("?")
    page.wait_for_function(OPEN_DONE, timeout=120_000)
    assert page.evaluate("window.keyStatus").startswith("Reading ")
    seen = page.evaluate("window.seen")
    middle = {value for text, value, top in seen if 10 < value < total - 1 and top == total}
    assert len(middle) >= 2, seen[:5]
    # Python writes the bar, then the line, from its worker: a frame may fall between the two writes
    odd = [(text, value, top) for text, value, top in seen
           if text not in (f"Reading {int(value) + step} of {int(top)} files" for step in (0, 1))]
    assert odd == []
    assert page.locator("#open-progress").is_hidden()
    assert page.locator("#status-text").text_content() == "300 image(s) open · 1 non-DICOM file skipped"
    assert page.locator("#series-list .series-counts").all_text_contents() == ["300 images"]
    assert problem_lines(page) == []
    page.close()


PYTHON_HEAP = "dicomviewPythonHeapBytes()"  # the worker's WebAssembly memory (py/dicomview/web/main.py)


def test_a_series_pixels_stay_in_their_files_until_a_slice_is_shown(browser, server_url, tmp_path):
    """Issue 7, memory: the page reads each File in place (dicomview.deferred); only the shown slices'
    pixels enter Python's heap. Read into memory, 48 slices of 512x512 grew it by 26 MiB; 96 here leave
    room for one of the heap's growth steps (~20% of it) within the bound. A first series is opened before:
    the first image's imports and buffers take ~18 MiB once."""
    for series, count in (("first", 4), ("second", 96)):
        (tmp_path / series).mkdir()
        for number in range(count):
            ds = image_dataset(np.full((512, 512), number * 10, np.uint16), StudyInstanceUID="1.2.3",
                               SeriesInstanceUID=f"1.2.3.{count}", InstanceNumber=number + 1, Modality="CT")
            (tmp_path / series / f"CT{number:03d}.dcm").write_bytes(write_dicom(ds))
    page = open_viewer(browser, server_url)
    (worker,) = page.workers
    wait_until_read(page, lambda: page.set_input_files("#open-folder", str(tmp_path / "first")))
    before = worker.evaluate(PYTHON_HEAP)
    wait_until_read(page, lambda: page.set_input_files("#open-folder", str(tmp_path / "second")))
    count = render_count(page)
    page.locator("canvas#image").hover()
    for _ in range(5):  # a few slices shown: each read from its file, then given back
        page.mouse.wheel(0, 100)
    wait_for_render_after(page, count)
    grown, pixels = worker.evaluate(PYTHON_HEAP) - before, 96 * 512 * 512 * 2
    assert page.locator("#status-text").text_content() == "100 image(s) open"
    assert grown < pixels / 3, f"Python's heap grew by {grown / 2**20:.1f} MiB for {pixels / 2**20:.0f} MiB of pixels"
    assert problem_lines(page) == [] and page.errors == []
    page.close()
