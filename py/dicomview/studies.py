"""The series list: the session's images grouped by study, each series with the counts and texts a
reader scans for (modality, number, description, images / frames). Plain text, shown as text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dicomview.series import SeriesKey
from dicomview.session import OpenedImage


@dataclass
class SeriesEntry:
    key: SeriesKey
    first: int  # index of its first image in the session (its images are consecutive, Session.arrange)
    images: int = 0
    frames: int = 0
    modality: str = ""
    number: str = ""
    description: str = ""

    @property
    def thumbnail_index(self) -> int:
        """The middle image of the stack: more typical of a CT or MR series than its first slice."""
        return self.first + (self.images - 1) // 2

    @property
    def title(self) -> str:
        parts = [f"Series {self.number}" if self.number else "Series", self.modality, self.description]
        return " · ".join(part for part in parts if part)

    @property
    def counts(self) -> str:
        text = f"{self.images} image{'s' if self.images != 1 else ''}"
        return text + (f" / {self.frames} frames" if self.frames != self.images else "")

    def holds(self, index: int) -> bool:
        return self.first <= index < self.first + self.images


@dataclass
class StudyEntry:
    uid: str
    patient: str = ""
    date: str = ""
    description: str = ""
    series: list[SeriesEntry] = field(default_factory=list)

    @property
    def title(self) -> str:
        parts = [self.patient, format_date(self.date), self.description]
        return " · ".join(part for part in parts if part) or "Unnamed study"


def format_date(value: str) -> str:
    """DA (YYYYMMDD, PS3.5 6.2) as YYYY-MM-DD; anything else as it is."""
    return f"{value[:4]}-{value[4:6]}-{value[6:8]}" if len(value) == 8 and value.isdigit() else value


def text(ds, keyword: str) -> str:
    return str(ds.get(keyword, "") or "").strip()


def group_studies(images: Sequence[OpenedImage]) -> list[StudyEntry]:
    """Studies in the order first seen, each with its series in session order."""
    studies: dict[str, StudyEntry] = {}
    current: SeriesEntry | None = None
    for index, image in enumerate(images):
        ds = image.dataset
        if current is None or image.series != current.key:
            study = studies.get(image.series.study)
            if study is None:
                patient = text(ds, "PatientName").replace("^", " ").strip()
                study = studies[image.series.study] = StudyEntry(
                    image.series.study, patient, text(ds, "StudyDate"), text(ds, "StudyDescription"))
            current = SeriesEntry(image.series, index, modality=text(ds, "Modality"),
                                  number=text(ds, "SeriesNumber"), description=text(ds, "SeriesDescription"))
            study.series.append(current)
        current.images += 1
        current.frames += image.frames
    return list(studies.values())
