"""Async invocations (video generation): their records, and the results written to S3.

A job is InProgress for ``video_delay_seconds``, then its MP4 (a real, playable clip shipped in
``assets/sample.mp4``) and a ``manifest.json`` are written with aiobotocore to
``<s3Uri>/<invocation id>/`` — the Nova Reel layout — and it becomes Completed (or Failed, with
the S3 error code, when the write fails).
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from fmgate_emulator.config import EmulatorConfig

ACCOUNT_ID = "123456789012"
VIDEO_FILE_NAME = "output.mp4"
MANIFEST_FILE_NAME = "manifest.json"


def sample_video() -> bytes:
    """The MP4 every video job produces (2 s, 320x180, H.264)."""
    return files("fmgate_emulator").joinpath("assets/sample.mp4").read_bytes()


def iso_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> (``bucket``, ``some/prefix``)."""
    if not uri.startswith("s3://"):
        raise ValueError(uri)
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    if not bucket:
        raise ValueError(uri)
    return bucket, prefix.strip("/")


@dataclass(slots=True)
class AsyncInvocation:
    """One StartAsyncInvoke call and its progress."""

    invocation_id: str
    invocation_arn: str
    model_arn: str
    s3_uri: str
    client_request_token: str | None
    submit_time: datetime
    status: str = "InProgress"
    failure_message: str | None = None
    last_modified_time: datetime = field(default_factory=lambda: datetime.now(UTC))
    end_time: datetime | None = None

    @property
    def output_uri(self) -> str:
        return f"{self.s3_uri.rstrip('/')}/{self.invocation_id}"

    def finish(self, failure: str | None = None) -> None:
        self.status = "Failed" if failure else "Completed"
        self.failure_message = failure
        self.end_time = self.last_modified_time = datetime.now(UTC)

    def to_json(self) -> dict[str, Any]:
        """The GetAsyncInvoke / AsyncInvokeSummary shape (timestamps in ISO 8601)."""
        out: dict[str, Any] = {
            "invocationArn": self.invocation_arn,
            "modelArn": self.model_arn,
            "status": self.status,
            "submitTime": iso_time(self.submit_time),
            "lastModifiedTime": iso_time(self.last_modified_time),
            # Bedrock reports the job's own folder: ``<requested s3Uri>/<invocation id>``.
            "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": self.output_uri}},
        }
        if self.client_request_token:
            out["clientRequestToken"] = self.client_request_token
        if self.failure_message:
            out["failureMessage"] = self.failure_message
        if self.end_time:
            out["endTime"] = iso_time(self.end_time)
        return out


class AsyncInvocations:
    """Every async invocation the emulator started, and the background jobs completing them."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.by_arn: dict[str, AsyncInvocation] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def start(
        self, model_arn: str, s3_uri: str, client_request_token: str | None
    ) -> AsyncInvocation:
        """Record a new invocation (or the earlier one with the same request token) and run it."""
        for existing in self.by_arn.values():
            if client_request_token and existing.client_request_token == client_request_token:
                return existing
        invocation_id = secrets.token_hex(6)
        arn = f"arn:aws:bedrock:{self.config.region}:{ACCOUNT_ID}:async-invoke/{invocation_id}"
        job = AsyncInvocation(
            invocation_id=invocation_id,
            invocation_arn=arn,
            model_arn=model_arn,
            s3_uri=s3_uri,
            client_request_token=client_request_token,
            submit_time=datetime.now(UTC),
        )
        self.by_arn[arn] = job
        task = asyncio.get_running_loop().create_task(self._complete(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    def listing(self, status: str | None, newest_first: bool) -> list[AsyncInvocation]:
        jobs = [j for j in self.by_arn.values() if status is None or j.status == status]
        return sorted(jobs, key=lambda j: j.submit_time, reverse=newest_first)

    async def _complete(self, job: AsyncInvocation) -> None:
        await asyncio.sleep(self.config.video_delay_seconds)
        try:
            await self.write_outputs(job)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "Unknown")
            job.finish(f"Could not write the output to {job.s3_uri}: S3 error {code}.")
        except BotoCoreError as error:
            job.finish(f"Could not write the output to {job.s3_uri}: {type(error).__name__}.")
        else:
            job.finish()

    async def write_outputs(self, job: AsyncInvocation) -> None:
        """PutObject ``output.mp4`` and ``manifest.json`` under ``<s3Uri>/<id>/``."""
        bucket, prefix = split_s3_uri(job.s3_uri)
        folder = f"{prefix}/{job.invocation_id}" if prefix else job.invocation_id
        video = await asyncio.to_thread(sample_video)
        manifest = {
            "invocationArn": job.invocation_arn,
            "modelArn": job.model_arn,
            "outputs": [{"uri": f"{job.output_uri}/{VIDEO_FILE_NAME}", "contentType": "video/mp4"}],
        }
        config = self.config
        session = get_session()
        async with session.create_client(
            "s3",
            region_name=config.region,
            endpoint_url=config.s3_endpoint_url,
            aws_access_key_id=config.s3_access_key_id,
            aws_secret_access_key=config.s3_secret_access_key,
            config=AioConfig(s3={"addressing_style": "path"}),
        ) as s3:
            await s3.put_object(
                Bucket=bucket,
                Key=f"{folder}/{VIDEO_FILE_NAME}",
                Body=video,
                ContentType="video/mp4",
            )
            await s3.put_object(
                Bucket=bucket,
                Key=f"{folder}/{MANIFEST_FILE_NAME}",
                Body=json.dumps(manifest).encode(),
                ContentType="application/json",
            )

    async def close(self) -> None:
        """Cancel jobs still running (server shutdown)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
