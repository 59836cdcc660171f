"""Evidence files (issue 19.4–5), end to end through the real pledge and notification services:
a phone's progress photo is uploaded, attached by its hash, served stripped of its GPS
position, shown on the public board, exported with the log and verified; a tampered file is
named by the verifier."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image
from typer.testing import CliRunner

from gongkai.main import app as cli
from shared.audit.bundle import export_bundle
from shared.audit.checkpoints import public_pem
from shared.audit.verify import verify_bundle
from shared.files import store_from_environment
from tests.e2e.helpers import Directory, eventually, ok
from tests.e2e.notification_helpers import pledge_and_notification, publish_pledge
from tests.support import Servers
from tests.support.files import GPS_IFD, pdf, photo


async def test_a_progress_photo_from_upload_to_board_to_a_verified_bundle(
    servers: Servers, tmp_path: Path
) -> None:
    async with pledge_and_notification(servers) as (pledge, notification):
        c = pledge.client
        d = await Directory(c, servers).build()
        pledge_id, (canal,) = await publish_pledge(pledge, d, ["改造支渠3公里"])
        secretary = d.branch_secretary

        # the type is read from the content: a page named photo.jpg is refused, nothing kept
        disguised = await c.post(
            "/v1/files",
            files={"file": ("photo.jpg", b"<html><script>alert(1)</script>", "image/jpeg")},
            headers=secretary,
        )
        assert disguised.status_code == 422
        assert disguised.json()["errors"][0]["field"] == "file"
        assert not await pledge.runtime.pool.fetchval("SELECT count(*) FROM files")
        # the upload's bad input, each an RFC 9457 problem: no token, a caller who writes no
        # records, no file part, a file over the limit
        for headers, body, status in (
            ({}, {"files": {"file": ("a.jpg", photo())}}, 401),
            (d.as_("rater", d.township), {"files": {"file": ("a.jpg", photo())}}, 403),
            (d.as_("auditor", None), {"files": {"file": ("a.jpg", photo())}}, 403),
            (secretary, {"json": {"sha256": "0" * 64}}, 422),
            (secretary, {"files": {"file": ("big.pdf", pdf() + b" " * 10_000_000)}}, 422),
        ):
            refused = await c.post("/v1/files", headers=headers, **body)  # type: ignore[arg-type]
            assert refused.status_code == status, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
            if status == 422:
                assert refused.json()["errors"][0]["field"] == "file"
        too_big = await c.post(
            "/v1/files",
            files={"file": ("huge.pdf", b"%PDF-" + b" " * 13_000_000)},
            headers=secretary,
        )
        assert too_big.status_code == 413  # past the multipart limit, before it is parsed
        assert not await pledge.runtime.pool.fetchval("SELECT count(*) FROM files")

        # a phone's photo (with its GPS position), uploaded as multipart: its hash comes back
        uploaded = ok(
            await c.post(
                "/v1/files",
                files={"file": ("IMG_0001.jpg", photo(), "image/jpeg")},
                headers=secretary,
            ),
            201,
        )
        sha = uploaded["sha256"]
        assert uploaded["media_type"] == "image/jpeg"
        assert (await c.get(f"/v1/files/{sha}")).status_code == 404  # not attached: not public
        assert (await c.get(f"/v1/files/{sha}", headers=secretary)).status_code == 200

        # attached by its hash; only its uploader attaches it
        progress = {"summary": "支渠已完成1公里", "percent": 35}
        base = f"/v1/pledges/{pledge_id}/items/{canal}"
        attach = {"files": [{"sha256": sha, "name": "支渠施工现场.jpg"}]}
        stranger = await c.post(
            f"{base}/follow-ups", json={"note": "现场查看", **attach}, headers=d.office
        )
        assert stranger.status_code == 422
        assert stranger.json()["errors"][0]["field"] == "files.0.sha256"
        ok(await c.post(f"{base}/progress", json={**progress, **attach}, headers=secretary), 201)
        [recorded] = await pledge.runtime.pool.fetch(
            "SELECT body FROM events WHERE type = 'ProgressReported'"
        )
        assert f'"sha256":"{sha}"'.encode() in recorded["body"]
        assert "支渠施工现场.jpg".encode() in recorded["body"]

        # a published item's file is public, served with safe headers, without metadata
        served = await c.get(f"/v1/files/{sha}")
        assert served.status_code == 200
        assert hashlib.sha256(served.content).hexdigest() == sha
        assert served.headers["content-type"] == "image/jpeg"
        assert served.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in served.headers["content-security-policy"]
        assert "content-disposition" not in served.headers  # an image shows inline
        with Image.open(io.BytesIO(served.content)) as image:
            assert not image.getexif().get_ifd(GPS_IFD)
            assert not image.getexif()
        thumbnail = await c.get(f"/v1/files/{sha}/thumbnail")
        assert thumbnail.status_code == 200
        assert thumbnail.headers["content-type"] == "image/jpeg"

        # minutes as a PDF, on the office's follow-up: public, but only as an attachment
        minutes = ok(
            await c.post("/v1/files", files={"file": ("纪要.pdf", pdf())}, headers=d.office), 201
        )["sha256"]
        note = {"note": "现场查看", "files": [{"sha256": minutes, "name": "现场会纪要.pdf"}]}
        ok(await c.post(f"{base}/follow-ups", json=note, headers=d.office), 201)
        served_pdf = await c.get(f"/v1/files/{minutes}")
        assert served_pdf.headers["content-disposition"].startswith("attachment")

        # the board shows the photo (a thumbnail linking to the image) from the pledge service
        async def on_board() -> bool:
            page = await notification.client.get(f"/branches/{d.branch}")
            return f"/v1/files/{sha}/thumbnail" in page.text

        await eventually(on_board)
        card = (await notification.client.get(f"/pledges/{pledge_id}")).text
        assert f'href="http://127.0.0.1:8101/v1/files/{sha}"' in card
        assert minutes not in card  # the board shows photos, not the minutes

        # exported with its files, the bundle verifies; a changed file is named, as is a
        # missing one
        bundle = tmp_path / "bundle"
        reader = store_from_environment().blobs.get
        manifest = await export_bundle(
            pledge.runtime.pool,
            bundle,
            service="pledge",
            public_key_pem=public_pem(Ed25519PrivateKey.generate()),
            files=lambda conn, key: reader(key, conn),
        )
    assert manifest["files"] == 2
    assert (bundle / "files" / sha).read_bytes() == served.content
    report = verify_bundle(bundle)
    assert report.ok, report.problems
    assert report.files == 2
    (bundle / "files" / sha).write_bytes(served.content[:-10] + b"tampered!!")
    (bundle / "files" / minutes).unlink()
    verified = CliRunner().invoke(cli, ["audit", "verify", str(bundle)])
    assert verified.exit_code == 1
    output = " ".join(verified.output.split())
    assert f"file {sha} (支渠施工现场.jpg)" in output
    assert "changed" in output
    assert f"file {minutes} (现场会纪要.pdf)" in output
    assert "missing" in output
