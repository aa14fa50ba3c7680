"""The rules versions in memory, with DynamoDB's promises: a version number is stored once, and
the pointer moves only from the revision it was read at."""

from __future__ import annotations

import threading
from dataclasses import replace

from chalicelib.storage.ports import PointerMoved, RulesPointer, RulesVersion, VersionTaken


class MemoryRulesVersions:
    def __init__(self) -> None:
        self.versions: dict[int, RulesVersion] = {}
        self.current = RulesPointer()
        self.lock = threading.Lock()

    def add(self, version: RulesVersion) -> None:
        with self.lock:
            if version.number in self.versions:
                raise VersionTaken(f"version {version.number} was stored first by another deploy")
            self.versions[version.number] = version

    def get(self, number: int) -> RulesVersion | None:
        return self.versions.get(number)

    def listed(self) -> list[RulesVersion]:
        return [replace(self.versions[number], text="") for number in sorted(self.versions)]

    def pointer(self, consistent: bool = False) -> RulesPointer:
        return self.current

    def move_pointer(self, pointer: RulesPointer) -> None:
        with self.lock:
            if pointer.revision != self.current.revision + 1:
                raise PointerMoved("the active rules were changed meanwhile by another command")
            self.current = pointer
