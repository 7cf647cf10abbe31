"""A series becomes a volume when its geometry allows (PS3.3 C.7.6.2, C.7.6.16), else a named reason.

Phantoms are written by the tests with pydicom (tests/synthetic.py) with known geometry; the expected
positions are computed here from the phantom's own parameters, not through dicomview.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from corpus import PYDICOM_FILES
from dicomview.decode import read_dataset
from dicomview.reslice import plane_image, planes, slab_image
from dicomview.volume import NotAVolume, SliceStack, Volume, build_volume, shifted
from synthetic import enhanced_phantom, phantom_positions, phantom_series, write_dicom

DICOMDIR = PYDICOM_FILES / "dicomdirtests"


def opened(files: list[tuple[str, bytes]], shuffle: int | None = 3) -> list:
    images = [(name, read_dataset(data)) for name, data in files]
    if shuffle is not None:
        random.Random(shuffle).shuffle(images)
    return images


def folder(path) -> list:
    return [(p.name, read_dataset(p.read_bytes())) for p in sorted(path.iterdir())]


def ramp(shape: tuple[int, int, int]) -> np.ndarray:
    """Every voxel its own value: slice * 1000 + row * 30 + column (int16 for up to 30 slices)."""
    return np.fromfunction(lambda k, i, j: k * 1000 + i * 30 + j, shape, dtype=int).astype(np.int16)


def test_an_axial_series_in_any_order_is_a_volume_in_the_stored_dtype():
    voxels = ramp((6, 5, 4))
    volume = build_volume(opened(phantom_series(voxels, (2.5, 0.5, 0.75), origin=(-10, 20, 30))))
    assert isinstance(volume, Volume), volume
    assert volume.voxels.dtype == np.int16 and np.array_equal(volume.voxels, voxels)
    assert volume.spacing == (2.5, 0.5, 0.75) and volume.notes == ()
    assert volume.labels == tuple(f"slice{n:03d}.dcm" for n in range(1, 7))
    # voxel (k, i, j) is at origin + j * 0.75 along x (row cosine) + i * 0.5 along y + k * 2.5 along z
    assert np.allclose(volume.voxel_to_patient([3, 4, 2]), [-10 + 1.5, 20 + 2.0, 30 + 7.5])
    assert np.allclose(volume.patient_to_voxel([-10 + 1.5, 20 + 2.0, 30 + 7.5]), [3, 4, 2])


def test_an_oblique_series_keeps_its_direction_cosines():
    angle = np.radians(20)
    orientation = (np.cos(angle), np.sin(angle), 0, 0, 0, -1)  # a sagittal-ish plane turned 20° about z
    volume = build_volume(opened(phantom_series(ramp((4, 3, 3)), (3, 1, 2), orientation, origin=(5, 5, 5))))
    assert isinstance(volume, Volume), volume
    row, column = np.array(orientation[:3]), np.array(orientation[3:])
    assert np.allclose(volume.axes, [np.cross(row, column), column, row], atol=1e-6)
    expected = np.array([5, 5, 5]) + 2 * 3 * np.cross(row, column) + 1 * 1 * column + 2 * 2 * row
    assert np.allclose(volume.voxel_to_patient([2, 1, 2]), expected, atol=1e-4)


def test_small_position_jitter_is_tolerated_and_reported():
    positions = phantom_positions(5, (2.0, 1, 1))
    positions[2, 2] += 0.04
    volume = build_volume(opened(phantom_series(ramp((5, 2, 2)), (2.0, 1, 1), positions=positions)))
    assert isinstance(volume, Volume), volume
    assert volume.spacing[0] == pytest.approx(2.0)
    assert volume.notes == ("slice positions deviate up to 0.04 mm from a regular grid (tolerated)",)


def test_positions_rounded_to_a_tenth_of_a_millimetre_are_a_regular_grid():
    positions = phantom_positions(9, (0.625, 1, 1))
    positions[:, 2] = np.round(positions[:, 2], 1)  # 0, 0.6, 1.2, 1.9, 2.5 ...: steps of 0.6 and 0.7
    volume = build_volume(opened(phantom_series(ramp((9, 2, 2)), (0.625, 1, 1), positions=positions)))
    assert isinstance(volume, Volume), volume
    assert volume.spacing[0] == pytest.approx(0.625, abs=0.01)


def refusal(files, kind: str) -> str:
    result = build_volume(opened(files))
    assert isinstance(result, NotAVolume) and result.kind == kind, result
    return result.reason


def test_a_missing_slice_is_named_with_its_number():
    files = phantom_series(np.zeros((120, 2, 2), np.int16), (2.5, 1, 1), skip=(36,))
    assert refusal(files, "gap") == "slice 37 of 120 missing (the series steps 2.5 mm)"


def test_several_gaps_are_named_together():
    files = phantom_series(np.zeros((12, 2, 2), np.int16), (1.25, 1, 1), skip=(3, 8, 9, 10))
    assert refusal(files, "gap") == "slices 4 and 9–11 of 12 missing (the series steps 1.25 mm)"


def test_two_slices_at_one_position_are_named():
    positions = phantom_positions(4, (2, 1, 1))
    positions[2] = positions[1]
    files = phantom_series(np.zeros((4, 2, 2), np.int16), (2, 1, 1), positions=positions)
    assert refusal(files, "duplicate") == (
        "two slices at one position (2.00 mm along the normal): slice002.dcm and slice003.dcm")


def test_uneven_spacing_is_named():
    positions = phantom_positions(5, (2, 1, 1))
    positions[3:, 2] += 1.0  # 3 mm between slice 3 and 4
    files = phantom_series(np.zeros((5, 2, 2), np.int16), (2, 1, 1), positions=positions)
    assert refusal(files, "uneven") == (
        "uneven spacing: 3 mm between slice003.dcm and slice004.dcm where the series steps 2 mm")


def test_two_orientations_pixel_spacings_sizes_and_rescales_are_named():
    axial = phantom_series(np.zeros((3, 2, 2), np.int16), (2, 1, 1))
    coronal = phantom_series(np.zeros((1, 2, 2), np.int16), (2, 1, 1), (1, 0, 0, 0, 0, -1))
    assert refusal([*axial, ("cor.dcm", coronal[0][1])], "orientations") == (
        "two orientations in one series: [1, 0, 0, 0, 1, 0] (3 slices: slice001.dcm, slice002.dcm, slice003.dcm)"
        " and [1, 0, 0, 0, 0, -1] (1 slice: cor.dcm)")
    wide = phantom_series(np.zeros((4, 2, 2), np.int16), (2, 1, 1.5))
    assert refusal([*axial, ("wide.dcm", wide[3][1])], "spacing").startswith("two pixel spacings in one series: 1×1 mm")
    big = phantom_series(np.zeros((4, 3, 2), np.int16), (2, 1, 1))
    assert "3×2 16-bit signed (1 slice: big.dcm)" in refusal([*axial, ("big.dcm", big[3][1])], "size")
    lut = read_dataset(phantom_series(np.zeros((4, 2, 2), np.int16), (2, 1, 1))[3][1])
    item = Dataset()
    item.LUTDescriptor, item.ModalityLUTType = [4, 0, 16], "HU"
    item.add_new("LUTData", "US", [0, 10, 20, 30])
    lut.ModalityLUTSequence = Sequence([item])
    reason = refusal([*axial, ("lut.dcm", write_dicom(lut))], "rescale")
    assert reason.startswith("two rescales (Rescale Slope/Intercept) in one series: 1·x-1024 (3 slices")
    assert reason.endswith("a Modality LUT (1 slice: lut.dcm)")


def test_a_lone_slice_and_a_slice_without_position_are_refused():
    files = phantom_series(np.zeros((2, 2, 2), np.int16), (2, 1, 1))
    assert refusal(files[:1], "count") == "a volume needs at least two slices; this series has 1"
    images = opened(files, shuffle=None)
    del images[1][1].ImagePositionPatient
    result = build_volume(images)
    assert result.kind == "geometry" and result.reason == "slice002.dcm has no usable ImagePositionPatient (3 numbers)"


def test_origins_off_one_line_are_refused():
    positions = phantom_positions(5, (2, 1, 1))
    positions[2, 0] += 3.0
    files = phantom_series(np.zeros((5, 2, 2), np.int16), (2, 1, 1), positions=positions)
    assert refusal(files, "misaligned").startswith("slice origins do not lie on one line: slice003.dcm is ")


def test_gantry_tilt_by_whole_pixels_is_corrected_exactly():
    """Slice k's origin lies k mm further along the column cosine (1 mm rows, 2 mm steps: 26.57°):
    acquired row i of slice k shows true row i + k; corrected, every slice shows the true rows."""
    true = ramp((4, 8, 3))
    acquired = np.stack([np.roll(true[k], -k, axis=0) for k in range(4)])
    volume = build_volume(opened(phantom_series(acquired, (2, 1, 1), shear_per_slice=1.0)))
    assert isinstance(volume, Volume), volume
    assert volume.notes[0].startswith("gantry tilt of 26.57° corrected")
    for k in range(4):
        assert np.array_equal(volume.voxels[k, k:], true[k, k:])  # rows above k had no source...
        assert (volume.voxels[k, :k] == acquired.min()).all()  # ...and hold the volume's minimum
    assert volume.spacing == (2.0, 1.0, 1.0)


def test_a_tilted_gantry_with_table_positions_reports_its_angle():
    """A real tilted acquisition: column cosine tilted 15° about x, positions stepping along z only."""
    tilt = np.radians(15)
    orientation = (1, 0, 0, 0, np.cos(tilt), np.sin(tilt))
    positions = np.array([[0, 0, 5.0 * k] for k in range(6)])
    files = phantom_series(np.zeros((6, 40, 4), np.int16), (5, 1, 1), orientation, positions=positions)
    volume = build_volume(opened(files))
    assert isinstance(volume, Volume), volume
    assert volume.notes[0].startswith("gantry tilt of 15.00° corrected")
    assert volume.spacing[0] == pytest.approx(5 * np.cos(tilt), abs=1e-4)


def test_a_fractional_shift_interpolates_linearly():
    frame = np.array([[0, 0], [100, 100], [200, 200]], np.int16)
    assert shifted(frame, 0.5, 0, fill=-7).tolist() == [[-4, -4], [50, 50], [150, 150]]  # (-7 + 0)/2 rounds to -4
    assert shifted(frame, -1, 1, fill=-7).tolist() == [[-7, 100], [-7, 200], [-7, -7]]


def test_an_enhanced_ct_with_frames_out_of_order_is_the_same_volume():
    voxels = ramp((5, 4, 3))
    orientation = (0, 1, 0, 0, 0, -1)  # sagittal
    data = enhanced_phantom(voxels, (1.5, 0.5, 0.5), orientation, frame_order=[3, 0, 4, 2, 1])
    volume = build_volume([("enhanced.dcm", read_dataset(data))])
    classic = build_volume(opened(phantom_series(voxels, (1.5, 0.5, 0.5), orientation)))
    assert isinstance(volume, Volume), volume
    assert np.array_equal(volume.voxels, voxels) and np.array_equal(classic.voxels, voxels)
    assert volume.labels[:2] == ("enhanced.dcm frame 2", "enhanced.dcm frame 5")
    assert np.allclose(volume.axes, classic.axes) and volume.spacing == classic.spacing
    assert float(volume.modality.RescaleIntercept) == -1024


def test_real_axial_ct_series_from_dicomdirtests():
    images = folder(DICOMDIR / "98892001" / "CT5N")  # 5 slices, z = 8.76 .. -1.24 in file-name order
    volume = build_volume(images)
    assert isinstance(volume, Volume), volume
    assert volume.spacing == pytest.approx((2.5, 0.488281, 0.488281))
    by_z = sorted(images, key=lambda item: float(item[1].ImagePositionPatient[2]))
    assert volume.labels == tuple(name for name, _ in by_z)
    assert np.array_equal(volume.voxels, np.stack([ds.pixel_array for _, ds in by_z]))
    assert volume.voxels.dtype == by_z[0][1].pixel_array.dtype


def test_real_series_that_cannot_be_volumes_say_why():
    gap = build_volume(folder(DICOMDIR / "77654033" / "CT2"))  # z = -99.48, then 103.02 .. 105.52
    assert gap.kind == "gap" and gap.reason == "slices 2–162 of 165 missing (the series steps 1.25 mm)"
    scouts = build_volume(folder(DICOMDIR / "98892001" / "CT2N"))
    assert scouts.kind == "orientations" and scouts.reason.startswith("two orientations in one series")
    radial = build_volume(folder(DICOMDIR / "98892003" / "MR700"))
    assert radial.kind == "orientations" and radial.reason.startswith("seven orientations in one series")


def test_a_real_enhanced_ct_is_a_volume_from_its_per_frame_positions():
    from corpus import corpus_file

    ds = read_dataset(corpus_file("eCT_Supplemental.dcm").read_bytes())
    volume = build_volume([("eCT_Supplemental.dcm", ds)])
    assert isinstance(volume, Volume), volume
    positions = np.array([[float(v) for v in frame.PlanePositionSequence[0].ImagePositionPatient]
                          for frame in ds.PerFrameFunctionalGroupsSequence])
    assert volume.voxels.shape == (2, 512, 512) and volume.voxels.dtype == ds.pixel_array.dtype
    assert volume.spacing[0] == pytest.approx(np.linalg.norm(positions[1] - positions[0]))
    order = np.argsort(positions @ volume.axes[0])
    assert np.array_equal(volume.voxels, ds.pixel_array[order])
    assert float(volume.modality.RescaleIntercept) == float(
        ds.SharedFunctionalGroupsSequence[0].PixelValueTransformationSequence[0].RescaleIntercept)


def test_a_rescale_per_slice_is_kept_per_slice_and_the_views_hold_modality_values():
    """PET series often scale each slice differently: the stored int16 voxels stay, each slice keeps its
    slope and intercept, and every view (and the crosshair's value) is stored * slope + intercept."""
    stored = ramp((6, 5, 4))
    slopes = [0.5, 1, 2, 0.25, 3, 1.5]
    files = [phantom_series(stored, (2, 1, 1), RescaleSlope=f"{slopes[n]:g}", RescaleIntercept=str(-n))[n]
             for n in range(6)]
    volume = build_volume(opened(files))
    assert isinstance(volume, Volume), volume
    assert volume.voxels.dtype == np.int16 and np.array_equal(volume.voxels, stored)
    assert volume.notes == ("6 different Rescale Slope/Intercept values, kept per slice: views and measurements "
                            "use modality values",)
    values = stored * np.array(slopes).reshape(6, 1, 1) - np.arange(6).reshape(6, 1, 1)  # float64, by hand
    views = planes(volume)
    assert np.allclose(plane_image(volume, views["axial"], 2), values[2], rtol=1e-6)
    assert np.allclose(plane_image(volume, views["coronal"], 3), values[::-1, 3, :], rtol=1e-6)  # head up
    assert np.allclose(slab_image(volume, views["sagittal"], 1, 3, "mean"), values[::-1, :, 0:3].mean(axis=2),
                       rtol=1e-6)
    assert volume.modality_value((4, 2, 3)) == values[4, 2, 3]
    assert float(volume.modality.RescaleSlope) == 1 and float(volume.modality.RescaleIntercept) == 0


def test_an_oblique_series_with_positions_rounded_to_a_tenth_of_a_millimetre_is_not_resampled():
    turn = np.radians(33)
    orientation = (np.cos(turn), np.sin(turn), 0, 0, 0, -1)
    positions = np.round(phantom_positions(12, (1.0, 0.5, 0.5), orientation, (-40, 12, 70)), 1)
    voxels = ramp((12, 3, 3))
    volume = build_volume(opened(phantom_series(voxels, (1.0, 0.5, 0.5), orientation, positions=positions)))
    assert isinstance(volume, Volume), volume
    assert np.array_equal(volume.voxels, voxels)  # stored values untouched: no tilt correction
    assert not any("corrected" in note for note in volume.notes)


def test_a_small_drift_is_reported_but_not_resampled():
    files = phantom_series(ramp((5, 4, 4)), (2, 1, 1), shear_per_slice=0.05)  # 0.2 pixels end to end
    volume = build_volume(opened(files))
    assert isinstance(volume, Volume), volume
    assert np.array_equal(volume.voxels, ramp((5, 4, 4)))
    assert volume.notes == ("slice origins drift 0.20 pixels off the normal across the series (a tilt of 1.4°): "
                            "too little to resample, not corrected",)


def test_the_volume_is_a_view_of_the_files_pixel_data_not_a_second_copy():
    """Issue 5: a volume must not cost its size twice; each slice of a native series (and each frame of an
    Enhanced CT) is the dataset's own Pixel Data bytes, read in place."""
    voxels = ramp((6, 5, 4))
    images = opened(phantom_series(voxels, (2.5, 0.5, 0.75)))
    volume = build_volume(images)
    datasets = dict(images)
    for label, plane in zip(volume.labels, volume.voxels.slices, strict=True):
        assert np.shares_memory(plane, np.frombuffer(datasets[label].PixelData, np.uint8))
    enhanced = read_dataset(enhanced_phantom(voxels, (1.5, 0.5, 0.5), frame_order=[3, 0, 5, 4, 2, 1]))
    volume = build_volume([("enhanced.dcm", enhanced)])
    assert np.array_equal(volume.voxels, voxels)
    assert all(np.shares_memory(p, np.frombuffer(enhanced.PixelData, np.uint8)) for p in volume.voxels.slices)


def test_a_stack_of_slices_indexes_like_the_array_it_stands_for():
    whole = ramp((5, 4, 3))
    stack = SliceStack(list(whole))
    assert (stack.shape, stack.dtype, stack.nbytes, stack.min(), stack.max()) == (
        whole.shape, whole.dtype, whole.nbytes, whole.min(), whole.max())
    keys = [(2,), (2, 1), (2, 1, 0), (slice(1, 4),), (slice(1, 4), 2), (slice(None), slice(None), 1),
            (slice(3, 3),), (slice(None, None, -1), slice(1, 3), slice(0, 2))]
    for key in keys:
        assert np.array_equal(stack[key], whole[key]), key
    assert np.array_equal(np.asarray(stack), whole)


def scout(name: str, orientation, image_type="LOCALIZER", shape=(10, 14)) -> tuple[str, bytes]:
    """A localizer of another orientation and size, in the same series as the phantom stacks."""
    files = phantom_series(np.full((1, *shape), 7, np.int16), (1, 1.4, 1.4), orientation, origin=(-50, 0, 60),
                           ImageType=["ORIGINAL", "PRIMARY", image_type])
    return name, files[0][1]


CORONAL, SAGITTAL = (1, 0, 0, 0, 0, -1), (0, 1, 0, 0, 0, -1)


def test_scouts_in_a_series_are_left_out_of_the_volume_and_named():
    voxels = ramp((8, 5, 4))
    volume = build_volume(opened([*phantom_series(voxels, (2, 0.5, 0.5)), scout("scout_ap.dcm", CORONAL),
                                  scout("scout_lat.dcm", SAGITTAL)]))
    assert isinstance(volume, Volume), volume
    assert np.array_equal(volume.voxels, voxels) and len(volume.labels) == 8
    assert volume.notes == ("2 images unlike the main stack left out of the volume of 8 slices: scout_ap.dcm "
                            "(a localizer, orientation [1, 0, 0, 0, 0, -1]); scout_lat.dcm (a localizer, "
                            "orientation [0, 1, 0, 0, 0, -1])",)


def test_a_stray_image_of_another_size_or_without_a_position_is_left_out_and_named():
    voxels = ramp((12, 5, 4))
    small = phantom_series(np.zeros((1, 3, 3), np.int16), (2, 0.5, 0.5))[0][1]
    unplaced = read_dataset(phantom_series(np.zeros((1, 5, 4), np.int16), (2, 0.5, 0.5))[0][1])
    del unplaced.ImagePositionPatient
    volume = build_volume(opened([*phantom_series(voxels, (2, 0.5, 0.5)), ("small.dcm", small),
                                  ("unplaced.dcm", write_dicom(unplaced))]))
    assert isinstance(volume, Volume), volume
    assert np.array_equal(volume.voxels, voxels)
    assert volume.notes == ("2 images unlike the main stack left out of the volume of 12 slices: small.dcm "
                            "(3×3 16-bit pixels); unplaced.dcm (has no usable ImagePositionPatient (3 numbers))",)


def test_a_series_split_between_orientations_is_still_refused():
    """Only a few images against a clear main stack are taken for scouts: 4 axial slices and 2 coronal
    images (not localizers) are two orientations, and so are 12 axial slices with 4 scouts."""
    few = opened([*phantom_series(ramp((4, 5, 4)), (2, 0.5, 0.5)), scout("c1.dcm", CORONAL, "OTHER", (5, 4)),
                  scout("c2.dcm", CORONAL, "OTHER", (5, 4))])
    assert build_volume(few).reason == ("two orientations in one series: [1, 0, 0, 0, 1, 0] (4 slices) and "
                                        "[1, 0, 0, 0, 0, -1] (2 slices: c1.dcm, c2.dcm)")
    many = opened([*phantom_series(ramp((12, 5, 4)), (2, 0.5, 0.5)),
                   *[scout(f"s{n}.dcm", CORONAL, shape=(5, 4)) for n in range(4)]])
    assert build_volume(many).kind == "orientations"


def test_a_step_that_changes_within_the_series_is_named_run_by_run():
    """A head CT: 2.5 mm through the posterior fossa, then 5 mm. With Instance Numbers running on by one
    nothing is missing: the step changes, and the reason says where (not "slices 14, 16, … missing")."""
    depth = np.concatenate([np.arange(13) * 2.5, 30 + np.arange(1, 6) * 5])
    positions = np.stack([np.zeros_like(depth), np.zeros_like(depth), depth], axis=1)
    files = phantom_series(np.zeros((18, 2, 2), np.int16), (2.5, 1, 1), positions=positions)
    assert refusal(files, "uneven") == ("the slice step changes within the series: 2.5 mm (slices 1–13), "
                                        "then 5 mm (slices 13–18); a volume needs one step")
    more_fine = np.concatenate([np.arange(4) * 5, 15 + np.arange(1, 13) * 2.5])  # the median step is 2.5
    positions = np.stack([np.zeros_like(more_fine), np.zeros_like(more_fine), more_fine], axis=1)
    files = phantom_series(np.zeros((16, 2, 2), np.int16), (2.5, 1, 1), positions=positions)
    assert refusal(files, "uneven") == ("the slice step changes within the series: 5 mm (slices 1–4), "
                                        "then 2.5 mm (slices 4–16); a volume needs one step")
