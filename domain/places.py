"""Villages and offices as the rules see them: official area codes and working areas."""

from __future__ import annotations

import re
from dataclasses import dataclass

# PP.KK.CC.DDDD; the first D is 1 (kelurahan), 2 (desa) or 3 (desa adat). ASCII only: a bare \d also
# matches other scripts' digits, which would let one village pass under two different codes.
VILLAGE_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.[123]\d{3}$", re.ASCII)


def is_village_code(code: str) -> bool:
    return bool(VILLAGE_CODE.fullmatch(code))


def regency_of(village_code: str) -> str:
    return village_code[:5]


@dataclass(frozen=True, slots=True)
class Village:
    code: str
    name: str
    district: str | None = None
    regency: str | None = None
    province: str | None = None

    def as_data(self) -> dict[str, str | None]:
        return {
            "code": self.code,
            "name": self.name,
            "district": self.district,
            "regency": self.regency,
            "province": self.province,
        }


UNIT_TYPES = ("kanim", "rudenim")  # Kantor Imigrasi; Rumah Detensi Imigrasi (a detention centre)


@dataclass(frozen=True, slots=True)
class Office:
    code: str
    name: str
    region_code: str
    region_name: str
    regencies: frozenset[str]
    unit_type: str = "kanim"

    @property
    def active(self) -> bool:
        """Whether it serves a working area: an office whose every regency was taken over serves none."""
        return bool(self.regencies)

    def serves(self, village_code: str) -> bool:
        """An office works in the regencies and cities it serves, and nowhere else."""
        return regency_of(village_code) in self.regencies
