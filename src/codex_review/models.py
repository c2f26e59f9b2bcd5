"""The review's vocabulary: severities, categories and findings, shared by every other module."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(enum.IntEnum):
    """How much a finding matters; ordered so that ``ERROR > WARNING > INFO``."""

    INFO = 0
    WARNING = 1
    ERROR = 2

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def from_label(cls, text: str) -> Severity:
        """``"error"``, ``"errors"``, ``"Warning"``... -> Severity; ValueError otherwise."""
        word = text.strip().lower()
        word = word.removesuffix("s") if word not in {"info", "infos"} else "info"
        for severity in cls:
            if severity.label == word:
                return severity
        raise ValueError(f"unknown severity {text!r} (expected error, warning or info)")


@dataclass(frozen=True, slots=True)
class Finding:
    """One issue on one added line of the post-image file."""

    severity: Severity
    category: str
    rule: str
    file: str
    line: int
    message: str
    code: str

    def as_json(self) -> dict[str, str | int]:
        return {
            "severity": self.severity.label,
            "category": self.category,
            "rule": self.rule,
            "file": self.file,
            "line": self.line,
            "message": self.message,
            "code": self.code,
        }
