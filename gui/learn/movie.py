"""Animations written to disk: animated GIF and APNG (Pillow), MP4 (H.264 through the ffmpeg
that imageio-ffmpeg ships), or numbered PNG frames in a folder; and the frame budget.

Qt-free: the command line checks its arguments and the budget here before Qt starts. The
frames come from :mod:`gui.learn.animation`; anything with ``len()``, ``rgb(i)`` (width,
height, packed RGB bytes) and ``png(i)`` (PNG bytes) can be written.

Every file is written the way documents are (:mod:`engine.io.atomic`): into a temporary file
in the same folder, flushed, then renamed, so a failure (a full disk, a cancel, an encoder
that stops) leaves the old animation and no partial file. The last frame is held HOLD_S
seconds longer than the others: a longer duration in GIF and APNG, repeated frames in MP4.

>>> output_kind("steps.gif"), output_kind("slides/"), parse_size("1280x720")
('gif', 'folder', (1280, 720))
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path

from engine.io import atomic

HOLD_S = 2.0
DEFAULT_FPS = 2.0
MIN_FPS, MAX_FPS = 0.1, 50.0  # GIF players show frames shorter than 20 ms at 100 ms
DEFAULT_SIZE = (1280, 720)
MIN_SIDE = 64
MAX_WIDTH, MAX_HEIGHT = 3840, 2160  # 4K UHD
MAX_FRAMES = 1_000
# Every frame together: Pillow holds a whole GIF (1 byte a pixel) or APNG (3) while writing it.
MAX_TOTAL_PIXELS = 300_000_000
BUDGET_TEXT = (
    f"an animation is at most {MAX_FRAMES:,} frames, {MAX_WIDTH}x{MAX_HEIGHT} px each and "
    f"{MAX_TOTAL_PIXELS // 1_000_000} million px in all"
)
SUFFIXES = {".gif": "gif", ".png": "apng", ".apng": "apng", ".mp4": "mp4"}
FRAME_NAME = "frame_{:0{width}d}.png"
_FRAME_FILE = re.compile(r"frame_(\d{4,})\.png")


class AnimationTooLarge(ValueError):
    """An animation over the frame budget (too many frames, too big, too many pixels)."""


class Cancelled(Exception):
    """The progress callback asked to stop; nothing was written."""


def output_kind(out) -> str:
    """What ``out`` asks for: "gif", "apng" (.png or .apng), "mp4", or "folder" (a path
    ending in a slash, or an existing folder: numbered PNG frames). ValueError otherwise."""
    text = os.fspath(out)
    if not text:
        raise ValueError("no output given")
    if text.endswith(("/", os.sep)) or os.path.isdir(text):
        return "folder"
    suffix = Path(text).suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(
            f"'{text}' ({suffix or 'no suffix'}): the output must end in .gif, "
            f".png (animated PNG), .mp4, or / (a folder of PNG frames)"
        )
    return SUFFIXES[suffix]


def parse_size(text: str) -> tuple[int, int]:
    """``"1280x720"`` as (1280, 720), within the budget's sides; ValueError otherwise."""
    m = re.fullmatch(r"\s*(\d{1,6})\s*[x×X]\s*(\d{1,6})\s*", str(text))
    if not m:
        raise ValueError(f"the size must be WIDTHxHEIGHT such as 1280x720, not {text!r}")
    return check_size((int(m.group(1)), int(m.group(2))))


def check_size(size) -> tuple[int, int]:
    """``size`` as (width, height) ints within MIN_SIDE..MAX_WIDTH x MIN_SIDE..MAX_HEIGHT;
    ValueError otherwise."""
    try:
        w, h = size
    except (TypeError, ValueError):
        raise ValueError(f"the size must be a width and a height, not {size!r}") from None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (w, h)):
        raise ValueError(f"the size must be whole pixels, not {size!r}")
    if not (MIN_SIDE <= w <= MAX_WIDTH and MIN_SIDE <= h <= MAX_HEIGHT):
        raise ValueError(f"the size {w}x{h} is outside {MIN_SIDE}x{MIN_SIDE} .. {MAX_WIDTH}x{MAX_HEIGHT} px")
    return w, h


def size_for(kind: str, size) -> tuple[int, int]:
    """The frame size to draw for ``kind``: H.264 in yuv420p needs even sides, so an MP4's odd
    side grows by one pixel."""
    w, h = check_size(size)
    return (w + w % 2, h + h % 2) if kind == "mp4" else (w, h)


def check_fps(fps) -> float:
    """Frames per second as a float in MIN_FPS..MAX_FPS; ValueError otherwise."""
    try:
        v = float(fps)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"the frame rate must be a number, not {fps!r}") from None
    if isinstance(fps, bool) or not MIN_FPS <= v <= MAX_FPS:
        raise ValueError(f"the frame rate must be {MIN_FPS:g} to {MAX_FPS:g} frames a second, not {fps}")
    return v


def check_budget(frames: int, size, what: str = "the step-through") -> None:
    """AnimationTooLarge when ``frames`` frames of ``size`` are over the frame budget."""
    w, h = size
    if frames > MAX_FRAMES or frames * w * h > MAX_TOTAL_PIXELS:
        raise AnimationTooLarge(
            f"{what} would be {frames:,} frames of {w}x{h} px ({frames * w * h / 1e6:,.0f} million px): "
            f"{BUDGET_TEXT}; choose a smaller size or a smaller document"
        )


def count_step_frames(graph, forward: bool = False) -> int:
    """How many frames the step-through of ``graph`` has: the backward pass's steps plus its
    step 0 (only the output holds its seed), and with ``forward`` the forward pass's steps
    plus its step 0 before them. Engine only (no scene). GraphError when there is nothing to
    step (no output, or it has no value)."""
    from engine import GraphError

    n = len(graph.steps())
    if not n:
        out = graph.output_node()
        why = ("the document has no output" if out is None
               else f"the output {graph.label(out)} has no value (an input is not connected)")  # fmt: skip
        raise GraphError(f"nothing to step through: {why}")
    return (n + 1) * (2 if forward else 1)


def hold_frames(fps: float) -> int:
    """How many times an MP4 repeats its last frame to hold it HOLD_S seconds."""
    return max(1, round(HOLD_S * fps))


def durations_ms(count: int, fps: float) -> list[int]:
    """Each frame's duration in a GIF or APNG: 1/fps, the last HOLD_S longer."""
    frame = round(1000 / fps)
    return [frame] * (count - 1) + [frame + round(HOLD_S * 1000)]


def write_animation(frames, out, fps: float = DEFAULT_FPS, progress=None) -> tuple[str, int]:
    """Write ``frames`` to ``out`` as :func:`output_kind` says; returns (kind, frames written,
    the MP4's hold included). ``progress(done, total)`` is called after each frame; returning
    False from it cancels (:class:`Cancelled`). OSError when the file cannot be written; the
    old file (or old frames) stay either way."""
    kind = output_kind(out)
    fps = check_fps(fps)
    n = len(frames)
    if n < 1:
        raise ValueError("there are no frames to write")

    def step(i):
        if progress is not None and progress(i + 1, n) is False:
            raise Cancelled("cancelled")

    try:
        if kind == "folder":
            return kind, _write_folder(frames, Path(out), step)
        if kind == "mp4":
            return kind, _write_mp4(frames, out, fps, step)
        return kind, _write_pillow(frames, out, fps, kind, step)
    except (OSError, MemoryError) as e:  # the OS's words, without "[Errno 28]" or a temporary name
        raise atomic.write_error(out, e) from None


def _pil(frames, i):
    from PIL import Image

    w, h, raw = frames.rgb(i)
    return Image.frombytes("RGB", (w, h), raw)


def _write_pillow(frames, out, fps, kind, step) -> int:
    from PIL import Image

    n = len(frames)
    if kind == "gif":

        def quantized(i):
            # one palette per frame: the theme has few colours, and text keeps its edges
            return _pil(frames, i).quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)

        def gif_frames():
            for i in range(1, n):
                yield quantized(i)
                step(i)

        first = quantized(0)
        step(0)
        rest, extra = gif_frames(), {"optimize": False}
    else:
        first = _pil(frames, 0)
        step(0)
        rest, extra = _Replayable(frames, step), {"disposal": 0, "blend": 0}
    with atomic.replacing(out) as tmp:
        first.save(tmp, format="GIF" if kind == "gif" else "PNG", save_all=True, append_images=rest,
                   loop=0, duration=durations_ms(n, fps), **extra)  # fmt: skip
    return n


class _Replayable:
    """Frames 1.. as Pillow images, drawn again on each pass: Pillow's APNG writer walks the
    frames twice (their modes first, then the pixels), and holding them all drawn would cost
    3 bytes a pixel of every frame on top of what the writer keeps."""

    def __init__(self, frames, step):
        self._frames, self._step = frames, step

    def __iter__(self):
        for i in range(1, len(self._frames)):
            yield _pil(self._frames, i)
            self._step(i)


def _write_mp4(frames, out, fps, step) -> int:
    """H.264 in yuv420p (what players and slide software take) through the ffmpeg binary
    imageio-ffmpeg ships. Driven here rather than through its ``write_frames``: that leaves
    ffmpeg's errors on our stderr and never looks at its exit code, so a disk that fills while
    the file is finished would pass for success."""
    import imageio_ffmpeg

    w, h, first = frames.rgb(0)
    n = len(frames)
    rate = Fraction(fps).limit_denominator(1000)
    with atomic.replacing(out, suffix=".mp4") as tmp, tempfile.TemporaryFile() as log:
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-nostdin",
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(rate), "-i", "-",
               "-an", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "veryfast", "-crf", "18",
               "-movflags", "+faststart", tmp]  # fmt: skip
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log)
        try:
            try:
                raw = first
                for i in range(n):
                    if i:
                        _w, _h, raw = frames.rgb(i)
                    proc.stdin.write(raw)
                    step(i)
                for _ in range(hold_frames(fps)):
                    proc.stdin.write(raw)
                proc.stdin.close()
            except BrokenPipeError:  # ffmpeg stopped: its exit code and log say why
                pass
            code = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        if code != 0:
            log.seek(0)
            why = _ffmpeg_reason(log.read().decode("utf-8", "replace"), code)
            raise atomic.WriteError(errno.ENOSPC if "No space" in why else None,
                                    f"cannot write '{os.fspath(out)}': {why}")  # fmt: skip
    return n + hold_frames(fps)


def _ffmpeg_reason(text: str, code: int) -> str:
    """The line of ffmpeg's log that says why it stopped."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in lines:
        if "No space left on device" in ln:
            return "No space left on device"
    return f"the video encoder stopped ({lines[-1][:160] if lines else f'exit code {code}'})"


def _write_folder(frames, folder: Path, step) -> int:
    """frame_0001.png ... into ``folder`` (made if missing): written into a temporary folder
    inside it, then renamed in; older frame_NNNN.png files numbered past the new last frame
    are removed, so the folder holds exactly this animation's frames."""
    made = False
    if not folder.is_dir():
        try:
            folder.mkdir()
        except OSError as e:
            raise atomic.write_error(folder, e, "make the folder") from None
        made = True
    n = len(frames)
    width = max(4, len(str(n)))
    try:
        work = Path(tempfile.mkdtemp(prefix=".frames-", dir=folder))
    except OSError as e:
        raise atomic.write_error(folder, e, "write into") from None
    try:
        names = []
        for i in range(n):
            name = FRAME_NAME.format(i + 1, width=width)
            with open(work / name, "wb") as f:
                f.write(frames.png(i))
            atomic.sync_file(work / name)
            names.append(name)
            step(i)
        for name in names:
            os.replace(work / name, folder / name)
        for old in folder.iterdir():
            m = _FRAME_FILE.fullmatch(old.name)
            if m and int(m.group(1)) > n:
                atomic.remove_quietly(old)
    except BaseException as e:
        shutil.rmtree(work, ignore_errors=True)
        if made:
            shutil.rmtree(folder, ignore_errors=True)
        if isinstance(e, (OSError, MemoryError)):
            raise atomic.write_error(folder, e, "write frames into") from None
        raise
    shutil.rmtree(work, ignore_errors=True)
    atomic.sync_directory(str(folder))
    return n


__all__ = [
    "AnimationTooLarge",
    "BUDGET_TEXT",
    "Cancelled",
    "DEFAULT_FPS",
    "DEFAULT_SIZE",
    "HOLD_S",
    "MAX_FRAMES",
    "check_budget",
    "check_fps",
    "check_size",
    "count_step_frames",
    "durations_ms",
    "hold_frames",
    "output_kind",
    "parse_size",
    "size_for",
    "write_animation",
]
