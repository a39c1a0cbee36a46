"""Checking and cleaning uploaded images: pure functions, no I/O beyond the bytes given.

An upload is judged by its content, never by its name or declared type: Pillow is asked to
open it with only the JPEG, PNG and WebP decoders, anything else is refused. An accepted image
is decoded in full (a truncated or corrupt file is refused), turned upright from its EXIF
orientation, its GPS position read, then re-encoded to the same format from the pixels alone,
so no EXIF, XMP, ICC profile, comment or text chunk of the original survives.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

# Pillow format name → (content type, file extension). MPO is what Pillow calls a JPEG that
# carries extra (e.g. stereo) pictures; its first picture is an ordinary JPEG.
FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
CONTENT_TYPES = frozenset(content_type for content_type, _ in FORMATS.values())
MAX_PIXELS = 40_000_000  # 40 MP: more than any phone photo; refuses decompression bombs
MAX_SIDE_IN = 16_384  # longest side accepted (WebP's own limit is 16 383)
MAX_SIDE_OUT = 2_560  # stored images are scaled down to at most this on the long side
JPEG_QUALITY = 85
WEBP_QUALITY = 85

_MIB = 1024 * 1024


class MediaError(ValueError):
    """An upload refused; ``message`` is Vietnamese and can be shown to the citizen as is."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class CleanImage:
    data: bytes  # the re-encoded image, without metadata
    content_type: str  # image/jpeg, image/png or image/webp
    extension: str  # jpg, png or webp
    width: int
    height: int
    gps: tuple[float, float] | None  # (latitude, longitude) from the original's EXIF


def human_size(n: int, rounding: Callable[[float], int] = round) -> str:
    """A size as Vietnamese readers write it: "12,3 MB", "8 MB", "512 KB"."""
    if n < _MIB:
        return f"{rounding(n / 1024)} KB"
    whole, tenth = divmod(rounding(n * 10 / _MIB), 10)
    return f"{whole} MB" if tenth == 0 else f"{whole},{tenth} MB"


def too_large(size: int | None, max_bytes: int) -> MediaError:
    """The refusal of an upload over ``max_bytes`` (``size`` None: only known to be over)."""
    limit = human_size(max_bytes, math.floor)
    if size is None:
        shown = f"trên {limit}"
    else:  # rounded as usual, unless that would show the limit itself
        shown = human_size(size)
        if shown == limit:
            shown = human_size(size, math.ceil)
    return MediaError("too_large", f"Ảnh lớn quá ({shown}). Bạn gửi ảnh dưới {limit} nhé.")


def _unsupported() -> MediaError:
    return MediaError(
        "unsupported_type", "Tệp này không phải ảnh JPEG, PNG hoặc WebP nên mình không nhận được."
    )


def _broken() -> MediaError:
    return MediaError(
        "broken_image", "Ảnh bị hỏng hoặc chưa tải lên hết. Bạn thử gửi lại ảnh khác nhé."
    )


def _too_many_pixels(size: tuple[int, int] | None, max_pixels: int) -> MediaError:
    dims = f" ({size[0]}×{size[1]} điểm ảnh)" if size else ""
    limit = f"{max_pixels / 1_000_000:g}".replace(".", ",")
    return MediaError(
        "too_many_pixels",
        f"Ảnh có kích thước quá lớn{dims}. Bạn gửi ảnh nhỏ hơn (dưới {limit} triệu điểm ảnh) nhé.",
    )


def inspect_and_clean(
    data: bytes,
    max_bytes: int,
    *,
    max_pixels: int = MAX_PIXELS,
    max_side: int = MAX_SIDE_OUT,
) -> CleanImage:
    """Check ``data`` is a JPEG, PNG or WebP image and return it re-encoded without metadata.

    Raises MediaError (code and Vietnamese message) for empty or oversized data (checked
    before any decoding), another format, too many pixels, or an image that does not decode.
    """
    if not data:
        raise MediaError("empty", "Tệp gửi lên trống. Bạn chọn lại ảnh giúp mình nhé.")
    if len(data) > max_bytes:
        raise too_large(len(data), max_bytes)

    # First pass: identify from the content (only our three decoders are tried), check the
    # dimensions from the header, and let the decoder verify what it can without decoding.
    try:
        with Image.open(BytesIO(data), formats=list(FORMATS)) as probe:
            kind = "JPEG" if probe.format == "MPO" else probe.format
            size = probe.size
            if kind not in FORMATS:
                raise _unsupported()
            _check_dimensions(size, max_pixels)
            probe.verify()
    except MediaError:
        raise
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(None, max_pixels) from exc
    except UnidentifiedImageError as exc:
        raise _unsupported() from exc
    except Exception as exc:  # any decoder failure on untrusted bytes
        raise _broken() from exc

    # Second pass (verify() leaves the image unusable): decode, read GPS, turn upright.
    try:
        with Image.open(BytesIO(data), formats=list(FORMATS)) as image:
            gps = read_gps(image.getexif())
            if kind == "JPEG":  # decode big JPEGs at a reduced scale: less memory, same result
                image.draft(None, (max_side, max_side))
            image.load()
            transparency = image.info.get("transparency")
            upright = ImageOps.exif_transpose(image)
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(None, max_pixels) from exc
    except Exception as exc:  # truncated or corrupt image data
        raise _broken() from exc

    if max(upright.size) > max_side:
        upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    output, params = _prepare(upright, kind, transparency)
    output.info = {}  # nothing of the original's metadata may reach the encoder
    buffer = BytesIO()
    output.save(buffer, format=kind, **params)
    content_type, extension = FORMATS[kind]
    return CleanImage(
        data=buffer.getvalue(),
        content_type=content_type,
        extension=extension,
        width=output.width,
        height=output.height,
        gps=gps,
    )


def _check_dimensions(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise _broken()
    if width * height > max_pixels or max(width, height) > MAX_SIDE_IN:
        raise _too_many_pixels(size, max_pixels)


def _prepare(
    image: Image.Image, kind: str, transparency: Any
) -> tuple[Image.Image, dict[str, Any]]:
    """A new image in a mode the format stores well, and the encoder's parameters."""
    mode = image.mode
    if mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):  # 16-bit greyscale → 8-bit
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
        mode = "L"
    has_alpha = "A" in mode or "a" in mode or transparency is not None
    if kind == "JPEG":
        target = "L" if mode in ("1", "L") else "RGB"
        return image.convert(target), {"quality": JPEG_QUALITY, "optimize": True}
    if kind == "WEBP":
        target = "RGBA" if has_alpha else "RGB"
        return image.convert(target), {"quality": WEBP_QUALITY, "method": 4}
    # PNG keeps its compact modes (1-bit, greyscale, palette), with their transparency.
    params: dict[str, Any] = {"optimize": True}
    if mode in ("1", "L", "P", "RGB") and transparency is not None:
        params["transparency"] = transparency
    if mode in ("1", "L", "LA", "P", "RGB", "RGBA"):
        return image.copy(), params
    params.pop("transparency", None)
    return image.convert("RGBA" if has_alpha else "RGB"), params


def read_gps(exif: Image.Exif) -> tuple[float, float] | None:
    """(latitude, longitude) in decimal degrees from EXIF GPSInfo, or None if absent or bad."""
    try:
        info = exif.get_ifd(ExifTags.IFD.GPSInfo)
    except Exception:  # noqa: BLE001 - a malformed GPS block is treated as no position
        return None
    if not info:
        return None
    latitude = _degrees(
        info.get(ExifTags.GPS.GPSLatitude), info.get(ExifTags.GPS.GPSLatitudeRef), "N", "S", 90
    )
    longitude = _degrees(
        info.get(ExifTags.GPS.GPSLongitude), info.get(ExifTags.GPS.GPSLongitudeRef), "E", "W", 180
    )
    if latitude is None or longitude is None or (latitude == 0 and longitude == 0):
        return None  # (0, 0) is what broken GPS writers leave, not a place in Huế
    return round(latitude, 7), round(longitude, 7)


def _degrees(value: Any, ref: Any, positive: str, negative: str, limit: float) -> float | None:
    if not isinstance(value, tuple | list) or len(value) != 3:
        return None
    try:
        degrees, minutes, seconds = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    parts = (degrees, minutes, seconds)
    if not all(math.isfinite(p) and p >= 0 for p in parts) or minutes >= 60 or seconds >= 60:
        return None
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    if not isinstance(ref, str):
        return None
    ref = ref.strip("\x00 ").upper()
    result = degrees + minutes / 60 + seconds / 3600
    if result > limit or ref not in (positive, negative):
        return None
    return -result if ref == negative else result
