"""Split text into tokens the way CoNLL-2003 (Penn Treebank style) does, as character spans."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

import regex

# Abbreviations that keep their final period (case-sensitive, without the period).
ABBREVIATIONS = frozenset(
    """
    Mr Mrs Ms Dr Prof Sr Jr St Mt Ft Rev Gen Sen Rep Gov Lt Col Capt Sgt Cpl Maj Adm Cmdr Pres Supt Insp
    Messrs Mme Mlle Hon Atty Det Esq Fr Bros Co Corp Inc Ltd Plc Cie Dept Univ Assn Av Ave Blvd Rd
    Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec Mon Tue Tues Wed Thu Thur Thurs Fri Sat Sun
    No Nos Vol Vols vs etc Fig Figs approx est dept al Ala Ariz Ark Calif Colo Conn Del Fla Ga Ill Ind
    Kan Ky La Md Mass Mich Minn Miss Mo Mont Neb Nev Okla Ore Pa Tenn Tex Va Vt Wash Wis Wyo
    """.split()
)

_LETTER = r"[\p{L}\p{M}]"
_ALNUM = r"[\p{L}\p{M}\p{N}]"
_APOSTROPHES = "'\u2019"

# One alternative per kind of token, tried in order at each position.
_TOKEN = regex.compile(
    rf"""
      (?P<url>(?:https?://|www\.)[^\s<>"]+[^\s<>"'.,;:!?)\]])
    | (?P<email>(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+)  # tried once per run: linear on a long one
    | (?P<acronym>(?:{_LETTER}\.){{2,}})                       # U.S. U.N. e.g.
    | (?P<number>(?<!{_ALNUM})\.\d+
        |(?<!{_ALNUM})\+?\d+(?:[.,:/-]\d+)*(?:-?{_LETTER}{_ALNUM}*(?:-{_ALNUM}+)*)?)  # +44 1,000 4.5 .496 20-year-old
    | (?P<money>[A-Z]{{1,3}}\$)                                 # C$ US$
    | (?P<word>{_ALNUM}+(?:[-&'\u2019.]{_ALNUM}+)*)
    | (?P<clitic>(?<=\S)['\u2019](?i:s|re|ve|ll|d|m)(?!{_ALNUM}))  # Bros.'s: the clitic after a period
    | (?P<dots>\.{{2,}}|\u2026|-{{2,}}|[\u2013\u2014])                          # ... -- dashes
    | (?P<other>(?![\s\x1c-\x1f])\X)  # one grapheme: punctuation, symbol, emoji (never what str.split splits at)
    """,
    regex.VERBOSE | regex.VERSION0,
)

_CONTRACTION = regex.compile(
    r"(?i)(?P<stem>.+?)(?P<clitic>n['\u2019]t|['\u2019](?:s|re|ve|ll|d|m))$",
)
_ORDINAL_LINE_START = regex.compile(r"\d{1,2}\.(?=\s+\S)")


def token_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Character spans (start, end) of the tokens of `text[start:end]`, offsets into `text`."""
    return list(iter_token_spans(text, start, end))


def split_at(spans: Iterable[tuple[int, int]], boundaries: Sequence[int]) -> Iterator[tuple[int, int]]:
    """`spans` (in order) with each one cut at every offset of the sorted `boundaries` strictly inside it:
    forced token boundaries, so that an annotated span starting or ending mid-word covers whole tokens."""
    index, count = 0, len(boundaries)
    for start, end in spans:
        while index < count and boundaries[index] <= start:
            index += 1
        while index < count and boundaries[index] < end:
            if boundaries[index] > start:  # a boundary given twice cuts once
                yield start, boundaries[index]
                start = boundaries[index]
            index += 1
        yield start, end


def iter_token_spans(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """`token_spans` one at a time, for a text too long to hold all its tokens at once.

    Tokens never cross white space, so the text is read a run of non-space characters at a time: a run
    of letters only, or of digits only, is one token as it stands, and letters then a comma, colon,
    semicolon or a period no abbreviation owns are two (most of a text, no pattern needed); any other
    run is split by the token patterns."""
    end = len(text) if end is None else end
    position = start
    ordinal = _ORDINAL_LINE_START.match(text, start, end)
    if ordinal:  # "3. Jan Ullrich": a numbered list item keeps its period
        yield start, ordinal.end()
        position = ordinal.end()
    for run in _RUN.finditer(text, position, end):
        word = run.group()
        if word.isalpha() or word.isdecimal():
            yield run.span()
        elif (
            word[-1] in ",;:." and word[:-1].isalpha() and not (word[-1] == "." and _keeps_period(word[:-1]))
        ):
            last = run.end() - 1  # "said," "Paris." "today;": the word, then its punctuation
            yield run.start(), last
            yield last, run.end()
        else:
            yield from _run_tokens(text, *run.span())


_RUN = re.compile(r"\S+")  # the standard library's white space: str.split's, U+001C..U+001F included


def _run_tokens(text: str, position: int, end: int) -> Iterator[tuple[int, int]]:
    """The tokens of `text[position:end]`, a run without white space, by the token patterns."""
    search = _TOKEN.search
    while match := search(text, position, end):
        s, e = match.span()
        if match.lastgroup == "word":
            word = match.group()
            if "'" in word or "\u2019" in word:
                split = _CONTRACTION.match(word)
                if split and split.group("stem")[-1] not in _APOSTROPHES:
                    cut = s + split.end("stem")
                    yield s, cut
                    yield cut, e
                    position = e
                    continue
            if e < end and text[e] == "." and _keeps_period(word):
                e += 1
        yield s, e
        position = e


def _keeps_period(word: str) -> bool:
    """Whether `word`, followed by a period, is an abbreviation that owns it."""
    return (
        word in ABBREVIATIONS
        or (len(word) == 1 and word.isupper())  # an initial: "J. Smith"
        or ("." in word and word.replace(".", "").isalpha())  # "e.g" before its last period
    )


def tokenize(text: str) -> list[str]:
    """The tokens of `text` as strings."""
    return [text[s:e] for s, e in token_spans(text)]
