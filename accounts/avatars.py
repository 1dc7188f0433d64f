"""Profile photos: checked by decoding them, cropped square and re-encoded.

Re-encoding is what makes an upload safe to show: whatever the file carried besides pixels
(metadata with a location, a script disguised as an image, a second payload appended) is dropped.
"""
from __future__ import annotations

import io
import secrets

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps, UnidentifiedImageError

from servicedesk.errors import ApplicationError

AVATAR_MAX_BYTES = 5 * 1024 * 1024
AVATAR_SIDE = 256
ACCEPTED_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}
# A small file can still decode into a huge bitmap; refuse anything beyond this before decoding.
MAX_PIXELS = 40_000_000


def _refuse(message: str) -> ApplicationError:
    return ApplicationError("That photo cannot be used.", errors={"avatar": [message]})


def avatar_from_upload(upload: UploadedFile) -> ContentFile:
    """A 256×256 PNG made from the uploaded image, or ApplicationError saying what is wrong."""
    if upload.size == 0:
        raise _refuse("The file is empty.")
    if upload.size > AVATAR_MAX_BYTES:
        raise _refuse(f"Photos can be up to {AVATAR_MAX_BYTES // (1024 * 1024)} MB.")
    upload.seek(0)
    data = upload.read()
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise _refuse("Use a JPEG, PNG, GIF or WebP image.")
            if probe.width * probe.height > MAX_PIXELS:
                raise _refuse("That image is too large; use one under 40 megapixels.")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.seek(0)
            image = ImageOps.exif_transpose(image)
            image = image.convert("RGBA") if image.mode in ("RGBA", "LA", "P") else image.convert("RGB")
            square = ImageOps.fit(image, (AVATAR_SIDE, AVATAR_SIDE), method=Image.Resampling.LANCZOS)
    except ApplicationError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise _refuse("That file is not an image we can read.") from None
    out = io.BytesIO()
    square.save(out, format="PNG", optimize=True)
    return ContentFile(out.getvalue(), name=f"{secrets.token_urlsafe(12)}.png")
