"""What a failed check says: what failed, and where."""

from __future__ import annotations

from typing import Optional


class VerificationError(Exception):
    """A check failed. `where` names the place (a line, a seq, a signature line)
    when there is one, so the message reads "line 12 (seq 11): …"."""

    def __init__(self, message: str, *, line: Optional[int] = None, seq: Optional[int] = None) -> None:
        self.message = message
        self.line = line
        self.seq = seq
        super().__init__(self.__str__())

    @property
    def where(self) -> str:
        parts = []
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.seq is not None:
            parts.append(f"seq {self.seq}" if not parts else f"(seq {self.seq})")
        return " ".join(parts)

    def __str__(self) -> str:
        where = self.where
        return f"{where}: {self.message}" if where else self.message


class KeyFormatError(ValueError):
    """A verifier key or trust file that cannot be read (a usage error, not tampering)."""
