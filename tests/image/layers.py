"""Layer sizes of a saved image (`docker save` / `podman save` archive), and the size report.

Sizes are measured on the layer tarballs themselves, so both engines and both image stores
(plain or gzip-compressed blobs) give the same numbers: `size` is the uncompressed tar, what
the layer occupies on a node; `compressed` is its gzip size, what a registry stores and a
node downloads (the blob itself when the engine already keeps it compressed).
"""

from __future__ import annotations

import json
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from argo_gitops.identity import load

MB = 1_000_000
# What the project may add on top of the base image: a budget each fork sets in fork.toml
# (image_budget_mb), since its own dependencies decide it.
TARGET_BYTES = load(Path(__file__).resolve().parents[2]).image_budget_mb * MB
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Layer:
    diff_id: str
    created_by: str  # the build step that made it, from the image history
    size: int
    compressed: int


@dataclass(frozen=True, slots=True)
class SizeReport:
    base: tuple[Layer, ...]
    added: tuple[Layer, ...]  # the layers the Dockerfile puts on top of the base

    @property
    def added_size(self) -> int:
        return sum(layer.size for layer in self.added)

    @property
    def added_compressed(self) -> int:
        return sum(layer.compressed for layer in self.added)

    def render(self) -> str:
        rows = [
            f"{_mb(layer.size):>9} {_mb(layer.compressed):>9}  {_step(layer.created_by)}"
            for layer in self.added
        ]
        verdict = "within" if self.added_size <= TARGET_BYTES else "OVER"
        return "\n".join(
            [
                f"{'size':>9} {'gzip':>9}  layer added above the base (MB = 10^6 bytes)",
                *rows,
                f"{_mb(self.added_size):>9} {_mb(self.added_compressed):>9}  total "
                f"({verdict} the {_mb(TARGET_BYTES)} target); base image: "
                f"{_mb(sum(layer.size for layer in self.base))}",
            ]
        )


def read_archive(path: Path) -> list[Layer]:
    """Every layer of the (single) image in the archive, bottom first."""
    with tarfile.open(path) as archive:
        manifest = _json(archive, "manifest.json")[0]
        config = _json(archive, manifest["Config"])
        diff_ids: list[str] = config["rootfs"]["diff_ids"]
        steps = [
            str(entry.get("created_by", ""))
            for entry in config.get("history", [])
            if not entry.get("empty_layer", False)
        ]
        if len(steps) != len(diff_ids):  # an imported base may carry no history
            steps = [""] * (len(diff_ids) - len(steps)) + steps
        layers = []
        for name, diff_id, step in zip(manifest["Layers"], diff_ids, steps, strict=True):
            blob = archive.extractfile(name)
            if blob is None:
                raise ValueError(f"{path}: layer {name} is not a regular file")
            size, compressed = _measure(blob)
            layers.append(Layer(diff_id, step, size, compressed))
        return layers


def files(path: Path) -> list[str]:
    """Every path in the archive's image layers (no leading "./"), bottom layer first."""
    with tarfile.open(path) as archive:
        manifest = _json(archive, "manifest.json")[0]
        names: list[str] = []
        for name in manifest["Layers"]:
            blob = archive.extractfile(name)
            if blob is None:
                raise ValueError(f"{path}: layer {name} is not a regular file")
            with tarfile.open(fileobj=blob, mode="r|*") as layer:
                names += [member.name.removeprefix("./") for member in layer]
        return names


def split(layers: list[Layer], base_diff_ids: list[str]) -> SizeReport:
    """Split an image's layers into the base's and the ones added on top of it."""
    count = len(base_diff_ids)
    if [layer.diff_id for layer in layers[:count]] != base_diff_ids:
        raise ValueError("the image is not built on the given base: its bottom layers differ")
    return SizeReport(base=tuple(layers[:count]), added=tuple(layers[count:]))


def _measure(blob: IO[bytes]) -> tuple[int, int]:
    """(uncompressed, gzip-compressed) byte counts of one layer blob."""
    head = blob.read(2)
    if head == _GZIP_MAGIC:
        inflate = zlib.decompressobj(wbits=31)
        compressed, size = 2, len(inflate.decompress(head))
        while chunk := blob.read(_CHUNK):
            compressed += len(chunk)
            size += len(inflate.decompress(chunk))
        return size + len(inflate.flush()), compressed
    deflate = zlib.compressobj(6, wbits=31)
    size, compressed = len(head), len(deflate.compress(head))
    while chunk := blob.read(_CHUNK):
        size += len(chunk)
        compressed += len(deflate.compress(chunk))
    return size, compressed + len(deflate.flush())


def _json(archive: tarfile.TarFile, name: str) -> Any:
    member = archive.extractfile(name)
    if member is None:
        raise ValueError(f"{name} is missing from the image archive")
    return json.load(member)


def _mb(size: int) -> str:
    return f"{size / MB:.1f} MB"


def _step(created_by: str) -> str:
    """The build instruction without the engines' shell prefix, clipped to one line."""
    text = " ".join(created_by.split())
    for prefix in ("/bin/sh -c #(nop) ", "/bin/sh -c "):
        text = text.split(prefix, 1)[-1]
    return text if len(text) <= 90 else text[:87] + "..."
