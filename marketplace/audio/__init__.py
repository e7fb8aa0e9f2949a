"""Audio tools with no knowledge of beats or the database: probing uploads, checking stems
archives, rendering watermarked previews with their waveform peaks.

The only package that imports pydub or runs ffmpeg/ffprobe.
"""

from pathlib import Path

# The platform's audible tag, used for beatmakers who have not uploaded their own.
DEFAULT_TAG_PATH = Path(__file__).parent / "assets" / "default-tag.mp3"
