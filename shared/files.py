"""Evidence files (issue 19): photos, scanned signed letters, PDFs of minutes, kept by the
service whose records they prove.

- Checked from the content, never the name: the first bytes say the type (JPEG, PNG, WebP,
  PDF; nothing else is taken), the byte count the size, the pixel count an image's size.
- Images are decoded and re-encoded with Pillow, turned upright by their EXIF orientation and
  then stripped of every piece of metadata (EXIF with its GPS position, XMP, comments, ICC):
  what is stored and served is the re-encoded image, with a JPEG thumbnail beside it. PDFs
  are kept as sent (served only as attachments).
- Content-addressed: a file is named by the SHA-256 of the stored bytes and never
  overwritten (the same bytes stored twice are one file). The event that attaches a file
  records its hash, size, type and name (`FileRef`); `gongkai audit verify` checks each
  exported file against that hash.
- Stored beside the service's log (shared/migrations/0005_files.sql): the metadata always in
  `files` (and who uploaded each in `file_uploads`), the bytes in `file_blobs` (bytea, the
  default: `PostgresBlobs`) or in an S3-compatible object store (`S3Blobs`, through the
  MinIO client).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from shared.events import Part
from shared.text import Line

if TYPE_CHECKING:
    from shared.auth import Principal
    from shared.unit_of_work import UnitOfWork

SHA256_PATTERN = r"^[0-9a-f]{64}$"
Sha256 = Annotated[str, Field(pattern=SHA256_PATTERN)]
_SHA256 = re.compile(SHA256_PATTERN)

JPEG, PNG, WEBP, PDF = "image/jpeg", "image/png", "image/webp", "application/pdf"
IMAGES = (JPEG, PNG, WEBP)
KINDS = (*IMAGES, PDF)
_PILLOW_FORMAT = {JPEG: "JPEG", PNG: "PNG", WEBP: "WEBP"}


class FileRef(BaseModel):
    """A file as the event that attaches it records it: what `verify` checks the bytes by."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sha256: str  # hex; the command that attached it checked the pattern (AttachedFile)
    size: int
    media_type: str
    name: str


class AttachedFile(Part):
    """A file as a command attaches it: the hash the upload returned, and the name to show
    (its type and size come from the stored file, never from the caller)."""

    sha256: Sha256
    name: Annotated[Line, Field(max_length=200)]


Attachments = Annotated[tuple[AttachedFile, ...], Field(max_length=10)]


@dataclass(frozen=True)
class FileLimits:
    """Configurable (GONGKAI_FILES_MAX_BYTES, GONGKAI_FILES_MAX_PIXELS)."""

    max_bytes: int = 10_000_000  # an upload, as sent
    max_pixels: int = 40_000_000  # an image's width × height (decompression bombs)
    thumbnail_px: int = 320  # the thumbnail's longer side


class FileRefused(ValueError):
    """The upload is not a file we take: the reason, in words a person reads."""


@dataclass(frozen=True)
class Prepared:
    content: bytes  # what is stored and served (re-encoded, for an image)
    media_type: str
    thumbnail: bytes | None  # a JPEG, for an image

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    media_type: str
    has_thumbnail: bool


def sniff(data: bytes) -> str | None:
    """The type the first bytes say (magic numbers), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"%PDF-"):
        return PDF
    return None


def prepare(data: bytes, limits: FileLimits = FileLimits()) -> Prepared:
    """The file to store: checked from its content, an image re-encoded without metadata."""
    if not data:
        raise FileRefused("文件为空")
    if len(data) > limits.max_bytes:
        raise FileRefused(f"文件过大：不得超过{limits.max_bytes // 1_000_000}MB")
    kind = sniff(data)
    if kind is None:
        raise FileRefused("只接受JPEG、PNG、WebP图片或PDF文件（按文件内容判断，不看扩展名）")
    if kind == PDF:
        if b"%%EOF" not in data[-1024:]:
            raise FileRefused("PDF文件不完整")
        return Prepared(data, PDF, None)
    return _reencode(data, kind, limits)


def _reencode(data: bytes, kind: str, limits: FileLimits) -> Prepared:
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data), formats=[_PILLOW_FORMAT[kind]]) as opened:
            width, height = opened.size
            if width * height > limits.max_pixels:
                raise FileRefused(f"图片像素过多：不得超过{limits.max_pixels}像素")
            opened.load()
            upright = ImageOps.exif_transpose(opened)  # as the camera held it, then no EXIF
    except FileRefused:
        raise
    except Exception as error:  # whatever a broken image makes Pillow raise
        raise FileRefused("图片无法读取（文件损坏或类型不符）") from error
    # a fresh image of the pixels only: no EXIF (GPS), XMP, comments, ICC or text chunks
    mode = "RGBA" if upright.mode in ("RGBA", "LA", "P") and kind != JPEG else "RGB"
    pixels = upright.convert(mode)
    clean = Image.new(mode, pixels.size)
    clean.paste(pixels)
    content = _encode(clean, kind)
    thumb = clean.convert("RGB")
    thumb.thumbnail((limits.thumbnail_px, limits.thumbnail_px))
    return Prepared(content, kind, _encode(thumb, JPEG))


def _encode(image: Any, kind: str) -> bytes:
    out = io.BytesIO()
    if kind == JPEG:
        image.save(out, "JPEG", quality=88, optimize=True)
    elif kind == PNG:
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=88)
    return out.getvalue()


def is_sha256(value: str) -> bool:
    return bool(_SHA256.match(value))


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- where the bytes are -----------------------------------------------------------------


class Blobs(Protocol):
    """Where the bytes live; the metadata is always in the service's `files` table."""

    where: str  # 'postgres' or 's3', recorded per file

    async def put(self, key: str, data: bytes, conn: asyncpg.Connection) -> None: ...

    async def get(self, key: str, conn: asyncpg.Connection) -> bytes | None: ...


class PostgresBlobs:
    """The default: the bytes in the `files` table itself (bytea), beside the log."""

    where = "postgres"

    async def put(self, key: str, data: bytes, conn: asyncpg.Connection) -> None:
        await conn.execute(
            "INSERT INTO file_blobs (key, bytes) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            key,
            data,
        )

    async def get(self, key: str, conn: asyncpg.Connection) -> bytes | None:
        value: bytes | None = await conn.fetchval(
            "SELECT bytes FROM file_blobs WHERE key = $1", key
        )
        return value


@dataclass(frozen=True)
class S3Settings:
    endpoint: str  # host:port, e.g. oss-cn-beijing.aliyuncs.com or 127.0.0.1:9000
    bucket: str
    access_key: str
    secret_key: str
    secure: bool = True
    region: str | None = None
    prefix: str = ""  # e.g. "pledge/": one bucket, a prefix per service


class S3Blobs:
    """The production option: an S3-compatible object store (MinIO, Ceph, the clouds' object
    storage) through the MinIO client. Objects are named by their hash and written only when
    absent (a content-addressed name never needs overwriting)."""

    where = "s3"

    def __init__(self, settings: S3Settings) -> None:
        from minio import Minio

        self.settings = settings
        self.client = Minio(
            settings.endpoint,
            access_key=settings.access_key,
            secret_key=settings.secret_key,
            secure=settings.secure,
            region=settings.region,
        )

    def _name(self, key: str) -> str:
        return f"{self.settings.prefix}{key}"

    async def put(self, key: str, data: bytes, conn: asyncpg.Connection) -> None:
        from minio.error import S3Error

        def put_if_absent() -> None:
            try:
                self.client.stat_object(self.settings.bucket, self._name(key))
                return  # there already: never overwritten
            except S3Error as error:
                if error.code not in ("NoSuchKey", "NoSuchObject", "ResourceNotFound"):
                    raise
            self.client.put_object(
                self.settings.bucket, self._name(key), io.BytesIO(data), len(data)
            )

        await asyncio.to_thread(put_if_absent)

    async def get(self, key: str, conn: asyncpg.Connection) -> bytes | None:
        from minio.error import S3Error

        def read() -> bytes | None:
            try:
                response = self.client.get_object(self.settings.bucket, self._name(key))
            except S3Error as error:
                if error.code in ("NoSuchKey", "NoSuchObject"):
                    return None
                raise
            try:
                return bytes(response.read())
            finally:
                response.close()
                response.release_conn()

        return await asyncio.to_thread(read)


def thumbnail_key(sha256: str) -> str:
    return f"{sha256}.thumbnail"


class FileStore:
    """A service's files: metadata in its `files` table, bytes in `blobs`."""

    def __init__(self, blobs: Blobs | None = None, limits: FileLimits = FileLimits()) -> None:
        self.blobs: Blobs = blobs or PostgresBlobs()
        self.limits = limits

    async def store(self, conn: asyncpg.Connection, data: bytes, uploaded_by: str) -> StoredFile:
        """Check, prepare and keep an upload (raises FileRefused); the same bytes again are
        the same file. The uploader is remembered: a file is attached by who uploaded it."""
        prepared = prepare(data, self.limits)
        sha = prepared.sha256
        async with conn.transaction():
            await self.blobs.put(sha, prepared.content, conn)
            if prepared.thumbnail is not None:
                await self.blobs.put(thumbnail_key(sha), prepared.thumbnail, conn)
            await conn.execute(
                "INSERT INTO files (sha256, size, media_type, has_thumbnail, stored_in)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sha256) DO NOTHING",
                sha,
                len(prepared.content),
                prepared.media_type,
                prepared.thumbnail is not None,
                self.blobs.where,
            )
            await conn.execute(
                "INSERT INTO file_uploads (sha256, uploaded_by) VALUES ($1, $2)"
                " ON CONFLICT DO NOTHING",
                sha,
                uploaded_by,
            )
        return StoredFile(sha, len(prepared.content), prepared.media_type, bool(prepared.thumbnail))

    async def content(
        self, conn: asyncpg.Connection, sha256: str, *, thumbnail: bool = False
    ) -> bytes | None:
        """The stored bytes, checked against their name (a changed blob is not served)."""
        data = await self.blobs.get(thumbnail_key(sha256) if thumbnail else sha256, conn)
        if data is not None and not thumbnail and sha256_of(data) != sha256:
            raise RuntimeError(f"file {sha256} does not match its hash")
        return data


async def stored_file(conn: asyncpg.Connection, sha256: str) -> StoredFile | None:
    row = await conn.fetchrow(
        "SELECT sha256, size, media_type, has_thumbnail FROM files WHERE sha256 = $1", sha256
    )
    return None if row is None else StoredFile(*row)


class FileCatalog:
    """A read port for handlers: the files a person uploaded, to attach to a record."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def uploaded(self, sha256: str, by: str) -> StoredFile | None:
        row = await self.conn.fetchrow(
            "SELECT f.sha256, f.size, f.media_type, f.has_thumbnail FROM files f"
            " JOIN file_uploads u USING (sha256) WHERE f.sha256 = $1 AND u.uploaded_by = $2",
            sha256,
            by,
        )
        return None if row is None else StoredFile(*row)


class UploadedFiles(Protocol):
    async def uploaded(self, sha256: str, by: str) -> StoredFile | None: ...


async def refs(
    catalog: UploadedFiles, attached: tuple[AttachedFile, ...], by: str, field: str = "files"
) -> tuple[FileRef, ...]:
    """The attached files as the event records them; a hash the person did not upload here is
    refused (422, naming the field)."""
    from shared.errors import InvalidInput

    out = []
    for i, a in enumerate(attached):
        found = await catalog.uploaded(a.sha256, by)
        if found is None:
            raise InvalidInput(
                "您没有在本服务上传过这个文件：请重新上传。",
                field=f"{field}.{i}.sha256",
            )
        out.append(
            FileRef(sha256=a.sha256, size=found.size, media_type=found.media_type, name=a.name)
        )
    if len({r.sha256 for r in out}) != len(out):
        raise InvalidInput("同一个文件附了两次：请去掉重复的文件。", field=field)
    return tuple(out)


async def attached(
    uow: UnitOfWork, files: tuple[AttachedFile, ...], who: Principal
) -> tuple[FileRef, ...]:
    """The files a command attaches, as its event records them (a handler's step): each one
    the caller uploaded to this service; with none, no read at all."""
    return await refs(uow.port(FileCatalog), files, who.subject) if files else ()


def file_refs_in(data: Any) -> Iterator[dict[str, Any]]:
    """Every file an event's data records (a `files` list of FileRefs, at any depth)."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "files" and isinstance(value, list):
                for item in value:
                    if isinstance(item, dict) and "sha256" in item:
                        yield item
            else:
                yield from file_refs_in(value)
    elif isinstance(data, list):
        for item in data:
            yield from file_refs_in(item)


def store_from_environment() -> FileStore:
    """The file store the settings describe: GONGKAI_FILES_S3_ENDPOINT (and _BUCKET,
    _ACCESS_KEY, _SECRET_KEY, _SECURE, _REGION, _PREFIX) for S3; PostgreSQL otherwise."""
    import os

    env = os.environ.get
    limits = FileLimits(
        max_bytes=int(env("GONGKAI_FILES_MAX_BYTES", "10000000")),
        max_pixels=int(env("GONGKAI_FILES_MAX_PIXELS", "40000000")),
    )
    endpoint = env("GONGKAI_FILES_S3_ENDPOINT")
    if not endpoint:
        return FileStore(PostgresBlobs(), limits)
    s3 = S3Settings(
        endpoint=endpoint,
        bucket=env("GONGKAI_FILES_S3_BUCKET", "gongkai-files"),
        access_key=env("GONGKAI_FILES_S3_ACCESS_KEY", ""),
        secret_key=env("GONGKAI_FILES_S3_SECRET_KEY", ""),
        secure=env("GONGKAI_FILES_S3_SECURE", "true").lower() in ("1", "true", "yes"),
        region=env("GONGKAI_FILES_S3_REGION") or None,
        prefix=env("GONGKAI_FILES_S3_PREFIX", ""),
    )
    return FileStore(S3Blobs(s3), limits)
