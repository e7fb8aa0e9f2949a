"""Cover images: recognised by their first bytes, decoded with Pillow within bounds, and
re-encoded by the platform to a fixed set of sizes with no metadata. Visitors only ever load
these renditions, never the uploaded file (which may be huge or carry the camera's EXIF,
location included)."""

from __future__ import annotations

import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from marketplace.common.errors import AppError

_SIGNATURES = [(b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG")]
# The large rendition is the cover page's; the small one the listings'. Each fits in a
# square of this many pixels, keeping its proportions, and is never enlarged.
COVER_SIZES = (1400, 400)
LARGE, LISTING = COVER_SIZES
COVER_CONTENT_TYPE = "image/jpeg"
ACCEPTED_IMAGES = {"JPEG": ((".jpg", ".jpeg"), "image/jpeg"), "PNG": ((".png",), "image/png"),
                   "WEBP": ((".webp",), "image/webp")}
_JPEG_QUALITY = 88
# The store's pages show covers at most 150 and 300 CSS pixels wide: WebP renditions at twice
# these sizes (phones' screens have two or three pixels to a CSS pixel), a fraction of the JPEG's bytes.
WEBP_SIZES = (600, 300)
WEBP_CONTENT_TYPE = "image/webp"
_WEBP_QUALITY = 80


def _refused(message: str, code: str, status: int = 422, field: str = "cover") -> AppError:
    return AppError(message, code=code, status=status, details={"field": field})


def render_covers(path: Path, folder: Path, *, max_bytes: int, max_side: int, max_pixels: int,
                  sizes: tuple[int, ...] = COVER_SIZES, noun: str = "cover", field: str = "cover",
                  square: bool = False) -> dict[int, Path]:
    """The image's renditions (size -> JPEG file in `folder`), or an AppError saying why not.
    Covers keep their proportions; `square` ones (avatars) are cropped to their centre. `noun`
    names the image in refusals ("cover", "avatar") and `field` the form field."""
    image_format = _check_file(path, max_bytes, noun, field)
    image = _decode(path, image_format, max_side=max_side, max_pixels=max_pixels, noun=noun, field=field)
    renditions = {}
    for size in sizes:
        if square:
            rendition = ImageOps.fit(image, (min(size, *image.size),) * 2, Image.Resampling.LANCZOS)
        else:
            rendition = image.copy()
            rendition.thumbnail((size, size), Image.Resampling.LANCZOS)
        out = folder / f"{noun}-{size}.jpg"
        # Saved without the EXIF block (nor any text chunk): only the pixels and their colour profile.
        rendition.save(out, "JPEG", quality=_JPEG_QUALITY, optimize=True, progressive=True,
                       icc_profile=image.info.get("icc_profile"))
        renditions[size] = out
    return renditions


def render_webp(large: Path, folder: Path, sizes: tuple[int, ...] = WEBP_SIZES,
                noun: str = "cover") -> dict[int, Path]:
    """WebP renditions (size -> file in `folder`) of a large rendition made by render_covers, whose
    pixels were already checked, turned upright and stripped of metadata."""
    renditions = {}
    with Image.open(large) as image:
        image.load()
        for size in sizes:
            rendition = image.copy()
            rendition.thumbnail((size, size), Image.Resampling.LANCZOS)
            out = folder / f"{noun}-{size}.webp"
            rendition.save(out, "WEBP", quality=_WEBP_QUALITY, method=4,
                           icc_profile=image.info.get("icc_profile"))
            renditions[size] = out
    return renditions


def _check_file(path: Path, max_bytes: int, noun: str, field: str) -> str:
    size = path.stat().st_size
    if size == 0:
        raise _refused(f"The {noun} image is empty.", "empty_file", field=field)
    if size > max_bytes:
        raise _refused(f"{noun.capitalize()} images are at most {max_bytes // 1024**2} MB.",
                       f"{noun}_too_large", 413, field)
    with open(path, "rb") as image:
        head = image.read(12)
    for signature, image_format in _SIGNATURES:
        if head.startswith(signature):
            return image_format
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    raise _refused(f"{noun.capitalize()}s must be JPEG, PNG or WebP images.", "unsupported_image", 415, field)


def _decode(path: Path, image_format: str, *, max_side: int, max_pixels: int, noun: str,
            field: str) -> Image.Image:
    """Decode the image, after checking from its header that it is not too large to decode:
    a small file can describe a picture of billions of pixels (a decompression bomb)."""
    try:
        with warnings.catch_warnings(), open(path, "rb") as stream:
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with _open_header(stream, path, image_format) as opened:
                _check_dimensions(*opened.size, max_side=max_side, max_pixels=max_pixels, noun=noun,
                                  field=field)
                opened.draft("RGB", (LARGE, LARGE))  # JPEG decodes straight to a smaller scale
                upright = ImageOps.exif_transpose(opened)  # phones store portraits sideways
                image = _flatten(upright)
                # Nothing of the upload's metadata (EXIF, comments, text) goes on, but its colours.
                profile = opened.info.get("icc_profile")
                image.info = {"icc_profile": profile} if profile else {}
                return image
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refused(f"{noun.capitalize()} images are at most {max_side:,} pixels on a side and "
                       f"{max_pixels / 1e6:g} million pixels in all.", f"{noun}_dimensions_too_large",
                       field=field) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise _refused(f"The {noun} image is damaged or cannot be decoded.", "unreadable_image",
                       field=field) from None


def _open_header(stream, path: Path, image_format: str) -> Image.Image:
    """The image's header only, read by the plugin of the format its first bytes named (so its
    dimensions are ours to judge, in words, before Pillow's own, higher, bomb limit)."""
    Image.init()
    factory, _accept = Image.OPEN[image_format]
    return factory(stream, str(path))


def _check_dimensions(width: int, height: int, *, max_side: int, max_pixels: int, noun: str,
                      field: str) -> None:
    if width > max_side or height > max_side or width * height > max_pixels:
        raise _refused(f"The {noun} is {width:,} x {height:,} pixels; {noun} images are at most {max_side:,} "
                       f"pixels on a side and {max_pixels / 1e6:g} million pixels in all.",
                       f"{noun}_dimensions_too_large", field=field)


def _flatten(image: Image.Image) -> Image.Image:
    """RGB pixels, transparency laid over white."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def webp_rendition_key(cover_key: str, size: int) -> str | None:
    """The stored key of a cover's WebP rendition, or None for covers stored before there were any."""
    large_suffix = f"/{LARGE}.jpg"
    if size not in WEBP_SIZES or not cover_key.endswith(large_suffix):
        return None
    return cover_key[: -len(large_suffix)] + f"/{size}.webp"


def rendition_key(cover_key: str, size: int) -> str:
    """The stored key of a cover's rendition. Covers stored before renditions existed have only
    their original, which answers for every size."""
    large_suffix = f"/{LARGE}.jpg"
    if size not in COVER_SIZES or not cover_key.endswith(large_suffix):
        return cover_key
    return cover_key[: -len(large_suffix)] + f"/{size}.jpg"
