"""Series grouping and stack order along the slice normal (PS3.3 C.7.6.2.1.1)."""

from __future__ import annotations

import random

import numpy as np

from corpus import PYDICOM_FILES
from dicomview.series import orientation_key, slice_position
from dicomview.session import Session
from synthetic import image_dataset, write_dicom

OBLIQUE = [1, 0, 0, 0, np.cos(0.3), np.sin(0.3)]  # rows along x, columns tilted in y-z


def oblique_slice(index: int, instance: int, series: str = "1.2.3.4") -> bytes:
    normal = np.cross(OBLIQUE[:3], OBLIQUE[3:])
    ds = image_dataset(np.full((2, 2), index), StudyInstanceUID="1.2.3", SeriesInstanceUID=series,
                       ImageOrientationPatient=[f"{v:.6f}" for v in OBLIQUE],
                       ImagePositionPatient=[f"{v:.4f}" for v in normal * 2.5 * index],
                       InstanceNumber=instance, SeriesNumber=7, Modality="CT")
    return write_dicom(ds)


def test_slices_are_ordered_along_the_normal_not_by_instance_number_or_name():
    files = [(f"f{n:02d}.dcm", oblique_slice(index=n, instance=20 - n)) for n in range(12)]
    random.Random(4).shuffle(files)
    session = Session()
    session.open_batch(files)
    positions = [slice_position(image.dataset) for image in session.images]
    assert positions == sorted(positions)
    assert [image.file_name for image in session.images] == [f"f{n:02d}.dcm" for n in range(12)]
    assert np.allclose(np.diff(positions), 2.5, atol=1e-3)


def test_series_stay_together_in_first_opened_order_and_stepping_stops_at_their_ends():
    files = [("b1", oblique_slice(1, 1, "9.9")), ("a1", oblique_slice(1, 1)), ("b0", oblique_slice(0, 2, "9.9")),
             ("a0", oblique_slice(0, 2))]
    session = Session()
    session.open_batch(files)
    assert [image.file_name for image in session.images] == ["b0", "b1", "a0", "a1"]
    session.current = 1
    assert session.step_in_series(1) == 1  # b1 is the last of its series: no crossing into the next
    assert session.step_in_series(-1) == 0
    session.current = 2
    assert session.step_in_series(-1) == 2 and session.step_in_series(1) == 3


def test_a_real_folder_of_localiser_series_is_grouped_and_ordered():
    folder = PYDICOM_FILES / "dicomdirtests" / "98892003" / "MR2"  # three series: three planes
    files = sorted((path.name, path.read_bytes()) for path in folder.iterdir())
    session = Session()
    session.open_batch(files)
    assert len(session.images) == len(files) == 7 and not session.problems
    keys = [image.series for image in session.images]
    assert len(set(keys)) == 3 and len([k for n, k in enumerate(keys) if n == 0 or k != keys[n - 1]]) == 3
    for key in set(keys):
        positions = [slice_position(i.dataset) for i in session.images if i.series == key]
        assert positions == sorted(positions)


def test_a_series_mixing_planes_keeps_each_plane_together():
    axial = [1, 0, 0, 0, 1, 0]
    files = []
    for n in range(3):
        files.append((f"oblique{n}", oblique_slice(n, n)))
        ds = image_dataset(np.zeros((2, 2)), StudyInstanceUID="1.2.3", SeriesInstanceUID="1.2.3.4",
                           ImageOrientationPatient=axial, ImagePositionPatient=[0, 0, 10 - n], InstanceNumber=10 + n)
        files.append((f"axial{n}", write_dicom(ds)))
    session = Session()
    session.open_batch(files)
    names = [image.file_name for image in session.images]
    planes = [orientation_key(image.dataset) for image in session.images]
    assert len([p for n, p in enumerate(planes) if n == 0 or p != planes[n - 1]]) == 2
    assert [n for n in names if n.startswith("axial")] == ["axial2", "axial1", "axial0"]  # z = 8, 9, 10


def test_series_members_are_the_images_of_one_series_in_list_order():
    from dicomview.series import SeriesKey, series_members

    a, b = SeriesKey("1", "1"), SeriesKey("1", "2")
    assert series_members([a, b, a, a, b], 2) == [0, 2, 3]
    assert series_members([a, b, a], 1) == [1]
    assert series_members([a], 5) == [] == series_members([], 0)
