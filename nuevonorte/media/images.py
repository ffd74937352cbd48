"""Photos, rebuilt from their pixels: runs only inside the sandboxed worker process.

Only JPEG, PNG, WebP and HEIC/HEIF are opened (never by name: Pillow is told which decoders
it may use). The size in the header is checked before any pixel is decoded. Orientation is
applied, colours are converted to sRGB, and a brand-new image is built from the raw pixels,
so no EXIF, GPS, XMP, IPTC, ICC profile, comment, text chunk, thumbnail or trailing byte can
reach the stored JPEG files.
"""

from __future__ import annotations

import io
import os
import re
import warnings
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, Any, Protocol

from PIL import Image, ImageFile, ImageOps

FORMATS = ["JPEG", "PNG", "WEBP"]
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
JPEG_QUALITY = 88

# EXIF tags, grouped by what they reveal (https://exiftool.org/TagNames/EXIF.html).
CAMERA_TAGS = {0x010F, 0x0110, 0xA431, 0xA432, 0xA433, 0xA434, 0xA435, 0xC614}
DATE_TAGS = {0x0132, 0x9003, 0x9004, 0x9010, 0x9011, 0x9012, 0x9290, 0x9291, 0x9292}
AUTHOR_TAGS = {0x013B, 0x8298, 0x0131, 0xA430, 0x9C9D}
COMMENT_TAGS = {0x010E, 0x9286, 0x9C9C, 0x9C9F}
ORIENTATION = 0x0112
#: Compiled when the fork server imports this module, not again in each child.
XMP_ORIENTATION = re.compile(rb'tiff:Orientation(?:="|=\'|>)([1-8])')
XMP_SEPARATORS = re.compile(r"[<>\"'=\n]")
GPS_IFD = 0x8825
EXIF_IFD = 0x8769


#: How much of an encoded JPEG is scanned at a time (what one read of the pipe gives at most).
PIPE_PIECE = 1 << 16


class Scan(Protocol):
    """Looks for the upload's metadata values in bytes fed to it in order."""

    def feed(self, piece: bytes) -> bool:
        """True once any value has occurred in what was fed so far."""
        ...


#: ``new_scan(needles)``: a fresh scan for these metadata values (the worker's NeedleScan).
NewScan = Callable[[list[bytes]], Scan]


class TooManyPixels(Exception):
    """The header announces more pixels than the archive accepts."""


class MetadataSurvived(Exception):
    """A metadata value of the upload occurs in a file about to be stored."""


def is_heif(head: bytes) -> bool:
    """Whether the first bytes are an ISO-BMFF file branded as HEIC/HEIF."""
    return head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS


def looks_like_image(path: str) -> bool:
    """Whether the file starts like an accepted image (so a failure to decode means damage)."""
    with open(path, "rb") as f:
        head = f.read(16)
    return (
        head[:3] == b"\xff\xd8\xff"
        or head[:8] == b"\x89PNG\r\n\x1a\n"
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
        or is_heif(head)
    )


def open_image(path: str, max_pixels: int) -> Image.Image:
    """Open (header only) an image of an accepted format, refusing pixel floods."""
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    # Pillow's own check is process-wide: only ever widened here (an administrator may allow
    # more than its default), never narrowed, so that reading a stored picture's header anywhere
    # else in the process (the IIIF sizes, the share cards) is never refused by a limit meant for
    # uploads. The archive's own limit is the check below, made before any pixel is decoded.
    Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, max_pixels)
    formats = list(FORMATS)
    with open(path, "rb") as f:
        head = f.read(16)
    if is_heif(head):
        import pillow_heif

        pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)
        formats = ["HEIF"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path, formats=formats)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise TooManyPixels from e
    width, height = image.size
    if width * height > max_pixels or width < 1 or height < 1:
        raise TooManyPixels
    return image


def found_metadata(image: Image.Image) -> list[str]:
    """Stable codes for the kinds of information the file carries besides its pixels."""
    found: set[str] = set()
    exif = image.getexif()
    tags = set(exif.keys())
    for ifd in (EXIF_IFD, GPS_IFD):
        try:
            sub = exif.get_ifd(ifd)
        except Exception:  # a broken sub-IFD is still metadata we drop
            sub = {}
            found.add("other_metadata")
        if ifd == GPS_IFD and (sub or GPS_IFD in tags):
            found.add("location")
        tags |= set(sub.keys())
    groups = {"camera": CAMERA_TAGS, "date": DATE_TAGS, "author": AUTHOR_TAGS, "comment": COMMENT_TAGS}
    for code, group in groups.items():
        if tags & group:
            found.add(code)
    if tags - {ORIENTATION, GPS_IFD, EXIF_IFD} - set().union(*groups.values()):
        found.add("other_metadata")
    if exif.get(ORIENTATION, 1) != 1 or _xmp_orientation(image) not in (None, 1):
        found.add("orientation_applied")
    info = image.info
    if info.get("icc_profile"):
        found.add("color_profile")
    if "comment" in info or "COM" in getattr(image, "app", {}):
        found.add("comment")
    if "thumbnail" in info or getattr(image, "app", {}).get("APP1", b"").count(b"\xff\xd8") > 0:
        found.add("embedded_thumbnail")
    text_keys = set(info) - {
        "dpi",
        "jfif",
        "jfif_version",
        "jfif_unit",
        "jfif_density",
        "progressive",
        "progression",
        "adobe",
        "adobe_transform",
        "gamma",
        "transparency",
        "aspect",
        "interlace",
        "loop",
        "duration",
        "background",
        "icc_profile",
        "exif",
        "comment",
        "srgb",
        "chromaticity",
        "compression",
        "lossless",
        "bit_depth",
        "primary",
        "mode",
        "thumbnails",
        "depth_images",
        "original_orientation",
    }
    if text_keys or "xmp" in info or "photoshop" in info:
        found.add("other_metadata")
    return sorted(found)


def _xmp_orientation(image: Image.Image) -> int | None:
    xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    if isinstance(xmp, str):
        xmp = xmp.encode()
    if not isinstance(xmp, bytes):
        return None
    match = XMP_ORIENTATION.search(xmp)
    return int(match.group(1)) if match else None


def metadata_values(image: Image.Image) -> list[str]:
    """Every free-text value in the file's metadata, for the needle re-check of the output."""
    values: list[str] = []
    exif = image.getexif()
    entries = list(exif.items())
    for ifd in (EXIF_IFD, GPS_IFD):
        try:
            entries += list(exif.get_ifd(ifd).items())
        except Exception:  # noqa: S112 (a broken IFD has no values to look for)
            continue
    for _tag, value in entries:
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        if isinstance(value, str):
            values.append(value.strip("\x00 "))
    for key, value in image.info.items():
        if key in ("icc_profile", "exif"):
            continue
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        if isinstance(value, str):
            values += [v.strip() for v in XMP_SEPARATORS.split(value)]
    return [v.encode("utf-8", "replace").decode("latin-1") for v in values if len(v) >= 8]


def to_srgb(image: Image.Image) -> Image.Image:
    """The image in sRGB (RGB or L), converted through its ICC profile when it has one."""
    icc = image.info.get("icc_profile")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        if icc:
            image = _convert_profile(image, icc, "RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, image).convert("RGB")
    if icc and image.mode in ("RGB", "CMYK", "L"):
        return _convert_profile(image, icc, "L" if image.mode == "L" else "RGB")
    if image.mode in ("L", "RGB"):
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        return image.point(lambda v: v / 256).convert("L")
    return image.convert("RGB")


def _convert_profile(image: Image.Image, icc: bytes, mode: str) -> Image.Image:
    from PIL import ImageCms  # imported ahead by the worker's fork server

    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        target = ImageCms.createProfile("sRGB")
        converted = ImageCms.profileToProfile(image, source, target, outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        converted = None
    if converted is None:
        return image.convert(mode)
    return converted


def rebuild(image: Image.Image) -> Image.Image:
    """A brand-new plain image holding only the pixels: no info, EXIF, XMP, profile or comment.

    The new image shares the decoded pixel memory instead of copying it (48 MB for 12
    megapixels); what it leaves behind is everything else. It is built by ``_new`` — Pillow's
    own constructor for the result of every operation — called on an empty image, so the only
    thing it inherits besides the pixels is that image's empty ``info``. A test proves that even
    a naive ``save()`` of the result writes no metadata.
    """
    image.load()
    fresh = _EMPTY._new(image.im)
    if fresh.info or fresh.mode != image.mode or fresh.size != image.size or fresh.palette is not None:
        raise RuntimeError("rebuild carried something besides the pixels")
    return fresh


#: An image with no pixels and no information, whose constructor ``rebuild`` borrows.
_EMPTY = Image.new("L", (0, 0))


def save_jpeg(image: Image.Image, target: str | IO[bytes]) -> None:
    """Write a JPEG with no EXIF, ICC profile or comment (to a path or an open binary file)."""
    image.save(target, "JPEG", quality=JPEG_QUALITY, exif=b"", icc_profile=None, comment=b"")


def save_scanned(image: Image.Image, path: str, scan: Scan) -> bool:
    """Write ``image`` to ``path`` with ``save_jpeg``, feeding every byte to ``scan`` as the
    encoder produces it; return whether the scan found anything.

    The encoder writes into a pipe from a thread of its own (Pillow releases the GIL while it
    encodes to a file descriptor); this thread scans each piece and writes it to ``path``, so
    the scan of a 12-megapixel JPEG runs beside its encoding instead of after it. When this side
    fails, closing the pipe makes the encoder fail too, so it never waits for a reader.
    """
    read_fd, write_fd = os.pipe()
    with ThreadPoolExecutor(1) as encoder:
        try:
            encoded = encoder.submit(_encode_into, image, write_fd)
        except BaseException:
            os.close(write_fd)
            os.close(read_fd)
            raise
        found = False
        with os.fdopen(read_fd, "rb", buffering=0) as pipe, open(path, "wb") as out:
            while piece := pipe.read(PIPE_PIECE):
                found = scan.feed(piece)
                out.write(piece)
        encoded.result()
    return found


def _encode_into(image: Image.Image, write_fd: int) -> None:
    with os.fdopen(write_fd, "wb") as sink:
        save_jpeg(image, sink)


def sync(path: str) -> None:
    """Push a written file to disk, so that storage's own fsync later finds nothing left to do."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def orient(image: Image.Image, removed: list[str]) -> Image.Image:
    """The image turned upright by its EXIF or XMP orientation (no copy when already upright)."""
    if "orientation_applied" not in removed:
        return image
    return ImageOps.exif_transpose(image)


def shrink(image: Image.Image, longest: int) -> Image.Image:
    """At most ``longest`` pixels on its longer side (the image itself when it already fits).

    A box reduce by a whole factor averages every source pixel, so it is a proper downscale on
    its own; when the smallest factor that fits lands within a quarter of ``longest`` (a 4000
    pixel photo becomes 1333 for a 1600 display), that is all. Otherwise the image is reduced
    by the largest factor that stays above ``longest`` and a Hamming filter does the rest
    (less than 2x, where it looks like bicubic at about half the cost).
    """
    side = max(image.size)
    if side <= longest:
        return image
    fitting = -(-side // longest)
    if side / fitting >= longest * 0.75:
        return image.reduce(fitting)
    factor = side // longest
    smaller = image.reduce(factor) if factor > 1 else image
    scale = longest / max(smaller.size)
    size = (max(1, round(smaller.width * scale)), max(1, round(smaller.height * scale)))
    return smaller.resize(size, Image.Resampling.HAMMING)


def clean(path: str, outputs: dict[str, str], limits: dict[str, Any], new_scan: NewScan) -> dict[str, Any]:
    """Decode, orient, convert, rebuild and save the original, display and thumbnail JPEGs.

    Each output is rebuilt from pixels and saved by ``save_scanned``, which looks for every
    metadata value of the upload in the bytes as they are encoded (MetadataSurvived on a hit).
    The full-size JPEG is written in a second thread while this one makes the derivatives
    (Pillow releases the GIL while it encodes to a file, reduces and resizes), and a last
    thread waits for each written file to reach the disk meanwhile.
    """
    image = open_image(path, int(limits["max_pixels"]))
    removed = found_metadata(image)
    needles = [value.encode("latin-1") for value in metadata_values(image)]
    image.seek(0)
    image.load()
    upright = to_srgb(orient(image, removed))
    with ThreadPoolExecutor(1) as writer, ThreadPoolExecutor(1) as disk:
        synced: list[Future[None]] = []

        def write(picture: Image.Image, name: str) -> tuple[int, int]:
            clean_image = rebuild(picture)
            found = save_scanned(clean_image, outputs[name], new_scan(needles))
            synced.append(disk.submit(sync, outputs[name]))
            if found:
                raise MetadataSurvived
            return clean_image.size

        original = writer.submit(write, upright, "original")
        display = shrink(upright, int(limits["display_px"]))
        write(display, "display")
        write(shrink(display, int(limits["thumbnail_px"])), "thumbnail")
        width, height = original.result()
        for done in synced:
            done.result()
    return {
        "kind": "image",
        "ext": "jpg",
        "mime": "image/jpeg",
        "width": width,
        "height": height,
        "removed": removed,
    }
