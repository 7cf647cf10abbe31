"""The series list (dicomview.studies) and its thumbnails (dicomview.thumbnails): studies and series of
pydicom's real DICOMDIR file-set, checked against the DICOMDIR's own records as pydicom reads them."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pydicom
from PIL import Image
from pydicom.fileset import FileSet

from corpus import PYDICOM_FILES, corpus_file
from dicomview.decode import read_dataset
from dicomview.render import render_frame
from dicomview.session import Session
from dicomview.studies import format_date, group_studies
from dicomview.thumbnails import THUMBNAIL_SIZE, downsample, thumbnail

FILE_SET = PYDICOM_FILES / "dicomdirtests"


def file_set_session() -> Session:
    session = Session()
    paths = sorted(path for path in FILE_SET.glob("9*/**/*") if path.is_file())
    paths += sorted(path for path in FILE_SET.glob("7*/**/*") if path.is_file())
    session.open_batch([(path.relative_to(FILE_SET).as_posix(), path.read_bytes()) for path in paths])
    return session


def test_studies_and_series_match_the_dicomdir_records():
    """The DICOMDIR's STUDY and SERIES records and the IMAGE records under each are the reference."""
    file_set = FileSet(pydicom.dcmread((FILE_SET / "DICOMDIR").resolve()))
    expected = Counter((instance.StudyInstanceUID, instance.SeriesInstanceUID) for instance in file_set)
    studies = group_studies(file_set_session().images)
    got = Counter({(study.uid, entry.key.series): entry.images for study in studies for entry in study.series})
    assert got == expected
    assert len(studies) == len({study for study, _ in expected})


def test_series_entries_point_at_their_own_images_in_session_order():
    session = file_set_session()
    studies = group_studies(session.images)
    covered = []
    for study in studies:
        for entry in study.series:
            images = session.images[entry.first:entry.first + entry.images]
            assert {image.series for image in images} == {entry.key}
            assert entry.frames == sum(image.frames for image in images)
            assert entry.holds(entry.thumbnail_index) and entry.modality == str(images[0].dataset.Modality)
            covered += range(entry.first, entry.first + entry.images)
    assert sorted(covered) == list(range(len(session.images)))
    first_seen = [image.series.study for image in session.images]
    assert [study.uid for study in studies] == list(dict.fromkeys(first_seen))


def test_titles_and_counts_are_plain_text():
    session = Session()
    session.open_batch([("emri", corpus_file("emri_small.dcm").read_bytes())])
    (study,) = group_studies(session.images)
    (entry,) = study.series
    ds = session.images[0].dataset
    assert entry.counts == f"1 image / {int(ds.NumberOfFrames)} frames"
    assert entry.title.startswith(f"Series {ds.SeriesNumber} · {ds.Modality}")
    assert format_date("20260131") == "2026-01-31" and format_date("2026") == "2026"


def test_downsampling_averages_blocks_like_pillow_reduce():
    """Pillow's Image.reduce (box average, partial edge blocks) is the reference; it rounds in integers."""
    rgba = np.random.default_rng(5).integers(0, 256, (130, 67, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    ours = downsample(rgba, 45)  # 130 / 45 -> factor 3, edge blocks of 1 row, 1 column
    reference = np.asarray(Image.fromarray(rgba, "RGBA").reduce(3))
    assert ours.shape == reference.shape == (44, 23, 4)
    assert np.abs(ours.astype(int) - reference).max() <= 1


def test_downsampling_keeps_flat_blocks_exactly_and_small_images_as_they_are():
    blocks = np.kron(np.arange(12, dtype=np.uint8).reshape(3, 4), np.ones((5, 5), np.uint8))
    rgba = np.dstack([blocks] * 3 + [np.full_like(blocks, 255)])
    assert np.array_equal(downsample(rgba, 4)[..., 0], np.arange(12).reshape(3, 4))
    assert downsample(rgba, 64) is rgba


def test_a_thumbnail_is_the_pipelines_render_downsampled():
    ds = read_dataset(corpus_file("693_UNCI.dcm").read_bytes())  # 512 x 512 CT with a file window
    small = thumbnail(ds)
    assert small.shape == (THUMBNAIL_SIZE, THUMBNAIL_SIZE, 4)
    assert np.array_equal(small, downsample(render_frame(ds, 0).rgba))


def test_a_thumbnail_of_an_image_that_cannot_be_decoded_is_none():
    ds = read_dataset(corpus_file("MR_small.dcm").read_bytes())
    ds.PixelData = ds.PixelData[:100]
    assert thumbnail(ds) is None
