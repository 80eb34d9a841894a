"""Reads a GIF from stdin with Pillow and prints what a player would see:
its size, how many frames it holds, each frame's duration (ms) and
whether it loops, as JSON. Any damage Pillow finds fails it."""

import io
import json
import sys

from PIL import Image, ImageSequence

image = Image.open(io.BytesIO(sys.stdin.buffer.read()))
durations = []
for frame in ImageSequence.Iterator(image):
    frame.load()  # decodes every frame, not just its header
    durations.append(frame.info.get("duration"))
json.dump(
    {
        "format": image.format,
        "size": list(image.size),
        "frames": image.n_frames,
        "durations": durations,
        "loop": image.info.get("loop"),
    },
    sys.stdout,
)
