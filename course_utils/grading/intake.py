"""Collect submissions: a folder per student, a zip per student, or an LMS export.

Accepted layouts of ``SUBMISSIONS`` (a folder or a .zip file):

- ``<student>/...``: one folder per student holding the notebook (anywhere inside);
- ``<student>.zip``: one zip per student;
- Moodle's "download all submissions": folders ``<Full Name>_<id>_assignsubmission_file_``
  (the student id is the participant id);
- Canvas's "download submissions": flat files ``<login>_[LATE_]<userid>_<subid>_<file>``
  (the student id is the login; ``LATE`` marks a late submission);
- any of these inside one zip, possibly under a single top folder.

Zips are read with limits (size, file count, no absolute paths, no ``..``, no links). In an
LMS export, an unsafe path fails only the student it belongs to (its first folder), as
pre-flight, and the rest of the class is graded.
A ``timestamp.txt`` (nbgrader's format, e.g. ``2025-03-14 21:07:00 UTC``) next to the
notebook or at the top of a student's files gives the submission time.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

MAX_FILES = 200
MAX_BYTES = 50 * 1024 * 1024  # per student
MAX_EXPORT_FILES = 50_000  # an LMS export: the whole class
MAX_EXPORT_BYTES = 4 * 1024 * 1024 * 1024
_MOODLE = re.compile(r"^(?P<name>.+)_(?P<id>\d+)_assignsubmission_\w+?_?$")
_CANVAS = re.compile(r"^(?P<login>[A-Za-z0-9.\-]+)_(?P<late>LATE_)?(?P<uid>\d+)_(?P<sid>\d+)_(?P<file>.+)$")
_RESUBMISSION = re.compile(r"^(?P<stem>.+?)-(?P<n>\d+)(?P<ext>\.ipynb)$")


@dataclass
class Submission:
    """One student's files as found in the input (not yet checked)."""

    student: str
    origin: str
    files: dict[str, bytes] = field(default_factory=dict)
    problem: str = ""  # why the files could not be read (the submission then fails pre-flight)
    timestamp: datetime | None = None
    marked_late: bool = False  # the LMS says so (Canvas)


def student_id(name: str) -> str:
    """A safe student id from a folder or file name (letters, digits, '.', '_', '-')."""
    cleaned = re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9._-]+", "_", name)).strip("._-")
    return cleaned[:64] or "unnamed"


def _safe(name: str) -> str | None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return None
    return str(path)


def _members(data: bytes, origin: str, max_files: int, max_bytes: int) -> tuple[dict[str, bytes], dict[str, str], str]:
    """(files, {unsafe entry: why}, problem with the whole zip) of a zip, read with limits."""
    files: dict[str, bytes] = {}
    unsafe: dict[str, str] = {}
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as error:
        return {}, {}, f"{origin} is not a readable zip file ({error})"
    total = 0
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                continue  # links are never followed
            name = _safe(info.filename)
            if name is None:
                unsafe[info.filename] = f"{origin} contains an unsafe path {info.filename!r}"
                continue
            if len(files) >= max_files or total + info.file_size > max_bytes:
                return {}, {}, f"{origin} is too large (more than {max_files} files or {max_bytes >> 20} MB)"
            try:
                with archive.open(info) as handle:
                    content = handle.read(max_bytes - total + 1)
            except (zipfile.BadZipFile, RuntimeError, OSError, NotImplementedError) as error:
                return {}, {}, f"{origin}: {info.filename} cannot be read ({error})"
            total += len(content)
            if total > max_bytes:
                return {}, {}, f"{origin} is too large (more than {max_bytes >> 20} MB unpacked)"
            files[name] = content
    return files, unsafe, ""


def read_zip(data: bytes, origin: str, strip: bool = True) -> tuple[dict[str, bytes], str]:
    """The files of one student's zip as {relative path: bytes}, with limits; problem text if
    unreadable or unsafe. ``strip``: a zip holding one folder gives the files inside that folder."""
    files, unsafe, problem = _members(data, origin, MAX_FILES, MAX_BYTES)
    if problem or unsafe:
        return {}, problem or next(iter(unsafe.values()))
    return (_strip_common_folder(files) if strip else files), ""


def _strip_common_folder(files: dict[str, bytes]) -> dict[str, bytes]:
    """``hw1/x.ipynb, hw1/y.py`` -> ``x.ipynb, y.py`` (a zipped folder)."""
    tops = {PurePosixPath(p).parts[0] for p in files}
    if len(tops) == 1 and all(len(PurePosixPath(p).parts) > 1 for p in files):
        return {str(PurePosixPath(*PurePosixPath(p).parts[1:])): v for p, v in files.items()}
    return files


def read_folder(folder: Path) -> tuple[dict[str, bytes], str]:
    files: dict[str, bytes] = {}
    total = 0
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        size = path.stat().st_size
        if len(files) >= MAX_FILES or total + size > MAX_BYTES:
            return {}, f"{folder.name}/ is too large (more than {MAX_FILES} files or {MAX_BYTES >> 20} MB)"
        total += size
        files[str(path.relative_to(folder).as_posix())] = path.read_bytes()
    return files, ""


def _timestamp(files: dict[str, bytes]) -> datetime | None:
    from nbgrader.utils import parse_utc

    for name in sorted((p for p in files if PurePosixPath(p).name == "timestamp.txt"), key=lambda p: p.count("/")):
        try:
            return parse_utc(files[name].decode("utf-8").strip())
        except (ValueError, OverflowError, UnicodeDecodeError):
            return None
    return None


def _entries(source: Path, notebook: str) -> list[tuple[str, dict[str, bytes] | None, bytes | None, str]]:
    """(name, files of a folder, bytes of a file, problem) for each top-level entry."""
    entries = []
    if source.is_dir():
        for child in sorted(source.iterdir()):
            if child.name.startswith(".") or child.name == "__MACOSX" or child.is_symlink():
                continue
            if child.is_dir():
                files, problem = read_folder(child)
                entries.append((child.name, files, None, problem))
            elif child.is_file():
                entries.append((child.name, None, child.read_bytes(), ""))
        return entries
    files, unsafe, problem = _members(source.read_bytes(), source.name, MAX_EXPORT_FILES, MAX_EXPORT_BYTES)
    if problem:
        raise ValueError(problem)
    files = {p: v for p, v in files.items() if not PurePosixPath(p).parts[0].startswith((".", "__MACOSX"))}
    tops = {PurePosixPath(p).parts[0] for p in files}
    top = next(iter(tops)) if len(tops) == 1 and f"{next(iter(tops))}/{notebook}" not in files else None
    if top is not None:
        files = _strip_common_folder(files)  # the export's own top folder, around the students
    grouped: dict[str, dict[str, bytes]] = {}
    for path, content in files.items():
        parts = PurePosixPath(path).parts
        if len(parts) == 1:
            entries.append((parts[0], None, content, ""))
        else:
            grouped.setdefault(parts[0], {})[str(PurePosixPath(*parts[1:]))] = content
    refused: dict[str, str] = {}  # entry -> why: an unsafe path belongs to the entry it names first
    for raw, why in unsafe.items():
        parts = [p for p in PurePosixPath(raw.replace("\\", "/")).parts if p not in ("/", "..", ".")]
        if top is not None and len(parts) > 1 and parts[0] == top:
            parts = parts[1:]
        refused.setdefault(parts[0] if parts else "unnamed", why)
    for name, folder_files in sorted(grouped.items()):
        if name not in refused and (len(folder_files) > MAX_FILES or sum(map(len, folder_files.values())) > MAX_BYTES):
            refused[name] = f"{name}/ is too large (more than {MAX_FILES} files or {MAX_BYTES >> 20} MB)"
        if name not in refused:
            entries.append((name, folder_files, None, ""))
    entries = [e for e in entries if e[0] not in refused]
    entries += [(name, {}, None, why) for name, why in sorted(refused.items())]
    return entries


def discover(source: Path, notebook: str) -> tuple[list[Submission], list[str]]:
    """Every submission found in ``source`` (folder or zip), and notes on what was skipped."""
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"{source} does not exist")
    notes: list[str] = []
    found: dict[str, list[Submission]] = {}
    for name, files, content, problem in _entries(source, notebook):
        submission: Submission | None = None
        if files is not None:
            moodle = _MOODLE.match(name)
            sid = student_id(moodle.group("id") if moodle else name)
            submission = Submission(sid, f"{name}/", files, problem)
        elif name.lower().endswith(".zip") and content is not None:
            zipped, problem = read_zip(content, name)
            submission = Submission(student_id(name[:-4]), name, zipped, problem)
        else:
            canvas = _CANVAS.match(name)
            if canvas is None:
                notes.append(f"skipped {name}: not a student folder, a zip, or an LMS export file")
                continue
            file_name = canvas.group("file")
            resubmitted = _RESUBMISSION.match(file_name)
            if resubmitted and f"{resubmitted['stem']}{resubmitted['ext']}" == notebook:
                file_name = notebook
            sid = student_id(canvas.group("login"))
            existing = found.get(sid, [])
            if existing and existing[-1].origin.startswith("canvas:"):
                existing[-1].files[file_name] = content or b""
                existing[-1].marked_late |= bool(canvas.group("late"))
                continue
            submission = Submission(sid, f"canvas:{name}", {file_name: content or b""})
            submission.marked_late = bool(canvas.group("late"))
        found.setdefault(submission.student, []).append(submission)
    result = []
    for sid, subs in sorted(found.items()):
        if len(subs) > 1:
            origins = ", ".join(s.origin for s in subs)
            result.append(Submission(sid, origins, {}, f"two or more submissions map to the id {sid}: {origins}"))
            continue
        sub = subs[0]
        sub.timestamp = _timestamp(sub.files)
        result.append(sub)
    return result, notes
