"""Images made on the real Docker engine for tests (no registry answers here): `docker import` of
a tarball holding one small file, so each reference names an image of its own content."""

from __future__ import annotations

import io
import subprocess
import tarfile


def import_file_image(ref: str, text: str) -> str:
    """Make `ref` on the engine from one file README holding `text`; returns `ref`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        data = text.encode()
        info = tarfile.TarInfo("README")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    subprocess.run(["docker", "import", "-", ref], input=buffer.getvalue(), check=True, capture_output=True)
    return ref


def remove_image(ref: str) -> None:
    subprocess.run(["docker", "image", "rm", ref], check=False, capture_output=True)
