"""Answers compressed for clients that say they accept it (Accept-Encoding): the pages' scripts,
styles and HTML, the OpenAPI spec and other JSON, by flask-compress.

Streamed answers (stored files sent in pieces, with Range) and partial ones (206) are left as
they are: a byte range names bytes of the file itself, and audio, images and archives are
compressed already. A reverse proxy that compresses may do it instead (COMPRESS_RESPONSES=0).
"""

from __future__ import annotations

from flask import Flask, Response
from flask_compress import Compress

PARTIAL_CONTENT = 206


def init_compression(app: Flask) -> None:
    if not app.config.get("COMPRESS_RESPONSES", True):
        return
    app.config.setdefault("COMPRESS_REGISTER", False)  # our own hook below decides what it sees
    app.config.setdefault("COMPRESS_STREAMS", False)
    # Brotli where the client takes it, else gzip, which every client has.
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    compress = Compress(app)

    @app.after_request
    def compress_answer(response: Response) -> Response:
        if response.status_code == PARTIAL_CONTENT or "Content-Range" in response.headers:
            return response
        return compress.after_request(response)
