"""Files in an S3-compatible bucket (AWS S3, MinIO, Ceph, ...), reached by presigned URLs.

The only module that talks to S3.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from marketplace.storage.base import HashingReader, MissingFile, StoredFile, check_key


def attachment_disposition(name: str) -> str:
    """A Content-Disposition header for `name` (RFC 6266): an ASCII fallback with quotes and
    backslashes escaped, plus the exact UTF-8 name when it is not plain ASCII."""
    fallback = name.encode("ascii", "replace").decode().replace("\\", "\\\\").replace('"', '\\"')
    header = f'attachment; filename="{fallback}"'
    if not name.isascii():
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


class S3Storage:
    def __init__(self, bucket: str, endpoint_url: str | None = None, region: str = "us-east-1",
                 access_key: str | None = None, secret_key: str | None = None) -> None:
        self.bucket = bucket
        self._client = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region, aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=BotoConfig(signature_version="s3v4", retries={"max_attempts": 5, "mode": "standard"}))

    def save(self, key: str, stream: BinaryIO, content_type: str | None = None) -> StoredFile:
        """Streams the upload (multipart for large files); S3 makes it visible only when complete."""
        reader = HashingReader(stream)
        extra = {"ContentType": content_type} if content_type else {}
        self._client.upload_fileobj(reader, self.bucket, check_key(key), ExtraArgs=extra)
        return StoredFile(key=key, size=reader.size, sha256=reader.sha256)

    def open(self, key: str) -> BinaryIO:
        try:
            return self._client.get_object(Bucket=self.bucket, Key=check_key(key))["Body"]
        except ClientError as error:
            raise self._translate(error, key) from None

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except MissingFile:
            return False
        return True

    def size(self, key: str) -> int:
        try:
            return self._client.head_object(Bucket=self.bucket, Key=check_key(key))["ContentLength"]
        except ClientError as error:
            raise self._translate(error, key) from None

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=check_key(key))

    def move(self, source: str, target: str) -> None:
        """A server-side copy, then the source is deleted. Readers of `target` see the old
        object or the new one, never a partial one."""
        try:
            self._client.copy({"Bucket": self.bucket, "Key": check_key(source)}, self.bucket,
                              check_key(target))
        except ClientError as error:
            raise self._translate(error, source) from None
        self.delete(source)

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="s3-") as folder:
            path = Path(folder) / Path(key).name
            try:
                self._client.download_file(self.bucket, check_key(key), str(path))
            except ClientError as error:
                raise self._translate(error, key) from None
            yield path

    def signed_url(self, key: str, expires_in: int, download_name: str | None = None,
                   content_type: str | None = None) -> str:
        params = {"Bucket": self.bucket, "Key": check_key(key)}
        if download_name:
            params["ResponseContentDisposition"] = attachment_disposition(download_name)
        if content_type:
            params["ResponseContentType"] = content_type
        return self._client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)

    def ensure_bucket(self) -> None:
        with contextlib.suppress(self._client.exceptions.BucketAlreadyOwnedByYou):
            self._client.create_bucket(Bucket=self.bucket)

    @staticmethod
    def _translate(error: ClientError, key: str) -> Exception:
        # Without s3:ListBucket permission S3 answers 403, not 404, for a missing key: grant
        # it to the app's credentials, or missing files look like permission errors.
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return MissingFile(key)
        return error
