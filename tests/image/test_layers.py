"""Layer sizes read from a saved image archive, on archives made here in both blob formats."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest
from tests.image import layers


def _layer(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _archive(path: Path, blobs: list[bytes], steps: list[str]) -> Path:
    """A docker-archive with one image whose layers are `blobs` (gzip or plain tar)."""
    names = [f"blobs/sha256/{index:064x}" for index in range(len(blobs))]
    config = {
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{i:064x}" for i in range(len(blobs))]},
        "history": [{"created_by": step} for step in steps],
    }
    entries = {
        "manifest.json": json.dumps([{"Config": "config.json", "Layers": names}]).encode(),
        "config.json": json.dumps(config).encode(),
        **dict(zip(names, blobs, strict=True)),
    }
    with tarfile.open(path, "w") as tar:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


PLAIN = _layer({"app/big": b"x" * 100_000})
PACKED = gzip.compress(_layer({"app/small": b"y" * 1000}))


@pytest.mark.parametrize(
    ("blob", "size"),
    [
        pytest.param(PLAIN, len(PLAIN), id="plain-tar-blob"),
        pytest.param(PACKED, len(gzip.decompress(PACKED)), id="gzip-blob"),
    ],
)
def test_layer_size_is_the_uncompressed_tar_whatever_the_blob_format(
    tmp_path: Path, blob: bytes, size: int
) -> None:
    [layer] = layers.read_archive(_archive(tmp_path / "image.tar", [blob], ["RUN make"]))
    assert (layer.size, layer.created_by) == (size, "RUN make")
    assert 0 < layer.compressed < size


def test_split_separates_the_base_from_the_added_layers(tmp_path: Path) -> None:
    found = layers.read_archive(_archive(tmp_path / "i.tar", [PLAIN, PACKED], ["ADD base", "COPY"]))
    report = layers.split(found, [found[0].diff_id])
    assert ([layer.created_by for layer in report.added], report.added_size) == (
        ["COPY"],
        found[1].size,
    )
    assert "COPY" in report.render()


def test_split_refuses_an_image_not_built_on_the_base(tmp_path: Path) -> None:
    found = layers.read_archive(_archive(tmp_path / "i.tar", [PLAIN], ["ADD other"]))
    with pytest.raises(ValueError, match="not built on the given base"):
        layers.split(found, ["sha256:" + "f" * 64])


def test_files_lists_every_layer_path(tmp_path: Path) -> None:
    archive = _archive(tmp_path / "i.tar", [PLAIN, PACKED], ["ADD", "COPY"])
    assert layers.files(archive) == ["app/big", "app/small"]
