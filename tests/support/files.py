"""Evidence files as people send them (shared/files.py's tests)."""

from __future__ import annotations

import io

from PIL import Image

GPS_IFD = 0x8825


def photo(kind: str = "JPEG", size: tuple[int, int] = (1200, 800), *, gps: bool = True) -> bytes:
    """A photo as a phone takes it: EXIF with a camera, a GPS position and an orientation."""
    image = Image.new("RGB", size, (40, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # Orientation: rotated 90° clockwise
    if gps:
        exif[GPS_IFD] = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 17.0)}
    out = io.BytesIO()
    image.save(out, kind, exif=exif.tobytes())
    return out.getvalue()


def pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
