"""What each upload accepts, as the API tells the pages, and the studio's check of a picked
file before it is sent (the page's own module, run by Node)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "static" / "app" / "studio"


def test_the_api_lists_what_each_upload_accepts(client):
    formats = client.get("/api/v1/uploads/formats").json
    assert set(formats) == {"master", "stems", "cover", "voice_tag"}
    assert set(formats["master"]["extensions"]) == {".wav", ".aif", ".aiff", ".flac", ".mp3"}
    assert "audio/ogg" not in formats["master"]["content_types"]
    assert {".ogg", ".opus", ".m4a", ".wav", ".mp3"} <= set(formats["voice_tag"]["extensions"])
    assert "any sample rate" in formats["voice_tag"]["description"]
    assert formats["stems"]["extensions"] == [".zip"]
    assert set(formats["cover"]["extensions"]) == {".jpg", ".jpeg", ".png", ".webp"}
    assert formats["cover"]["max_bytes"] == client.application.config["COVER_MAX_BYTES"]
    spec = client.get("/api/v1/openapi.json").json
    assert "/uploads/formats" in str(list(spec["paths"]))


def test_the_cover_size_must_be_one_that_is_rendered(client):
    answer = client.get("/api/v1/beats/bt_missing/cover?size=20000")
    assert answer.status_code == 422 and "size" in json.dumps(answer.json["error"]["details"])


def run_page_check(tmp_path: Path, formats: dict, picks: list[dict]) -> list:
    """fileProblem() of static/app/studio/file-types.js for each picked file, run by Node."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: the studio's file check is not run here")
    module = tmp_path / "file-types.mjs"  # the page's module as it is served, as an ES module for Node
    module.write_text((STATIC / "file-types.js").read_text())
    script = (f"import {{ acceptAttribute, fileProblem }} from {json.dumps(module.as_uri())};\n"
              f"const formats = {json.dumps(formats)};\n"
              f"const picks = {json.dumps(picks)};\n"
              "console.log(JSON.stringify({accept: acceptAttribute(formats.master),\n"
              "  problems: picks.map((p) => fileProblem(p.file, formats[p.kind], p.what))}));\n")
    result = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True,
                            timeout=60, check=True)
    return json.loads(result.stdout)


def test_the_studio_refuses_an_ogg_master_before_sending_it(client, tmp_path):
    formats = client.get("/api/v1/uploads/formats").json
    def pick(kind, what, name, content_type, size=10):
        return {"kind": kind, "what": what, "file": {"name": name, "type": content_type, "size": size}}

    picks = [pick("master", "the master", "Night Drive.ogg", "audio/ogg"),
             pick("master", "the master", "Night Drive.WAV", "audio/wav"),
             pick("voice_tag", "a voice tag", "memo.m4a", "audio/mp4"),
             pick("voice_tag", "a voice tag", "tag.ogg", "audio/ogg"),
             pick("cover", "a cover", "art.gif", "image/gif"),
             pick("cover", "a cover", "art.png", "image/png", formats["cover"]["max_bytes"] + 1),
             pick("stems", "stems", "stems.rar", "")]
    checked = run_page_check(tmp_path, formats, picks)
    ogg_master, wav_master, m4a_tag, ogg_tag, gif_cover, huge_cover, rar_stems = checked["problems"]
    assert ogg_master.startswith("OGG files cannot be used as the master.")
    assert wav_master is None and m4a_tag is None and ogg_tag is None
    assert gif_cover.startswith("GIF files cannot be used as a cover.")
    assert "too large" in huge_cover and rar_stems.startswith("RAR files")
    # The file dialog offers only what the API accepts for a master: no OGG, no "any audio".
    accept = checked["accept"].split(",")
    assert ".ogg" not in accept and "audio/*" not in accept and ".wav" in accept


def test_the_studio_pages_take_the_accepted_types_from_the_api():
    for page in ("upload.js", "voice-tag.js"):
        source = (STATIC / page).read_text()
        assert 'api("/uploads/formats")' in source
        assert "acceptAttribute(" in source and "fileProblem(" in source
        assert "audio/*" not in source
