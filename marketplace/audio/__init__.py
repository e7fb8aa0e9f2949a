"""Audio tools with no knowledge of beats or the database: probing uploads, checking stems
archives, rendering watermarked previews with their waveform peaks.

The only package that imports pydub or runs ffmpeg/ffprobe.
"""

from pathlib import Path

# The platform's audible tag, used for beatmakers who have not uploaded their own. Tags are
# kept as 44.1 kHz 16-bit WAV, which pydub reads without starting ffmpeg at every render.
DEFAULT_TAG_PATH = Path(__file__).parent / "assets" / "default-tag.wav"
