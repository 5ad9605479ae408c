"""The LinkedIn sandbox's memory on disk (`linkedin_sandbox --state PATH`).

LinkedIn does not forget the tokens it issued when your development server restarts, so the
sandbox should not either: under `make run` it is a process of its own, and without this file
every restart would turn each connected account into "needs reconnect" at its next send.

The file is an append-only log of JSON lines, one per thing the sandbox learnt (its signing key,
an authorization, a token, a token's new status, an accepted message): appending is cheap and a
crash can at worst tear the last line, which loading skips. Authorization codes, faults and clock
moves are not kept: they live minutes, or are a test's business. One sandbox per file.

The file holds live tokens and the sandbox's private key: it is created readable by its owner
only, and it is development data like the rest of `data/`.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import IO, Any

logger = logging.getLogger(__name__)


class StateFileError(Exception):
    """The state file cannot be read; the message says which line and how to start afresh."""


class SandboxStateLog:
    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._file: IO[str] | None = None

    def read(self) -> list[dict[str, Any]]:
        """Every record in the file (none when it does not exist yet)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise StateFileError(f"Cannot read the sandbox state {self.path}: {exc}") from exc
        lines = text.split("\n")
        records = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict) or "kind" not in record:
                    raise ValueError("not a sandbox record")
            except ValueError as exc:
                if number == len(lines):  # a write torn by a crash: the rest is sound
                    logger.warning("sandbox: skipped a torn last line in %s", self.path)
                    # Cut it off, or the next append would continue that line and damage it.
                    # (json.dumps writes ASCII: characters are bytes.)
                    os.truncate(self.path, len(text) - len(line))
                    continue
                raise StateFileError(
                    f"The sandbox state {self.path} is damaged at line {number} ({exc}). "
                    "Delete the file to start with an empty sandbox (connected accounts will "
                    "then need reconnecting)."
                ) from exc
            records.append(record)
        return records

    def append(self, record: dict[str, Any]) -> None:
        if self._file is None:
            self._file = self._open("a")
        self._file.write(json.dumps(record, separators=(",", ":")) + "\n")
        # Flushed at once: a sandbox stopped with Ctrl-C or killed must not lose a token.
        self._file.flush()

    def rewrite(self, records: list[dict[str, Any]]) -> None:
        """Replace the whole file (a reset), atomically."""
        self.close()
        temporary = self.path.with_name(self.path.name + ".tmp")
        with self._open("w", temporary) as file:
            for record in records:
                file.write(json.dumps(record, separators=(",", ":")) + "\n")
        os.replace(temporary, self.path)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _open(self, mode: str, path: Path | None = None) -> IO[str]:
        path = path or self.path
        path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "a" else os.O_TRUNC)
        # Owner-only: the file holds live tokens and the sandbox's private key.
        return os.fdopen(os.open(path, flags, 0o600), mode, encoding="utf-8")
