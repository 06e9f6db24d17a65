"""File storage for uploads: a local directory, written through a temporary file and a rename.

A file becomes visible under its key only when complete; a failed upload leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class StoredFile:
    key: str
    size_bytes: int
    sha256: str


class UploadTooLarge(Exception):
    pass


class FileWriter:
    """Receives chunks, hashes and counts them, and enforces the size limit as it goes."""

    def __init__(self, storage: LocalStorage, max_bytes: int) -> None:
        self._storage = storage
        self._max = max_bytes
        self.key = uuid.uuid4().hex
        self._temp = storage.root / "tmp" / f"{self.key}.part"
        self._temp.parent.mkdir(parents=True, exist_ok=True)
        self._file = self._temp.open("wb")
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self._max:
            raise UploadTooLarge(f"the file is larger than {self._max} bytes")
        self._hash.update(chunk)
        self._file.write(chunk)

    def finish(self) -> StoredFile:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        target = self._storage.path(self.key)
        target.parent.mkdir(parents=True, exist_ok=True)
        self._temp.replace(target)
        return StoredFile(key=self.key, size_bytes=self.size, sha256=self._hash.hexdigest())

    def abort(self) -> None:
        self._file.close()
        self._temp.unlink(missing_ok=True)


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def writer(self, max_bytes: int) -> FileWriter:
        return FileWriter(self, max_bytes)

    def path(self, key: str) -> Path:
        if not key.isalnum():  # keys are ours (uuid hex); refuse anything that could walk the tree
            raise ValueError("invalid storage key")
        return self.root / key[:2] / key

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)
