from __future__ import annotations


class AudioRejected(Exception):
    """An upload that is not acceptable; `code` and `message` are for the uploader."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class AudioProcessingFailed(Exception):
    """ffmpeg could not render something from a file that had passed the checks."""
