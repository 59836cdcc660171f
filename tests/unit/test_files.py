"""Evidence files (shared/files.py): checked from the content, images stripped of their
metadata (the GPS position above all), thumbnails, hashes."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from shared.errors import InvalidInput
from shared.files import (
    JPEG,
    PDF,
    PNG,
    WEBP,
    AttachedFile,
    FileLimits,
    FileRefused,
    file_refs_in,
    prepare,
    refs,
    sniff,
)
from tests.support.files import GPS_IFD, pdf, photo
from tests.support.memory import Uploaded


def test_the_type_is_read_from_the_first_bytes_not_the_name() -> None:
    assert sniff(photo()) == JPEG
    assert sniff(photo("PNG")) == PNG
    assert sniff(photo("WEBP")) == WEBP
    assert sniff(pdf()) == PDF
    for other in (b"<html><script>alert(1)</script>", b"PK\x03\x04 a zip", b"GIF89a...", b""):
        assert sniff(other) is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "为空"),
        (b"<svg onload=alert(1)>", "只接受"),
        (b"MZ\x90\x00 an executable named photo.jpg", "只接受"),
        (b"\xff\xd8\xff\xe0 a truncated jpeg", "无法读取"),
        (b"%PDF-1.4 no end", "不完整"),
    ],
)
def test_what_is_not_a_photo_or_a_pdf_is_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(FileRefused, match=reason):
        prepare(data)


def test_limits_are_configurable() -> None:
    with pytest.raises(FileRefused, match="过大"):
        prepare(photo(), FileLimits(max_bytes=1000))
    with pytest.raises(FileRefused, match="像素过多"):
        prepare(photo(size=(2000, 2000)), FileLimits(max_pixels=1_000_000))


@pytest.mark.parametrize("kind", ["JPEG", "PNG", "WEBP"])
def test_an_image_is_re_encoded_without_its_metadata(kind: str) -> None:
    sent = photo(kind)
    with Image.open(io.BytesIO(sent)) as before:
        assert before.getexif().get_ifd(GPS_IFD)  # the phone's photo says where it was taken
    prepared = prepare(sent)
    assert prepared.media_type == {"JPEG": JPEG, "PNG": PNG, "WEBP": WEBP}[kind]
    assert b"PhoneMaker" not in prepared.content
    assert b"Exif" not in prepared.content
    with Image.open(io.BytesIO(prepared.content)) as after:
        assert not after.getexif()  # no EXIF at all: no GPS, no camera, no orientation
        assert not after.info.get("exif")
        assert not after.info.get("icc_profile")
        assert after.size == (800, 1200)  # turned upright first, as the camera was held


def test_a_thumbnail_is_a_small_jpeg() -> None:
    prepared = prepare(photo(size=(4000, 3000), gps=False))
    assert prepared.thumbnail is not None
    assert sniff(prepared.thumbnail) == JPEG
    with Image.open(io.BytesIO(prepared.thumbnail)) as thumb:
        assert max(thumb.size) == 320
        assert not thumb.getexif()


def test_a_pdf_is_kept_as_sent_and_named_by_its_hash() -> None:
    prepared = prepare(pdf())
    assert prepared.content == pdf()
    assert prepared.thumbnail is None
    assert prepared.sha256 == hashlib.sha256(pdf()).hexdigest()


def test_the_same_photo_prepares_to_the_same_bytes() -> None:
    """Content-addressed: the same upload twice is one file."""
    assert prepare(photo()).sha256 == prepare(photo()).sha256


async def test_a_command_attaches_only_files_its_caller_uploaded() -> None:
    mine, theirs = "a" * 64, "b" * 64
    catalog = Uploaded((mine, "sec-1"), (theirs, "sec-2"))
    [ref] = await refs(catalog, (AttachedFile(sha256=mine, name="会议纪要.pdf"),), "sec-1")
    assert (ref.sha256, ref.size, ref.media_type, ref.name) == (mine, 10, PDF, "会议纪要.pdf")
    with pytest.raises(InvalidInput) as refused:
        await refs(catalog, (AttachedFile(sha256=theirs, name="x.pdf"),), "sec-1")
    assert refused.value.extra["errors"][0]["field"] == "files.0.sha256"
    twice = (AttachedFile(sha256=mine, name="a"), AttachedFile(sha256=mine, name="b"))
    with pytest.raises(InvalidInput, match="附了两次"):
        await refs(catalog, twice, "sec-1")


def test_the_files_an_event_records_are_found_at_any_depth() -> None:
    data = {"summary": "x", "files": [{"sha256": "a" * 64}], "entry": {"files": [{"sha256": "b"}]}}
    assert [f["sha256"] for f in file_refs_in(data)] == ["a" * 64, "b"]


def test_progress_and_follow_ups_written_before_files_read_as_before_with_none() -> None:
    from services.pledge.events import REGISTRY

    v1 = {"pledge_id": "p1", "item_id": "i1", "report_id": "r1", "summary": "x", "percent": 5}
    assert REGISTRY.decode("ProgressReported", 1, v1).model_dump()["files"] == ()
    v1 = {"pledge_id": "p1", "item_id": "i1", "follow_up_id": "f1", "note": "y"}
    assert REGISTRY.decode("FollowUpRecorded", 1, v1).model_dump()["files"] == ()
