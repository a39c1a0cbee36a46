"""Checking and cleaning images: judged by content, re-encoded, no metadata left, GPS read first.

Every image is made here with Pillow and every result is decoded again: the checks are on the
bytes that would be stored.
"""

from __future__ import annotations

import struct
from io import BytesIO

import pytest
from PIL import ExifTags, Image, ImageCms

from bot.media.images import MAX_SIDE_OUT, MediaError, human_size, inspect_and_clean, too_large
from tests.service.media.images import (
    CITADEL,
    ELF,
    SECRET,
    SHELL_SCRIPT,
    encode,
    exif_with_gps,
    noise_jpeg,
    phone_jpeg,
    png_header_only,
    png_with_text,
    two_colour,
)

MAX = 8 * 1024 * 1024
UNSUPPORTED = "Tệp này không phải ảnh JPEG, PNG hoặc WebP nên mình không nhận được."
METADATA_MARKERS = (b"Exif", SECRET.encode(), b"ICC-", b"PhoneMaker", b"Nguyen Van A")


def reopen(data: bytes) -> Image.Image:
    image = Image.open(BytesIO(data))
    image.load()
    return image


def assert_no_metadata(data: bytes) -> None:
    image = reopen(data)
    assert dict(image.getexif()) == {}
    for key in ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment", "dpi"):
        assert key not in image.info, key
    for marker in METADATA_MARKERS:
        assert marker not in data, marker


def close(pixel: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=False))


def refused(data: bytes, max_bytes: int = MAX) -> MediaError:
    with pytest.raises(MediaError) as caught:
        inspect_and_clean(data, max_bytes)
    return caught.value


def test_a_phone_jpeg_is_turned_upright_its_gps_read_and_its_metadata_stripped():
    original = phone_jpeg(orientation=6)
    assert reopen(original).getexif()[ExifTags.Base.Orientation] == 6  # the test image has it
    clean = inspect_and_clean(original, MAX)
    assert clean.content_type == "image/jpeg"
    assert clean.extension == "jpg"
    assert clean.gps == pytest.approx(CITADEL)
    image = reopen(clean.data)
    assert image.format == "JPEG"
    # 40×20 with red on the left, turned 90° clockwise: 20×40 with red on top.
    assert (clean.width, clean.height) == image.size == (20, 40)
    assert close(image.getpixel((10, 5)), (220, 20, 20))  # type: ignore[arg-type]
    assert close(image.getpixel((10, 35)), (20, 20, 220))  # type: ignore[arg-type]
    assert_no_metadata(clean.data)


@pytest.mark.parametrize(
    ("latitude", "longitude", "refs", "expected"),
    [
        ((33.0, 52.0, 0.0), (151.0, 12.0, 36.0), ("S", "E"), (-33.8666667, 151.21)),
        ((40.0, 42.0, 46.0), (74.0, 0.0, 21.6), ("N", "W"), (40.7127778, -74.006)),
        ((16.0, 75.0, 0.0), (107.0, 35.0, 24.0), ("N", "E"), None),  # 75 minutes
        ((95.0, 0.0, 0.0), (107.0, 35.0, 24.0), ("N", "E"), None),  # beyond the pole
        ((16.0, 27.0, 50.4), (107.0, 35.0, 24.0), ("X", "E"), None),  # unknown reference
        ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0), ("N", "E"), None),  # what broken writers leave
    ],
)
def test_gps_positions_with_their_references_and_bad_ones_ignored(
    latitude, longitude, refs, expected
):
    data = phone_jpeg(orientation=1, latitude=latitude, longitude=longitude, refs=refs)
    clean = inspect_and_clean(data, MAX)
    assert clean.gps == (pytest.approx(expected) if expected else None)
    assert_no_metadata(clean.data)


def test_no_exif_means_no_position():
    clean = inspect_and_clean(encode(two_colour(), "JPEG"), MAX)
    assert clean.gps is None
    assert (clean.width, clean.height) == (40, 20)


def test_png_text_chunks_exif_and_icc_are_stripped_and_transparency_kept():
    original = png_with_text()
    assert reopen(original).text  # type: ignore[attr-defined]
    clean = inspect_and_clean(original, MAX)
    assert clean.content_type == "image/png"
    assert clean.gps == pytest.approx(CITADEL)  # PNG may carry EXIF too (eXIf chunk)
    image = reopen(clean.data)
    assert image.format == "PNG"
    assert image.mode == "RGBA"
    assert image.text == {}  # type: ignore[attr-defined]
    for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP"):
        assert chunk not in clean.data, chunk
    assert_no_metadata(clean.data)


def test_webp_is_re_encoded_as_webp_without_exif_icc_or_xmp():
    translucent = two_colour(mode="RGBA")
    translucent.putalpha(Image.new("L", translucent.size, 200))
    original = encode(
        translucent,
        "WEBP",
        exif=exif_with_gps(orientation=3),
        icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
        xmp=b"<x:xmpmeta>" + SECRET.encode() + b"</x:xmpmeta>",
    )
    for chunk in (b"EXIF", b"ICCP", b"XMP "):
        assert chunk in original
    clean = inspect_and_clean(original, MAX)
    assert clean.content_type == "image/webp"
    assert clean.extension == "webp"
    assert clean.gps == pytest.approx(CITADEL)
    image = reopen(clean.data)
    assert image.format == "WEBP"
    assert image.mode == "RGBA"
    for chunk in (b"EXIF", b"ICCP", b"XMP "):
        assert chunk not in clean.data, chunk
    # Orientation 3 is a half turn: red is now on the right.
    assert close(image.getpixel((35, 10)), (220, 20, 20, 200))  # type: ignore[arg-type]
    assert_no_metadata(clean.data)


def test_a_cmyk_jpeg_becomes_rgb():
    original = encode(Image.new("CMYK", (30, 30), (0, 255, 255, 0)), "JPEG")
    assert reopen(original).mode == "CMYK"
    clean = inspect_and_clean(original, MAX)
    image = reopen(clean.data)
    assert image.mode == "RGB"
    assert close(image.getpixel((15, 15)), (255, 0, 0))  # type: ignore[arg-type]


def test_a_palette_png_keeps_its_palette_and_transparency():
    palette = Image.new("P", (20, 20), 0)
    palette.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0] + [0] * (256 * 3 - 9))
    palette.paste(1, (10, 0, 20, 20))
    original = encode(palette, "PNG", transparency=0)
    clean = inspect_and_clean(original, MAX)
    image = reopen(clean.data)
    assert image.mode == "P"
    rgba = image.convert("RGBA")
    assert rgba.getpixel((2, 2))[3] == 0  # type: ignore[index]
    assert rgba.getpixel((15, 2)) == (255, 0, 0, 255)


def test_greyscale_with_alpha_and_16_bit_greyscale_pngs():
    la = inspect_and_clean(encode(two_colour(mode="LA"), "PNG"), MAX)
    assert reopen(la.data).mode == "LA"
    values = ([65535] * 5 + [32768] * 5) * 10  # left half white, right half mid-grey
    deep = Image.frombytes("I;16", (10, 10), struct.pack("<100H", *values))
    grey = reopen(inspect_and_clean(encode(deep, "PNG"), MAX).data)
    assert grey.mode == "L"
    assert grey.getpixel((1, 1)) == 255
    assert grey.getpixel((8, 1)) == 128


def test_a_large_photo_is_scaled_down_on_its_long_side():
    clean = inspect_and_clean(encode(Image.new("RGB", (6000, 2000), (9, 99, 199)), "JPEG"), MAX)
    assert max(clean.width, clean.height) == MAX_SIDE_OUT
    assert reopen(clean.data).size == (MAX_SIDE_OUT, 853)


def test_an_oversized_image_is_refused_before_decoding_with_a_vietnamese_message():
    data = noise_jpeg((300, 300))
    error = refused(data, max_bytes=len(data) - 1)
    assert error.code == "too_large"
    assert error.message.startswith("Ảnh lớn quá (")
    assert error.message.endswith("Bạn gửi ảnh dưới " + human_size(len(data) - 1, int) + " nhé.")
    # Size is checked first: even garbage gets the size answer, not a decoding one.
    big = refused(b"\x00" * (12_900_000), max_bytes=8 * 1024 * 1024)
    assert big.message == "Ảnh lớn quá (12,3 MB). Bạn gửi ảnh dưới 8 MB nhé."


def test_size_messages_read_naturally():
    assert too_large(9 * 1024 * 1024, 8 * 1024 * 1024).message == (
        "Ảnh lớn quá (9 MB). Bạn gửi ảnh dưới 8 MB nhé."
    )
    # Just over the limit never reads as the limit itself.
    assert "(8,1 MB)" in too_large(8 * 1024 * 1024 + 1, 8 * 1024 * 1024).message
    assert too_large(None, 5 * 1024 * 1024).message == (
        "Ảnh lớn quá (trên 5 MB). Bạn gửi ảnh dưới 5 MB nhé."
    )


def test_empty_data_is_refused():
    assert refused(b"").code == "empty"


@pytest.mark.parametrize("data", [ELF, SHELL_SCRIPT, b"MZ\x90\x00" + b"\x00" * 200, b"%PDF-1.7\n"])
def test_an_executable_or_document_named_like_a_photo_is_refused(data):
    error = refused(data)
    assert error.code == "unsupported_type"
    assert error.message == UNSUPPORTED


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "ICO"])
def test_other_image_formats_are_refused(fmt):
    error = refused(encode(two_colour(), fmt))
    assert (error.code, error.message) == ("unsupported_type", UNSUPPORTED)


def test_a_jpeg_header_in_front_of_an_executable_is_refused():
    jpeg = encode(two_colour(), "JPEG")
    error = refused(jpeg[:20] + ELF)
    assert (error.code, error.message) == ("unsupported_type", UNSUPPORTED)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_a_truncated_image_is_refused(fmt):
    data = noise_jpeg((200, 200)) if fmt == "JPEG" else encode(reopen(noise_jpeg()), fmt)
    error = refused(data[: len(data) // 2])
    assert error.code == "broken_image"
    assert error.message == "Ảnh bị hỏng hoặc chưa tải lên hết. Bạn thử gửi lại ảnh khác nhé."


def test_a_real_decompression_bomb_is_refused():
    bomb = encode(Image.new("1", (7000, 7000)), "PNG")  # 49 megapixels in a few kilobytes
    assert len(bomb) < 100_000
    error = refused(bomb)
    assert error.code == "too_many_pixels"
    assert error.message == (
        "Ảnh có kích thước quá lớn (7000×7000 điểm ảnh). "
        "Bạn gửi ảnh nhỏ hơn (dưới 40 triệu điểm ảnh) nhé."
    )


@pytest.mark.parametrize("size", [(100_000, 100_000), (20_000, 20), (8_000, 6_000)])
def test_absurd_dimensions_are_refused_before_decoding(size):
    error = refused(png_header_only(*size))
    assert error.code == "too_many_pixels"
    assert error.message.startswith("Ảnh có kích thước quá lớn")
