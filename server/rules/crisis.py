"""Does a message signal a crisis (suicide, self-harm, overdose)? A pure decision over folded text.

The phrases and patterns come from ``config/crisis.toml`` ``[detection.<language>]`` and are
compiled once, when the settings are read. Text and phrases are folded the same way, so
case, accents, apostrophes ("don't" = "dont") and punctuation do not matter, while word
boundaries do ("skill myself" is not "kill myself"). Sentence and clause punctuation
stays as a boundary: a phrase never spans two sentences (or a comma), and a pattern's negative look-ahead (e.g.
"want to die" but not "want to die my hair") is not fooled by a full stop.

This is a safety feature: it errs towards catching a signal. A false alarm costs a
moderator a look; a missed one can cost a life. Idioms are avoided by choosing phrases
("kill myself", not "kill"), not by filtering messages out after a match.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc\u0060\u00b4]")
_SENTENCE_END = re.compile(r"[.,!?;:\n\u00a1\u00bf\u3002][\s.,!?;:\u00a1\u00bf\u3002]*")
_NOT_WORD = re.compile(r"[^\w.]+|_")
_SPACES = re.compile(r" {2,}")


def _ascii_table() -> dict[int, str | None]:
    """What ``fold_any`` does to each ASCII character, as one ``str.translate`` table."""
    table: dict[int, str | None] = {}
    for code in range(128):
        char = chr(code)
        if char.isalnum():
            table[code] = char.lower()
        elif char in "'`":
            table[code] = None
        elif char in ".,!?;:\n":
            table[code] = " . "
        else:
            table[code] = " "
    return table


_ASCII = _ascii_table()
_DOTS = re.compile(r"\.(?: \.)+")


def fold(text: str) -> str:
    """Lower-case, accent-free words separated by single spaces; sentence ends become " . ".

    Most messages are plain ASCII: they take one ``translate`` (a few microseconds on the
    group-commit path) instead of the regular expressions of ``fold_any``, with the same result.
    """
    if text.isascii():
        return _DOTS.sub(".", " ".join(text.translate(_ASCII).split()))
    return fold_any(text)


def fold_any(text: str) -> str:
    """``fold`` for any text: accents dropped (NFKD), case folded, punctuation as above."""
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = _APOSTROPHES.sub("", text.casefold())
    text = _SENTENCE_END.sub(" . ", text)
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", text)).strip()


def phrase_pattern(phrase: str) -> str:
    """A configured phrase as a regular expression over folded text: its words, whole."""
    words = fold(phrase).replace(".", " ").split()
    if not words:
        raise ValueError(f"crisis phrase {phrase!r} has no words")
    return r"\b" + " ".join(re.escape(word) for word in words) + r"\b"


@dataclass(frozen=True)
class Match:
    """What matched (for the queue and the audit trail; never the message text)."""

    language: str
    rule: str


@dataclass(frozen=True)
class Detector:
    """Every language's rules, one combined expression for the common case (no match)."""

    rules: tuple[tuple[str, str, re.Pattern[str]], ...]  # (language, rule as configured, compiled)
    combined: re.Pattern[str] | None

    def detect(self, text: str) -> Match | None:
        """The first rule the text matches, or None."""
        if self.combined is None:
            return None
        folded = fold(text)
        if self.combined.search(folded) is None:
            return None
        for language, rule, pattern in self.rules:
            if pattern.search(folded):
                return Match(language, rule)
        return None  # pragma: no cover - the combined expression is the union of the rules


def compile_detector(languages: Mapping[str, Mapping[str, Sequence[str]]]) -> Detector:
    """Build a detector from ``{language: {"phrases": [...], "patterns": [...]}}``.

    ``phrases`` are plain words (folded as messages are); ``patterns`` are regular
    expressions written against folded text (lower case, no accents or apostrophes).
    Raises ``ValueError`` for an unknown key or a pattern that does not compile.
    """
    rules: list[tuple[str, str, re.Pattern[str]]] = []
    for language, section in languages.items():
        unknown = set(section) - {"phrases", "patterns"}
        if unknown:
            raise ValueError(f"[detection.{language}]: unknown keys {sorted(unknown)}")
        for phrase in section.get("phrases", []):
            rules.append((language, phrase, re.compile(phrase_pattern(phrase))))
        for pattern in section.get("patterns", []):
            try:
                rules.append((language, pattern, re.compile(pattern)))
            except re.error as exc:
                raise ValueError(f"[detection.{language}] pattern {pattern!r}: {exc}") from None
    combined = re.compile("|".join(f"(?:{pattern.pattern})" for _, _, pattern in rules)) if rules else None
    return Detector(rules=tuple(rules), combined=combined)


NO_DETECTION = Detector(rules=(), combined=None)
