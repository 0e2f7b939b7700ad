"""Split raw text into sentences: at line breaks and at sentence-final punctuation, minding abbreviations."""

from __future__ import annotations

import regex

# Abbreviations after which a capitalised word is still the same sentence ("Dr. Voss", "J. Smith").
_NEVER_END = frozenset(
    "Mr Mrs Ms Dr Prof St Mt Rev Gen Sen Rep Gov Lt Col Capt Sgt Cpl Maj Adm Cmdr Pres Messrs Hon Det Fr "
    "No Nos Vol Fig vs Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec".split()
)
# Abbreviations that often end a sentence too ("in the U.S." / "Acme Corp."): end only before a
# word that usually opens one.
_MAYBE_END = frozenset("Co Corp Inc Ltd Plc Bros Jr Sr etc al".split())
_OPENERS = frozenset(
    "The A An In On At It He She They We I You This That These Those There But And Or So Yet If When "
    "While After Before As Its His Her Their Our My No Not Some All Both Each Many Most Such What Who "
    "Why How Where Meanwhile However Also Still Then Now Last Next".split()
)

_LINE_BREAK = regex.compile(r"\n\s*")
_FINAL = regex.compile(r"(?<![.!?\u2026])[.!?\u2026]+[\"'\u2019\u201d)\]»]*(?=\s)")
_WORD_BEFORE = regex.compile(r"(?:[\p{L}\p{M}]\.)+[\p{L}\p{M}]?$|[\p{L}\p{M}\p{N}]+$")
_NEXT_WORD = regex.compile(r"\s+([\"'\u2018\u201c(\[]*)([\p{L}\p{M}\p{N}]+)")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans (start, end) of the sentences of `text`, without surrounding white space.

    A line break ends a sentence unless the next line goes on in lower case; `.`, `!`, `?` end one when
    the next word is capitalised or a number and the word before is not an abbreviation like `Dr.`.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for cut in _cuts(text):
        _add_trimmed(spans, text, start, cut)
        start = cut
    _add_trimmed(spans, text, start, len(text))
    return spans


def _cuts(text: str) -> list[int]:
    """Positions where one sentence ends and the next may begin, in order."""
    cuts: list[int] = []
    for match in _LINE_BREAK.finditer(text):
        after = match.end()
        if after < len(text) and not text[after].islower():
            cuts.append(match.start())
    for match in _FINAL.finditer(text):
        if _ends_sentence(text, match.start(), match.end(), match.group()):
            cuts.append(match.end())
    cuts.sort()
    return cuts


def _ends_sentence(text: str, start: int, end: int, punctuation: str) -> bool:
    """Whether the punctuation text[start:end] closes a sentence, judging by the words around it."""
    following = _NEXT_WORD.match(text, end)
    if following is None:
        return False
    opening, word = following.group(1), following.group(2)
    if word[0].islower():
        return False
    if not punctuation.startswith(".") or punctuation.startswith(".."):
        return True
    before = _WORD_BEFORE.search(text, max(0, start - 40), start)
    if before is None:
        return True
    previous = before.group()
    if previous.isdigit() and len(previous) <= 2 and _starts_line(text, before.start()):
        return False  # "3. Jan Ullrich": a numbered list item
    if previous in _NEVER_END or (len(previous) == 1 and previous.isupper()):
        return False
    if previous in _MAYBE_END or "." in previous:
        return bool(opening) or word in _OPENERS
    return True


def _starts_line(text: str, position: int) -> bool:
    """Whether only spaces or tabs stand between the start of its line (or text) and `position`
    (looking back over those only, so a long line costs no more than a short one)."""
    before = position - 1
    while before >= 0 and text[before] in " \t":
        before -= 1
    return before < 0 or text[before] == "\n"


def _add_trimmed(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    """Append text[start:end] without its surrounding white space, if anything is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))
