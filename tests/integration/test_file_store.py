"""The evidence file store (shared/files.py) on real servers: PostgreSQL (the default), and an
S3-compatible object store (moto's server mode, a real HTTP S3 server on this machine)
through the MinIO client: content-addressed, the same bytes one file, never overwritten."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import asyncpg
import pytest

from shared.files import FileStore, S3Blobs, S3Settings, prepare, stored_file
from tests.support import Servers, fresh_log_database
from tests.support.files import pdf, photo


async def test_files_in_postgresql_are_kept_once_and_never_overwritten(servers: Servers) -> None:
    pool, _ = await fresh_log_database(servers)
    store = FileStore()
    async with pool.acquire() as conn:
        first = await store.store(conn, photo(), "sec-1")
        again = await store.store(conn, photo(), "sec-2")  # the same photo: the same file
        assert again == first
        await store.blobs.put(first.sha256, b"other bytes", conn)  # never overwritten
        assert await stored_file(conn, first.sha256) == first
        assert await store.content(conn, first.sha256) == prepare(photo()).content
        assert await store.content(conn, first.sha256, thumbnail=True) == prepare(photo()).thumbnail
        assert await conn.fetchval("SELECT count(*) FROM files") == 1
        uploaders = await conn.fetch("SELECT uploaded_by FROM file_uploads ORDER BY 1")
        assert [r["uploaded_by"] for r in uploaders] == ["sec-1", "sec-2"]
        for sql in (
            "UPDATE file_blobs SET bytes = 'x'",
            "DELETE FROM files",
            "UPDATE files SET size = 1",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(sql)
    await pool.close()


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Settings]:
    from minio import Minio
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    settings = S3Settings(
        endpoint=f"127.0.0.1:{port}",
        bucket="gongkai-files",
        access_key="test",
        secret_key="test",  # moto's, local
        secure=False,
        region="us-east-1",
        prefix="pledge/",
    )
    client = Minio(settings.endpoint, "test", "test", secure=False, region="us-east-1")
    client.make_bucket(settings.bucket)
    yield settings
    server.stop()


async def test_files_in_an_s3_compatible_store(servers: Servers, s3: S3Settings) -> None:
    pool, _ = await fresh_log_database(servers)
    store = FileStore(S3Blobs(s3))
    async with pool.acquire() as conn:
        image = await store.store(conn, photo(), "sec-1")
        minutes = await store.store(conn, pdf(), "office-1")
        assert await store.content(conn, image.sha256) == prepare(photo()).content
        assert await store.content(conn, minutes.sha256) == pdf()
        assert await store.content(conn, image.sha256, thumbnail=True) is not None
        assert await store.content(conn, "0" * 64) is None
        await store.blobs.put(image.sha256, b"other bytes", conn)  # never overwritten
        assert await store.content(conn, image.sha256) == prepare(photo()).content
        # the metadata beside the log, the bytes in the bucket (under the prefix) only
        assert await conn.fetchval("SELECT count(*) FROM file_blobs") == 0
        assert set(await conn.fetch("SELECT stored_in FROM files")) == {("s3",)}
    names = {o.object_name for o in store.blobs.client.list_objects(s3.bucket, recursive=True)}
    assert names == {
        f"pledge/{image.sha256}",
        f"pledge/{image.sha256}.thumbnail",
        f"pledge/{minutes.sha256}",
    }
    await pool.close()
