"""What a derivative changed against its parent: sentences, quotes, sources, numbers, names.

Everything here is lexical, so it works without any model and in any language
the patterns cover (English, Russian and Chinese ship with wiretrace; a user
adds more with ``source_table(extra=...)``):

* sentences of the derivative outside every aligned passage were *added*, the
  parent's sentences outside them were *dropped*; consecutive ones in the same
  paragraph are reported together;
* direct quotes are the text between quotation marks of any common style, with
  the speaker taken from the attribution around them ("said X", "X told ...",
  "— сказал X", "X表示"); "he said" is resolved to the paragraph's earlier speaker,
  the person it reports or names, or the last one quoted. Speakers are found only
  for quotes that were added or removed;
* sources are the outlets, agencies and bodies a text cites ("told Reuters",
  "cited by the Associated Press", "сообщил ТАСС", "据新华社报道", the dateline);
* numbers carry their multiplier and unit; a number of an aligned passage that
  differs from the parent's in the same passage is *changed*;
* names are capitalised word sequences and acronyms (not the capital at a
  sentence's start): a name is new when most of its words are not capitalised
  anywhere in the other text, so "Syrian President Bashar al-Assad" is not new against
  "President Bashar al-Assad". Scripts without capitals (Chinese) get no names.

The regular expressions do the scanning; Python only loops over what they find.
Each text's facts are found once per run and reused for every pair it is in.
"""

from __future__ import annotations

import gc
import re
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from operator import itemgetter, methodcaller
from typing import NamedTuple, get_args

import numpy as np
from rapidfuzz import fuzz, process

from .align import PassageTable
from .model import Article, Change, ChangeKind, Passage
from .text import TokenizedBatch, body_start, find_dateline, normalize, sentences

KIND_ORDER: tuple[str, ...] = get_args(ChangeKind)

MIN_COVERED = 0.5  # share of a sentence inside passages for it to count as kept
QUOTE_MATCH = 75  # rapidfuzz token-set score (0..100) for a quote to count as kept
MIN_QUOTE_WORDS = 3  # shorter quoted text is a title or a term, not a quote
MIN_QUOTE_CHARS_UNSPACED = 6  # the same for scripts without spaces (Chinese, Japanese)
SNIPPET = 120  # characters of context kept in ``detail``
SMALL_CDIST = 4  # quote pairs up to which scoring them one by one is faster than ``cdist``

# --- sources ------------------------------------------------------------------------------

# a capitalised word: "Reuters", "al-Masoudi", "U.N." (never a sentence's full stop)
_CAP = r"(?:(?:[A-Z]\.){2,}|(?:[a-z]{1,3}[\-’'])?[A-ZÀ-ÖØ-Þ][\w&’'\-]*)"
_EN_NAME = (
    rf"(?:[Tt]he[ \u00a0]+)?{_CAP}(?:[ \u00a0]+(?:(?:of|for|and|de|du)[ \u00a0]+)?{_CAP}){{0,5}}"
)
_RU_NAME = r"(?:«[^»\n]{2,60}»|[А-ЯЁA-Z][\w\-]*(?:\s+[А-ЯЁA-Z][\w\-]*){0,4})"
_PHRASE = r"[^,.;:!?\n“”\"«»()]{2,70}?"
_PHRASE_END = r"(?=\s*[,.;:!?\n)]|\s+(?:on|in|at|who|which|that|as|after|before|when)\b|$)"
_ZH_PHRASE = r"[^，。；：！？、\s“”「」]{2,20}?"


@dataclass(frozen=True)
class SourcePattern:
    """A way a text cites a source: a regular expression with a named group ``source``.

    ``label`` says how the source is cited ("told", "according to", ...), for people.
    ``keywords`` are strings one of which every match contains: the pattern is then
    tried only near their occurrences, which keeps scanning fast. Without keywords
    the pattern is tried on the whole text.
    """

    language: str
    label: str
    pattern: str
    keywords: tuple[str, ...] = ()


_EN_SAID_IN_STATEMENT = r"\s+said\s+in\s+(?:a|its|an\s+official)\s+statement"

SOURCE_PATTERNS: tuple[SourcePattern, ...] = (
    SourcePattern("en", "told", rf"\btold\s+(?P<source>{_EN_NAME})", ("told",)),
    SourcePattern(
        "en",
        "cited by",
        rf"\b(?:cited|quoted)\s+by\s+(?P<source>{_EN_NAME})",
        ("cited", "quoted"),
    ),
    SourcePattern(
        "en",
        "seen by",
        rf"\b(?:seen|obtained|reviewed)\s+by\s+(?P<source>{_EN_NAME})",
        ("seen", "obtained", "reviewed"),
    ),
    SourcePattern("en", "citing", rf"\bciting\s+(?P<source>{_EN_NAME})", ("citing",)),
    SourcePattern(
        "en",
        "according to",
        rf"\b[Aa]ccording\s+to\s+(?P<source>{_PHRASE}){_PHRASE_END}",
        ("ccording",),
    ),
    SourcePattern(
        "en",
        "reported",
        rf"(?<![\w’'\-])(?P<source>{_EN_NAME})\s+(?:reported|reports|has\s+reported)\b",
        ("report",),
    ),
    SourcePattern(
        "en",
        "statement",
        r"(?<![\w’'\-])(?P<source>(?:[Tt]he\s+|[Aa]n?\s+)?[A-Z][\w&’'.\-]*(?:\s+[\w&’'.\-]+){0,5}?)"
        + _EN_SAID_IN_STATEMENT,
        ("statement",),
    ),
    SourcePattern(
        "en",
        "statement",
        r"\b(?P<source>(?:the|a|an)\s+[a-z][\w’'\-]*(?:\s+[a-z][\w’'\-]*){0,4}?)"
        + _EN_SAID_IN_STATEMENT,
        ("statement",),
    ),
    SourcePattern(
        "en",
        "statement",
        rf"\b[Ii]n\s+(?:a|its)\s+statement[^,\n]{{0,60}},\s+(?P<source>{_EN_NAME})\s+"
        r"(?:said|says|described|announced|stated|added|called)",
        ("statement",),
    ),
    SourcePattern(
        "en",
        "spokesperson",
        rf"\b(?:[Aa]|[Tt]he)\s+spokes(?:man|woman|person)\s+for\s+"
        rf"(?P<source>{_EN_NAME}|the\s+[a-z][\w\-]*)",
        ("spokes",),
    ),
    SourcePattern(
        "en", "source line", r"(?m)^\s*Sources?:\s*(?P<source>[^\n]{2,60}?)\s*$", ("Source",)
    ),
    SourcePattern(
        "en",
        "credit line",
        rf"(?<![\w’'\-])(?P<source>{_EN_NAME})\s+contributed\s+to\s+this\s+(?:report|story|article)",
        ("contributed",),
    ),
    SourcePattern(
        "en",
        "credit line",
        rf"\b(?:originally\s+)?published\s+by\s+(?P<source>{_EN_NAME})",
        ("published",),
    ),
    SourcePattern(
        "ru",
        "told",
        rf"\b(?:сообщил|рассказал|заявил|пояснил|подтвердил)[аио]?\s+(?P<source>{_RU_NAME})",
        ("сообщил", "рассказал", "заявил", "пояснил", "подтвердил"),
    ),
    SourcePattern(
        "ru",
        "told",
        rf"Об\s+этом\s+(?P<source>{_RU_NAME})\s+(?:сообщил|рассказал|заявил)[аио]?",
        ("этом",),
    ),
    SourcePattern(
        "ru",
        "interview",
        rf"\bв\s+(?:интервью|беседе\s+с)\s+(?P<source>{_RU_NAME})",
        ("интервью", "беседе"),
    ),
    SourcePattern(
        "ru",
        "reported",
        rf"\b(?:как\s+)?(?:сообщает|сообщило|сообщил[аи]?|передает|передаёт|пишет)\s+"
        rf"(?P<source>{_RU_NAME})",
        ("сообщ", "переда", "пишет"),
    ),
    SourcePattern(
        "ru",
        "according to",
        rf"\b[Пп]о\s+данным\s+(?P<source>{_PHRASE}){_PHRASE_END}",
        ("данным",),
    ),
    SourcePattern(
        "ru",
        "citing",
        rf"\bсо\s+ссылкой\s+на\s+(?P<source>{_PHRASE}){_PHRASE_END}",
        ("ссылкой",),
    ),
    SourcePattern(
        "ru",
        "statement",
        r"говорится\s+в\s+(?:заявлении|сообщении|пресс-релизе)\s+"
        rf"(?P<source>{_PHRASE}){_PHRASE_END}",
        ("говорится",),
    ),
    SourcePattern(
        "ru", "source line", r"(?m)^\s*Источник:\s*(?P<source>[^\n]{2,60}?)\s*$", ("Источник",)
    ),
    SourcePattern(
        "zh", "according to", rf"据(?P<source>{_ZH_PHRASE})(?:报道|消息|通报|发布)", ("据",)
    ),
    SourcePattern(
        "zh",
        "learned from",
        rf"从(?P<source>{_ZH_PHRASE})(?:获悉|了解到|得知)",
        ("获悉", "了解到", "得知"),
    ),
    SourcePattern(
        "zh", "citing", rf"援引(?P<source>{_ZH_PHRASE})(?:的)?(?:报道|消息|数据|说法)", ("援引",)
    ),
    SourcePattern(
        "zh",
        "reported",
        r"(?P<source>新华社|中新社|路透社|美联社|法新社|彭博社|共同社|塔斯社|央视新闻|人民日报)"
        r"(?:报道|消息|援引|称|说|发布)",
        ("社", "新闻", "日报"),
    ),
    SourcePattern(
        "zh", "source line", r"(?m)^\s*来源[:：]\s*(?P<source>[^\n]{2,30}?)\s*$", ("来源",)
    ),
)

# Different spellings of the same source, keyed by their folded form.
SOURCE_ALIASES = {
    "ap": "associated press",
    "the associated press": "associated press",
    "afp": "agence france-presse",
    "agence france presse": "agence france-presse",
    "thomson reuters": "reuters",
    "тасс": "tass",
    "итар-тасс": "tass",
    "塔斯社": "tass",
    "路透社": "reuters",
    "美联社": "associated press",
    "法新社": "agence france-presse",
    "新华社": "xinhua",
    "xinhua news agency": "xinhua",
}


@dataclass(frozen=True)
class SourceTable:
    """Compiled source patterns and aliases; build one with ``source_table``."""

    patterns: tuple[tuple[SourcePattern, re.Pattern], ...]
    aliases: dict[str, str] = field(default_factory=dict)

    @cached_property
    def keywords(self) -> tuple[str, ...]:
        """Every pattern's keywords, each once."""
        return tuple(dict.fromkeys(k for entry, _ in self.patterns for k in entry.keywords))

    @cached_property
    def ascii_keywords(self) -> tuple[str, ...]:
        return tuple(k for k in self.keywords if k.isascii())

    @cached_property
    def ascii_patterns(self) -> tuple[tuple[SourcePattern, re.Pattern], ...]:
        """The patterns that can match an ASCII text: those without keywords or with an
        ASCII one (the others are for Cyrillic and Chinese)."""
        return tuple(
            (entry, regex)
            for entry, regex in self.patterns
            if not entry.keywords or any(k.isascii() for k in entry.keywords)
        )


KEYWORD_WINDOW = 160  # characters around a keyword in which its pattern is tried


def source_table(
    extra: Iterable[SourcePattern] = (), aliases: dict[str, str] | None = None
) -> SourceTable:
    """The built-in source patterns plus ``extra`` ones (each needs a ``(?P<source>...)`` group)."""
    compiled = []
    for entry in (*SOURCE_PATTERNS, *extra):
        try:
            regex = re.compile(entry.pattern)
        except re.error as error:
            raise ValueError(f"source pattern {entry.pattern!r}: {error}") from error
        if "source" not in regex.groupindex:
            raise ValueError(f"source pattern {entry.pattern!r} has no (?P<source>...) group")
        compiled.append((entry, regex))
    merged = {**SOURCE_ALIASES, **{k.casefold(): v.casefold() for k, v in (aliases or {}).items()}}
    return SourceTable(tuple(compiled), merged)


@lru_cache(maxsize=1)
def default_source_table() -> SourceTable:
    return source_table()


# --- quotes, speakers -----------------------------------------------------------------------

# Every alternative opens with its quotation mark (what precedes it is tested after), so
# that the scan skips to the next quotation mark at C speed.
_QUOTE = re.compile(
    r"“(?P<q1>[^“”\n]+)”"
    r"|„(?P<q2>[^„“”\n]+)[“”]"
    r"|«(?P<q3>(?:[^«»\n]|«[^«»\n]*»)+)»"
    r"|「(?P<q4>[^「」\n]+)」"
    r"|『(?P<q5>[^『』\n]+)』"
    r"|\"(?<![\w\"]\")(?P<q6>[^\"\n]+)\"(?![\w])"
    r"|‘(?<!\w‘)(?P<q7>[^‘\n]+?)’(?!\w)"
    r"|'(?<![\w']')(?P<q8>[^'\n]+?)'(?![\w])"
)
_SPEECH_EN = (
    r"(?:said|says|added|adds|told|stated|wrote|explained|warned|noted|insisted|argued|"
    r"recalled|tweeted|asked|replied|continued)"
)
_SPEECH_RU = (
    r"(?:сказал|заявил|добавил|отметил|подчеркнул|пояснил|сообщил|рассказал|признал|уточнил|"
    r"считает|говорит|написал)[аио]?"
)
_SPEECH_ZH = r"(?:说|表示|称|指出|告诉记者|介绍说|坦言|认为)"
_WHO = r"[^,.;:!?\n“”\"«»„「」]{1,80}?"
_SPEAKER_AFTER = (
    re.compile(rf"^\s*[,–—\-]*\s*{_SPEECH_EN}\s+(?P<who>{_WHO})(?:,\s*(?P<role>[^.;:!?\n“”\"]{{1,60}}?))?(?=\s*[.;:!?\n]|$)"),
    re.compile(rf"^\s*[,–—\-]*\s*{_SPEECH_EN}\s+(?P<who>{_WHO})(?=\s*[,.;:!?\n]|\s+(?:on|in|at|to|told|during|after|when|adding|as)\b|$)"),
    re.compile(rf"^\s*[,–—\-]*\s*(?P<who>{_WHO})(?:,\s*(?P<role>[^.;:!?\n“”\"]{{1,80}}?),?)?\s+{_SPEECH_EN}\b"),
    re.compile(rf"^\s*[,]?\s*[–—\-]+\s*{_SPEECH_RU}\s+(?P<who>{_WHO})(?=\s*[,.;:!?\n]|$)"),
    re.compile(rf"^[，,]?(?P<who>[^，。！？“”\n]{{1,12}}?){_SPEECH_ZH}"),
)  # fmt: skip
_SPEAKER_BEFORE = (
    re.compile(rf"(?P<who>{_WHO}),?\s+{_SPEECH_EN}(?:\s+[^,.:;“”\"\n]{{1,40}}?)?\s*[:,]?\s*$"),
    re.compile(rf"[Aa]ccording\s+to\s+(?P<who>{_WHO})\s*,\s*$"),
    re.compile(rf"(?P<who>{_WHO})\s+{_SPEECH_RU}\s*[:,]?\s*$"),
    re.compile(rf"[Пп]о\s+словам\s+(?P<who>{_WHO})\s*,\s*$"),
    re.compile(rf"(?P<who>[^，。！？“”\n]{{1,20}}?){_SPEECH_ZH}[：:，,]?\s*$"),
)  # fmt: skip
_PREVIOUS_SPEAKER = (
    # "X said", "X, whose shop was flooded, said", "X отметил"
    re.compile(rf"(?P<who>{_WHO})(?:,[^,.;:!?\n“”\"]{{1,80}},)?\s+(?:{_SPEECH_EN}|{_SPEECH_RU})\b"),
    re.compile(rf"(?P<who>[^，。！？“”\n]{{1,20}}?){_SPEECH_ZH}"),
)
_SPEECH_ANY = re.compile(
    rf"\b{_SPEECH_EN}\b|{_SPEECH_RU}|{_SPEECH_ZH}|[Aa]ccording\s+to|[Пп]о\s+словам"
)
_PRONOUNS = {"he", "she", "they", "он", "она", "они", "他", "她", "他们", "她们"}


# --- numbers --------------------------------------------------------------------------------

_SMALL_NUMBERS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "hundred": 100, "dozen": 12,
}  # fmt: skip
_ONES = {"one": 1, **{k: v for k, v in _SMALL_NUMBERS.items() if v < 10}}
_MULTIPLIERS = {
    "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "bn": 1e9, "mln": 1e6,
    "тыс": 1e3, "тысяч": 1e3, "тысячи": 1e3, "тысяча": 1e3, "млн": 1e6, "миллиона": 1e6,
    "миллионов": 1e6, "миллион": 1e6, "млрд": 1e9, "миллиарда": 1e9, "миллиардов": 1e9,
    "трлн": 1e12, "万": 1e4, "亿": 1e8, "千": 1e3,
}  # fmt: skip
# What may follow a number: a multiplier, a percent sign, a unit word or character.
_NUMBER_TAIL = (
    r"(?![0-9])"
    r"(?:\s?(?P<mult>(?i:thousand|million|billion|trillion|bn|mln)|тыс\.?|тысяч[аи]?|млн\.?|"
    r"миллион(?:а|ов)?|млрд\.?|миллиард(?:а|ов)?|трлн\.?|万|亿|千)(?![A-Za-zА-Яа-яЁё]))?"
    r"(?P<pct>\s?(?:%|％|(?i:per\s?cent|percent)\b|процент\w*))?"
    r"(?:[\s\u00a0]+(?P<unit>[A-Za-zА-Яа-яЁё][\w’'\-]*)|(?P<cjk_unit>[^\W\d_A-Za-zА-Яа-яЁё]))?"
)
# Each pattern starts with a character class, which lets the scan skip ahead quickly.
_NUMBER_DIGITS = re.compile(
    r"(?P<digits>\d(?<![0-9A-Za-zА-Яа-яЁё.,]\d)"
    r"(?:\d{0,2}(?:,\d{3})+(?:\.\d+)?|\d{0,2}(?:[\u00a0\u202f\u2009]\d{3})+(?:,\d+)?"
    r"|\d*(?:[.,]\d+)?))" + _NUMBER_TAIL
)
_NUMBER_WORDS = re.compile(
    r"(?P<word>[TtFfSsEeNnHhDd](?<![\w\-][TtFfSsEeNnHhDd])"
    r"(?:wo|hree|our|ive|ix|even|ight|ine|en|leven|welve|hirteen|ourteen|ifteen|ixteen|"
    r"eventeen|ighteen|ineteen|wenty|hirty|orty|ifty|ixty|eventy|ighty|inety|undred|ozen)"
    r"(?:-[a-z]{3,5})?)\b" + _NUMBER_TAIL
)
_CURRENCY = "$€£¥₽"

# --- names ----------------------------------------------------------------------------------

_NAME_WORD = r"(?:(?:[A-ZА-ЯЁ]\.){2,}|(?:[a-z]{1,3}[\-’'])?[A-ZÀ-ÖØ-ÞА-ЯЁ][\w’'\-]*)"
# A capitalised sequence. It starts at a capital (cheap to test), so "al-Assad" is found as
# "Assad" and given its particle back; a few function words never start one.
# The capital is matched first and the tests on what surrounds it are made after, so that the
# scan skips to the next capital at C speed (a pattern opening with a lookaround cannot).
_NAME = re.compile(
    r"[A-ZÀ-ÖØ-ÞА-ЯЁ](?<![\w’'.].)"
    r"(?<!(?=(?:The|A|An|In|On|At|But|And|It|Its|This|That|These|Those|He|She|They|We|I|His|Her|"
    r"Their|As|For|If|When|While|After|Before|With|Of|To|By|From|There|Some|Many|Most)"
    r"[ \u00a0,]).)"
    r"(?:(?<=[A-ZА-ЯЁ])\.(?:[A-ZА-ЯЁ]\.)+|[\w’'\-]*)"  # the rest of the first word
    rf"(?:[ \u00a0](?:(?:of|for|de|del|da|di|van|von|der|den|du|la|le|bin|ibn|al|el)[ \u00a0])?"
    rf"{_NAME_WORD})*"
)
_PARTICLE_BEFORE = re.compile(r"(?<![\w\-’'])[a-z]{1,3}[\-’']$")
_NON_SPACE = re.compile(r"\S+")
_PARTICLE = re.compile(r"[a-z]{1,3}[\-’']")
_COMPOUND = re.compile(r"(.*[A-ZА-ЯЁ][^\-]*)-[a-zа-яё][\w\-]*$")
_OPENERS = set(':“"«„‘(「')
_THIN_SPACES = str.maketrans("", "", "\u00a0\u202f\u2009")
# quotation marks and dashes folded, for comparing short texts without ``normalize``
_PUNCTUATION_FOLD = str.maketrans(
    {**dict.fromkeys("‘’‚‛", "'"), **dict.fromkeys("“”„‟«»", '"'), **dict.fromkeys("–—−", "-")}
)
_WORD = re.compile(r"[^\W_][\w’'\-]*")
# a subheading: a line of two or more upper-case words ("MOSUL CAMPAIGN")
_HEADING_LINE = re.compile(
    r"(?m)^[^\S\n]*(?:[A-ZА-ЯЁ0-9][A-ZА-ЯЁ0-9’'.,&\-]*[^\S\n]+)+[A-ZА-ЯЁ0-9][A-ZА-ЯЁ0-9’'.,&\-]*[^\S\n]*$"
)
_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n")
_CONNECTORS = {
    "of", "for", "de", "del", "da", "di", "van", "von", "der", "den", "du", "la", "le",
    "bin", "ibn", "al", "el",
}  # fmt: skip
# Capitalised words that are not names when they open a sequence.
_NOT_NAMES = {
    "a", "an", "the", "in", "on", "at", "by", "for", "from", "to", "of", "and", "but", "or",
    "as", "if", "so", "yet", "it", "its", "this", "that", "these", "those", "there", "here",
    "he", "she", "they", "we", "you", "i", "his", "her", "their", "our", "my", "your", "after",
    "before", "when", "while", "with", "without", "what", "who", "why", "how", "where", "some",
    "many", "most", "more", "all", "no", "not", "one", "every", "each", "up", "about", "over",
    "under", "since", "until", "although", "though", "because", "even", "still", "also",
    "then", "now", "just", "only", "having", "being", "significantly", "meanwhile", "however",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january",
    "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "mr", "mrs", "ms", "dr",
    "в", "на", "по", "с", "и", "а", "но", "о", "об", "от", "до", "за", "из", "к", "у", "это",
    "этот", "эта", "он", "она", "они", "мы", "как", "для", "при", "после", "среди", "летом",
    "зимой", "весной", "осенью", "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
}  # fmt: skip


# Words that follow a number without being its unit.
_NOT_UNITS = _NOT_NAMES | {
    "was", "were", "is", "are", "be", "been", "has", "have", "had", "will", "would", "could",
    "should", "might", "can", "did", "do", "does", "below", "above", "than", "less", "more",
    "per", "into", "out", "off", "ago", "later", "earlier", "against", "between", "through",
    "during", "said", "says", "и", "или", "до", "от",
}  # fmt: skip


# --- per-text facts -------------------------------------------------------------------------


class Quote(NamedTuple):
    start: int  # the quoted words, without the quotation marks
    end: int
    text: str
    spaced: str  # folded words, for matching quotes between texts
    outer_start: int  # with the quotation marks
    outer_end: int
    speaker: str = ""  # filled in by ``attributed_quotes``
    via: str = ""


class NumberMention(NamedTuple):
    start: int
    end: int
    key: tuple[float, bool]  # (value, is a percentage)
    unit: str
    display: str


class SourceMention(NamedTuple):
    start: int
    end: int
    name: str
    key: str
    label: str


class NameMention(NamedTuple):
    start: int
    end: int
    name: str
    keys: tuple[str, ...]
    count: int


@dataclass(frozen=True)
class TextFacts:
    """What ``describe_changes`` needs of one text, found once and reused for every pair."""

    text: str
    body_start: int
    sent_start: np.ndarray
    sent_end: np.ndarray
    sent_paragraph: np.ndarray
    starts: list[int]  # ``sent_start`` as a list, for bisect
    quotes: list[Quote]  # speakers are found only when needed: ``attributed_quotes``
    numbers: list[NumberMention]
    sources: list[SourceMention]
    name_sequences: list[tuple[int, str, frozenset[str]]]  # made names when needed
    word_keys: frozenset[str]  # keys of the text's capitalised words, to tell if a name is new
    cache: dict = field(default_factory=dict, compare=False, repr=False)


def text_facts(
    text: str,
    spans: tuple[np.ndarray, np.ndarray] | None = None,
    start: int | None = None,
    sources: SourceTable | None = None,
) -> TextFacts:
    """Sentences, quotes, numbers, sources and names of one text (its body only).

    ``spans`` are the sentence (start, end) arrays if the caller has them already.
    """
    start = body_start(text) if start is None else start
    if spans is None:
        found = sentences(text, start)
        sent_start = np.array([s for s, _ in found], dtype=np.int64)
        sent_end = np.array([e for _, e in found], dtype=np.int64)
    else:
        sent_start = np.asarray(spans[0], dtype=np.int64)
        sent_end = np.asarray(spans[1], dtype=np.int64)
    breaks = np.array([m.start() for m in _PARAGRAPH_BREAK.finditer(text)], dtype=np.int64)
    paragraph = np.searchsorted(breaks, sent_start, side="right")
    table = sources or default_source_table()
    found_sources = _find_sources(text, start, table)
    sequences, capitalised = _name_sequences(text, start)
    return TextFacts(
        text=text,
        body_start=start,
        sent_start=sent_start,
        sent_end=sent_end,
        sent_paragraph=paragraph,
        starts=sent_start.tolist(),
        quotes=_find_quotes(text, start),
        numbers=_find_numbers(text, start),
        sources=found_sources,
        name_sequences=sequences,
        word_keys=capitalised,
    )


def _find_sources(text: str, start: int, table: SourceTable) -> list[SourceMention]:
    found: dict[tuple[int, int], SourceMention] = {}
    dateline = _dateline_agency(text, start, table.aliases)
    if dateline is not None:
        found[(dateline.start, dateline.end)] = dateline
    if text.isascii():  # a flag Python keeps: no need to look for Cyrillic or Chinese keywords
        hits = _keyword_hits(text, start, table.ascii_keywords)
        patterns = table.ascii_patterns
    else:
        hits = _keyword_hits(text, start, table.keywords)
        patterns = table.patterns
    for entry, regex in patterns:
        if not entry.keywords:
            windows = [(start, len(text))]
        else:
            found_at = [at for k in entry.keywords if k in hits for at in hits[k]]
            if not found_at:
                continue
            windows = _keyword_windows(text, start, found_at)
        for lo, hi in windows:
            for match in regex.finditer(text, lo, hi):
                span = match.span("source")
                if span in found:
                    continue
                raw = match.group("source")
                name = _clean_source(raw)
                if name:
                    key = _source_key(name, table.aliases)
                    at = span[0] + raw.index(name)
                    found[span] = SourceMention(at, at + len(name), name, key, entry.label)
    return sorted(found.values(), key=lambda s: (s.start, s.end))


def _keyword_hits(text: str, start: int, keywords: tuple[str, ...]) -> dict[str, list[int]]:
    """Where the keywords that occur from ``start`` on occur (``str.find`` is fast)."""
    hits: dict[str, list[int]] = {}
    for keyword in keywords:
        at = text.find(keyword, start)
        if at < 0:
            continue
        found = hits[keyword] = []
        while at >= 0:
            found.append(at)
            at = text.find(keyword, at + len(keyword))
    return hits


def _keyword_windows(text: str, start: int, hits: list[int]) -> list[tuple[int, int]]:
    """Merged stretches of text around each occurrence of a pattern's keywords."""
    windows: list[tuple[int, int]] = []
    for at in sorted(hits):
        lo = max(start, at - KEYWORD_WINDOW)
        line_end = text.find("\n", at + KEYWORD_WINDOW)
        hi = len(text) if line_end < 0 else line_end
        if windows and lo <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(windows[-1][1], hi))
        else:
            windows.append((lo, hi))
    return windows


def _dateline_agency(text: str, start: int, aliases: dict[str, str]) -> SourceMention | None:
    line_start = 0
    while line_start < start:
        dateline = find_dateline(text, line_start)
        if dateline is not None and dateline.agency:
            at = text.find(dateline.agency, dateline.start, dateline.end)
            key = _source_key(dateline.agency, aliases)
            return SourceMention(at, at + len(dateline.agency), dateline.agency, key, "dateline")
        newline = text.find("\n", line_start)
        if newline < 0:
            break
        line_start = newline + 1
    return None


def _clean_source(name: str) -> str:
    name = name.strip(" \t\n,.;:—–-")
    name = re.sub(r"[’']s$", "", name)
    return name


def _source_key(name: str, aliases: dict[str, str]) -> str:
    key = _folded_source(name)
    return aliases.get(key, key)


@lru_cache(maxsize=1 << 14)
def _folded_source(name: str) -> str:
    key = normalize(name).strip("«»\"' ")
    key = re.sub(r"^(?:the|a|an)\s+", "", key)
    return re.sub(r"\s+", " ", key)


def _find_quotes(text: str, start: int) -> list[Quote]:
    quotes = []
    for match in _QUOTE.finditer(text, start):
        group = match.lastgroup or ""
        raw = match.group(group)
        content = raw.strip()
        spaced = _quote_words(content)
        if spaced is not None:
            inner = match.start(group) + len(raw) - len(raw.lstrip())
            end = inner + len(content)
            quotes.append(Quote(inner, end, content, spaced, *match.span()))
    return quotes


@lru_cache(maxsize=1 << 14)
def _quote_words(content: str) -> str | None:
    """A quote's folded words (``_spaced``), or None if it is too short to be a quote.
    A derivative repeats most of its parent's quotes: each is looked at once."""
    return _spaced(content) if _is_quote(content) else None


def attributed_quotes(facts: TextFacts) -> list[Quote]:
    """The text's quotes with who is quoted and the sources cited with them (found once)."""
    if "quotes" not in facts.cache:
        facts.cache["quotes"] = _attribute(facts)
    return facts.cache["quotes"]


def _attribute(facts: TextFacts) -> list[Quote]:
    text, start = facts.text, facts.body_start
    sent_start, sent_end, starts = facts.sent_start, facts.sent_end, facts.starts
    attributed: list[Quote] = []
    last_named = ""
    previous_end = -1
    previous_speaker = ""
    for quote in facts.quotes:
        q_start, q_end = quote.outer_start, quote.outer_end
        sentence = _sentence_at(starts, q_start)
        last_sentence = _sentence_at(starts, q_end - 1)
        s_lo = int(sent_start[sentence]) if sentence >= 0 else q_start
        s_hi = int(sent_end[last_sentence]) if last_sentence >= 0 else q_end
        speaker = _speaker(text, q_start, q_end, s_lo, s_hi)
        if (
            not speaker
            and sentence > 0
            and facts.sent_paragraph[sentence - 1] == facts.sent_paragraph[sentence]
        ):
            # a quote continued, or attributed in the sentence before ("X告诉记者，...")
            if previous_speaker and previous_end >= sent_start[sentence - 1]:
                speaker = previous_speaker
            else:
                prev = text[int(sent_start[sentence - 1]) : int(sent_end[sentence - 1])]
                speaker = _speaker_in(prev)
        if speaker.casefold() in _PRONOUNS:
            # "he said": the speaker of this paragraph's earlier quote, else the one it
            # reports ("X said that ..."), else the person it names, else the last quoted
            paragraph_start = max(start, text.rfind("\n\n", 0, q_start))
            if previous_end > paragraph_start and last_named:
                speaker = last_named
            else:
                before = text[paragraph_start:q_start]
                speaker = (
                    _speaker_in(before, last=True)
                    or _last_name_before(text, paragraph_start, q_start)
                    or last_named
                    or speaker
                )
        if speaker and " " not in speaker:
            speaker = _full_names(facts).get(speaker, speaker)
        if speaker and speaker.casefold() not in _PRONOUNS:
            last_named = speaker
        via = sorted(
            {
                s.name
                for s in facts.sources
                if s_lo <= s.start < max(s_hi, q_end) and s.label != "dateline"
            }
        )
        attributed.append(quote._replace(speaker=speaker, via=", ".join(via)))
        previous_end, previous_speaker = q_end, speaker
    return attributed


def _is_quote(content: str) -> bool:
    words = _WORD.findall(content)
    if len(words) >= MIN_QUOTE_WORDS:
        return True
    unspaced = sum(1 for ch in content if "\u3040" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf")
    return unspaced >= MIN_QUOTE_CHARS_UNSPACED


def _sentence_at(sent_start: list[int], position: int) -> int:
    """The sentence ``position`` lies in (or follows), -1 before the first one."""
    return bisect_right(sent_start, position) - 1


def _speaker(text: str, q_start: int, q_end: int, s_lo: int, s_hi: int) -> str:
    after = text[q_end : max(s_hi, q_end)][:200]
    before = text[min(s_lo, q_start) : q_start][-200:]
    return _speaker_around(after, before)


# A derivative repeats its parent's quotes with what surrounds them: each is read once.
@lru_cache(maxsize=1 << 14)
def _speaker_around(after: str, before: str) -> str:
    """Who is quoted, by what follows the quote in its sentence, else what precedes it."""
    # the patterns backtrack over long stretches: try them only where a speech verb is
    if _SPEECH_ANY.search(after):
        for pattern in _SPEAKER_AFTER:
            match = pattern.search(after)
            if match and _plausible_speaker(match.group("who")):
                role = _trim_role(match.groupdict().get("role") or "")
                who = match.group("who").strip()
                return f"{who}, {role}" if role else who
    verbs = list(_SPEECH_ANY.finditer(before))
    if verbs:
        before = before[max(0, verbs[-1].start() - 90) :]
        for pattern in _SPEAKER_BEFORE:
            match = pattern.search(before)
            if match and _plausible_speaker(match.group("who")):
                return _trim_speaker(match.group("who"))
    return ""


def _full_names(facts: TextFacts) -> dict[str, str]:
    """ "Grande" -> "Lise Grande" for each name the text gives in full (titles left out):
    the last two words of the first sequence that ends with the surname."""
    full = facts.cache.get("full names")
    if full is None:
        full = facts.cache["full names"] = {}
        for _, sequence, _ in facts.name_sequences:
            words = _sequence_words(sequence)
            if len(words) >= 2:
                full.setdefault(words[-1], " ".join(words[-2:]))
    return full


@lru_cache(maxsize=1 << 14)
def _sequence_words(sequence: str) -> tuple[str, ...]:
    return tuple(_clean_word(w)[0] for w in sequence.split())


def _trim_role(role: str) -> str:
    """Cut a speaker's description at a relative clause, and keep it short."""
    if role.split()[:1] and role.split()[0].endswith("ing"):
        return ""  # "said Vos, adding that ...": no description
    role = re.split(r"\s+(?:who|which|that|whose|whom)\b", role.strip(), maxsplit=1)[0]
    return role if len(role) <= 60 else role[:59].rsplit(" ", 1)[0] + "…"


@lru_cache(maxsize=1 << 14)
def _speaker_in(sentence: str, last: bool = False) -> str:
    """Who ``sentence`` says is speaking ("X said", "X告诉记者"): the first, or the last one."""
    verbs = list(_SPEECH_ANY.finditer(sentence))
    if not verbs:
        return ""
    # the attribution ends at a speech verb: look only at the stretch before one
    verb = verbs[-1 if last else 0]
    sentence = sentence[max(0, verb.start() - 180) : verb.end()] if last else sentence
    for pattern in _PREVIOUS_SPEAKER:
        found = [m for m in pattern.finditer(sentence) if _plausible_speaker(m.group("who"))]
        if found:
            speaker = _trim_speaker(found[-1 if last else 0].group("who"))
            if speaker.casefold() not in _PRONOUNS:
                return speaker
    return ""


def _trim_speaker(who: str) -> str:
    who = who.strip()
    # "家住东城区一处老旧小区的市民刘女士" -> "市民刘女士"; "Last week Varga" keeps the name part
    if "的" in who:
        who = who.rsplit("的", 1)[1]
    words = who.split()
    if len(words) > 4:
        tail = _NAME.findall(who)
        if tail:
            return tail[-1]
    return who


def _plausible_speaker(who: str | None) -> bool:
    if not who:
        return False
    words = who.split()
    return 0 < len(words) <= 10 and not who.strip().casefold().startswith(("that ", "it "))


def _last_name_before(text: str, start: int, position: int) -> str:
    """The last name of two to four words between ``start`` and ``position`` (a person, likely)."""
    names = [
        m.group()
        for m in _NAME.finditer(text, max(start, position - 400), position)
        if 2 <= len(m.group().split()) <= 4 and m.group().split()[0].casefold() not in _NOT_NAMES
    ]
    return names[-1] if names else ""


def _find_numbers(text: str, start: int) -> list[NumberMention]:
    numbers = []
    matches = [*_NUMBER_DIGITS.finditer(text, start), *_NUMBER_WORDS.finditer(text, start)]
    if len(matches) > 1:
        matches.sort(key=_match_start)
    for match in matches:
        # both patterns' groups: the digits or the word, mult, pct, unit, cjk_unit
        head, mult, pct, unit, cjk_unit = match.groups()
        value = _number_value(head, match.re is _NUMBER_DIGITS, mult)
        if value is None:
            continue
        unit = (unit or cjk_unit or "").strip()
        begin, end = match.span()
        if unit and unit.casefold() in _NOT_UNITS:
            # "in 2017 the ...", "25 was": the next word is not a unit; keep only the number
            end = match.start("unit")
            unit = ""
        if begin > start and text[begin - 1] in _CURRENCY:
            begin -= 1
        elif begin > start + 1 and text[begin - 1] == " " and text[begin - 2] in _CURRENCY:
            begin -= 2
        display = text[begin:end].rstrip()
        key = (round(value, 6), bool(pct))
        numbers.append(NumberMention(begin, begin + len(display), key, unit, display))
    return numbers


_match_start = methodcaller("start")


@lru_cache(maxsize=1 << 14)
def _number_value(head: str, is_digits: bool, mult: str | None) -> float | None:
    """The value of a number's digits or word (``head``) times its multiplier."""
    digits = head if is_digits else None
    if digits and digits.isdigit():
        value = float(digits)
    elif digits:
        compact = digits.translate(_THIN_SPACES)
        whole, _, tail = compact.partition(".")
        groups = whole.split(",")
        if len(groups) > 1 and all(len(g) == 3 for g in groups[1:]):
            value = float("".join(groups) + ("." + tail if tail else ""))  # 4,200.5
        else:
            value = float(compact.replace(",", "."))  # 1,3 (a decimal comma)
    else:
        word = head.casefold()
        tens, _, ones = word.partition("-")
        if tens not in _SMALL_NUMBERS or (
            ones and (ones not in _ONES or _SMALL_NUMBERS[tens] < 20)
        ):
            return None  # "fine", "tenth-rate": a word that only looks like a number
        value = float(_SMALL_NUMBERS[tens] + (_ONES[ones] if ones else 0))
    if mult:
        value *= _MULTIPLIERS.get(mult.casefold().rstrip("."), 1.0)
    return value


def _name_sequences(
    text: str, start: int
) -> tuple[list[tuple[int, str, frozenset[str]]], frozenset[str]]:
    """Capitalised sequences (offset, text, word keys), subheadings left out, and the keys
    of every capitalised word. Sequences are made names per pair, when needed."""
    headings = [m.span() for m in _HEADING_LINE.finditer(text, start)]
    found = []
    capitalised: set[str] = set()
    for match in _NAME.finditer(text, start):
        offset, sequence = match.start(), match.group()
        keys = _sequence_keys(sequence)
        capitalised |= keys
        if headings and any(lo <= offset < hi for lo, hi in headings):
            continue
        if offset > start and text[offset - 1] in "-’'":
            particle = _PARTICLE_BEFORE.search(text, max(start, offset - 4), offset)
            if particle is None:
                continue  # the capital part of a compound ("Anti-Corruption" is found whole)
            offset, sequence = particle.start(), particle.group() + sequence
        found.append((offset, sequence, keys))
    return found, frozenset(capitalised)


@lru_cache(maxsize=1 << 16)
def _sequence_keys(sequence: str) -> frozenset[str]:
    return frozenset(_word_key(_clean_word(w)[0]) for w in sequence.split())


def new_names(facts: TextFacts, other_keys: frozenset[str]) -> list[NameMention]:
    """The names of ``facts`` most of whose words the other text never capitalises."""
    first: dict[str, NameMention] = {}
    made = facts.cache.setdefault("names", {})  # a parent's names serve each of its children
    for k, (offset, sequence, keys) in enumerate(facts.name_sequences):
        if keys <= other_keys:
            continue  # most sequences name what the other text names too
        names = made.get(k)
        if names is None:
            names = made[k] = _sequence_names(facts, offset, sequence)
        for folded, name in names:
            if folded not in first and _absent(name, other_keys):
                first[folded] = name
    counts = facts.cache.setdefault("counts", {})
    found = []
    for name in first.values():
        count = counts.get(name.name)
        if count is None:
            count = counts[name.name] = facts.text.count(name.name)
        found.append(name._replace(count=count))
    return found


def _sequence_names(facts: TextFacts, offset: int, sequence: str) -> list[tuple[str, NameMention]]:
    """The names a capitalised sequence holds, each with its folded form."""
    names = []
    for segment_at, at, name, folded, keys, lone in _sequence_parts(sequence):
        if lone and _opens_sentence(facts.text, offset + segment_at, facts.starts):
            continue  # a lone word capitalised only by its position
        at += offset
        names.append((folded, NameMention(at, at + len(name), name, keys, 0)))
    return names


@lru_cache(maxsize=1 << 16)
def _sequence_parts(sequence: str) -> tuple[tuple[int, int, str, str, tuple[str, ...], bool], ...]:
    """What a sequence's names are wherever it stands: for each part between possessives,
    (its offset in the sequence, the name's offset, the name, folded, its word keys, and
    whether it is a lone word that is no name at a sentence's start)."""
    if " " not in sequence and "\u00a0" not in sequence:
        words = [(0, sequence)]
    else:
        words = [(m.start(), m.group()) for m in _NON_SPACE.finditer(sequence)]
    parts = []
    for segment in _split_possessives(words):
        found = _segment_name(tuple(word for _, word in segment))
        if found is not None:
            first, name, keys, lone = found
            parts.append((segment[0][0], segment[first][0], name, name.casefold(), keys, lone))
    return tuple(parts)


@lru_cache(maxsize=1 << 16)
def _clean_word(word: str) -> tuple[str, bool]:
    """A capitalised word without a possessive or a compound's tail ("ISIS-held" -> "ISIS"),
    and whether a name ends with it."""
    ends = False
    if "-" in word and not _PARTICLE.match(word):
        compound = _COMPOUND.match(word)
        if compound:
            word, ends = compound.group(1), True
    if word.endswith(("’s", "'s")):
        word, ends = word[:-2], True
    return word, ends


def _split_possessives(words: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """Split a sequence where a word ends a name: "Lebanon’s Hezbollah" is two names."""
    segments: list[list[tuple[int, str]]] = [[]]
    for offset, word in words:
        cleaned, ends = _clean_word(word)
        segments[-1].append((offset, cleaned))
        if ends:
            segments.append([])
    return [s for s in segments if s]


def _segment_name(words: tuple[str, ...]) -> tuple[int, str, tuple[str, ...], bool] | None:
    """A capitalised sequence as a name, unless it is only a capitalised word: the first
    word kept, the name, its word keys, and whether it is a lone word that is no name
    when it opens a sentence."""
    first, last = 0, len(words)
    # drop leading function words; a lone word is dropped too at a sentence's start
    while first < last and (
        words[first].casefold().rstrip(".") in _NOT_NAMES or words[first].casefold() in _CONNECTORS
    ):
        first += 1
    lone = first == 0 and last == 1 and not _is_acronym(words[0])
    while first < last and words[last - 1].casefold() in _CONNECTORS:
        last -= 1
    if first == last:
        return None
    name = " ".join(words[first:last])
    if len(name) < 2:
        return None
    keys = tuple(_word_key(w) for w in words[first:last] if w.casefold() not in _CONNECTORS)
    return first, name, keys, lone


def _opens_sentence(text: str, offset: int, starts: list[int]) -> bool:
    """At a sentence's start, or just after an opening quote or a colon."""
    before = text[max(0, offset - 3) : offset].rstrip()
    if not before or before[-1] in _OPENERS or before[-1] in ".!?。\n":
        k = bisect_right(starts, offset) - 1
        if k >= 0 and not text[starts[k] : offset].strip(" \t“\"«„‘'(「"):
            return True
        return bool(before) and before[-1] in _OPENERS
    return False


def _is_acronym(word: str) -> bool:
    return word.isupper() and sum(c.isalpha() for c in word) >= 2


@lru_cache(maxsize=1 << 16)
def _word_key(word: str) -> str:
    word = word.casefold()
    particle = _PARTICLE.match(word)
    if particle and particle.end() < len(word):
        word = word[particle.end() :]  # "al-Assad" and "Assad" name the same person
    if "а" <= word[:1] <= "я" or word[:1] == "ё":
        # Russian inflects names ("Северцев", "Северцева"): compare a short stem
        return word[: min(6, max(3, len(word) - 2))]
    return word


# --- comparing two texts --------------------------------------------------------------------


def describe_changes(
    child: Article,
    parent: Article,
    passages: Sequence[Passage] | np.ndarray,
    sources: SourceTable | None = None,
) -> list[Change]:
    """Everything ``child`` added, dropped or changed against ``parent``.

    ``passages`` are the passages aligned between the two: ``Passage`` objects whose
    ``a`` side is the child and ``b`` side the parent (``wiretrace.compare(child,
    parent).passages``), or an array of rows ``(child_start, child_end,
    parent_start, parent_end)``.
    """
    table = sources or default_source_table()
    return compare_facts(
        child,
        parent,
        text_facts(child.text, sources=table),
        text_facts(parent.text, sources=table),
        passage_spans(passages),
    )


def passage_spans(passages: Sequence[Passage] | np.ndarray) -> np.ndarray:
    """Passages as an int array of rows (child_start, child_end, parent_start, parent_end)."""
    if isinstance(passages, np.ndarray):
        spans = passages.astype(np.int64, copy=False).reshape(-1, 4)
    else:
        spans = np.array(
            [(p.a_start, p.a_end, p.b_start, p.b_end) for p in passages], dtype=np.int64
        ).reshape(-1, 4)
    return spans


def compare_facts(
    child: Article,
    parent: Article,
    child_facts: TextFacts,
    parent_facts: TextFacts,
    spans: np.ndarray,
) -> list[Change]:
    """``describe_changes`` on facts already found (the pipeline reuses a parent's facts)."""
    # changes of each kind with their offsets (-1 for none), to order them by kind, then offset
    found: dict[str, list[tuple[int, Change]]] = {}

    def add(kind: str, text: str, detail: str, side: str, start, end) -> None:
        change = Change(child.id, parent.id, kind, text, detail, side, start, end)  # type: ignore[arg-type]
        of_kind = found.get(kind)
        if of_kind is None:
            of_kind = found[kind] = []
        of_kind.append((-1 if start is None else start, change))

    _headline(child, parent, add)
    _sentences(child_facts, spans[:, 0], spans[:, 1], "sentence_added", "article", add)
    _sentences(parent_facts, spans[:, 2], spans[:, 3], "sentence_dropped", "parent", add)
    _quotes(child_facts, parent_facts, add)
    _sources(child_facts, parent_facts, add)
    _numbers(child_facts, parent_facts, spans, add)
    _names(child_facts, parent_facts, add)
    changes: list[Change] = []
    for kind in KIND_ORDER:
        of_kind = found.get(kind)
        if of_kind:
            if len(of_kind) > 1:
                of_kind.sort(key=_first)  # stable: equal offsets stay in the order found
            changes.extend(change for _, change in of_kind)
    return changes


_first = itemgetter(0)


def _headline(child: Article, parent: Article, add) -> None:
    new, old = (child.title or "").strip(), (parent.title or "").strip()
    if (
        (new or old)
        and new.casefold().split() != old.casefold().split()
        and (_fold(new).split() != _fold(old).split())
    ):
        add("headline_changed", new, old or "(the parent has no headline)", "article", None, None)


def _sentences(facts: TextFacts, lo: np.ndarray, hi: np.ndarray, kind: str, side: str, add) -> None:
    """Sentences outside the passages, consecutive ones of one paragraph merged."""
    if not facts.starts:
        return
    layout = _sentence_layout(facts)
    if lo.shape[0]:
        covered = _covered_chars(facts.sent_start, facts.sent_end, lo, hi)
        outside = np.flatnonzero(covered < layout.needed).tolist()
        if not outside:
            return
    else:
        outside = range(len(facts.starts))
    paragraph = layout.paragraph
    # runs of consecutive sentences outside the passages, within one paragraph
    runs: list[list[int]] = []
    for k in outside:
        if runs and runs[-1][1] == k - 1 and paragraph[k - 1] == paragraph[k]:
            runs[-1][1] = k
        else:
            runs.append([k, k])
    for first, last in runs:
        n = last - first + 1
        whole = n == layout.paragraph_sizes[paragraph[first]]
        detail = f"{n} sentence{'s' if n > 1 else ''}" + (", whole paragraph" if whole else "")
        s, e = facts.starts[first], layout.ends[last]
        add(kind, facts.text[s:e], detail, side, s, e)


class _SentenceLayout(NamedTuple):
    needed: np.ndarray  # characters a sentence must have inside passages to count as kept
    paragraph: list[int]
    paragraph_sizes: dict[int, int]
    ends: list[int]


def _sentence_layout(facts: TextFacts) -> _SentenceLayout:
    """Per-text parts of ``_sentences``, found once (a parent serves each of its children)."""
    layout = facts.cache.get("layout")
    if layout is None:
        paragraph = facts.sent_paragraph.tolist()
        sizes: dict[int, int] = {}
        for p in paragraph:
            sizes[p] = sizes.get(p, 0) + 1
        needed = MIN_COVERED * np.maximum(facts.sent_end - facts.sent_start, 1)
        layout = facts.cache["layout"] = _SentenceLayout(
            needed, paragraph, sizes, facts.sent_end.tolist()
        )
    return layout


def _covered_chars(starts, ends, lo, hi) -> np.ndarray:
    """Characters of each sentence [starts, ends) inside the passages [lo, hi).

    One side's passages of a pair do not overlap, so the overlaps simply add up.
    """
    overlap = np.minimum(ends[:, None], hi) - np.maximum(starts[:, None], lo)
    return np.maximum(overlap, 0).sum(axis=1)


def _quotes(child: TextFacts, parent: TextFacts, add) -> None:
    child_kept, parent_kept = _matched(
        [q.spaced for q in child.quotes], [q.spaced for q in parent.quotes]
    )
    if not all(child_kept):
        for quote, kept in zip(attributed_quotes(child), child_kept):
            if not kept:
                detail = _quote_detail(quote)
                add("quote_added", quote.text, detail, "article", quote.start, quote.end)
    if not all(parent_kept):
        for quote, kept in zip(attributed_quotes(parent), parent_kept):
            if not kept:
                detail = _quote_detail(quote)
                add("quote_removed", quote.text, detail, "parent", quote.start, quote.end)


def _quote_detail(quote: Quote) -> str:
    who = quote.speaker or "unattributed"
    return f"{who} (via {quote.via})" if quote.via else who


def _matched(left: list[str], right: list[str]) -> tuple[list[bool], list[bool]]:
    """Which quotes on each side have a counterpart on the other (a trimmed quote counts)."""
    if not left or not right:
        return [False] * len(left), [False] * len(right)
    # a quote repeated word for word has its counterpart (it scores 100): score the others
    left_set, right_set = set(left), set(right)
    left_kept = [quote in right_set for quote in left]
    right_kept = [quote in left_set for quote in right]
    unmatched = [i for i, kept in enumerate(left_kept) if not kept]
    if unmatched:
        hits = _similar([left[i] for i in unmatched], right).any(axis=1).tolist()
        for i, hit in zip(unmatched, hits):
            left_kept[i] = hit
    unmatched = [j for j, kept in enumerate(right_kept) if not kept]
    if unmatched:
        hits = _similar(left, [right[j] for j in unmatched]).any(axis=0).tolist()
        for j, hit in zip(unmatched, hits):
            right_kept[j] = hit
    return left_kept, right_kept


def _similar(left: list[str], right: list[str]) -> np.ndarray:
    """Whether each quote of ``left`` matches each of ``right`` (a boolean matrix)."""
    if len(left) * len(right) <= SMALL_CDIST:
        # ``cdist`` costs more to set up than a few scores; its integer scores are rounded
        # half up, so a score counts from QUOTE_MATCH - 0.5 on, here as there
        return np.array(
            [[fuzz.token_set_ratio(a, b) >= QUOTE_MATCH - 0.5 for b in right] for a in left],
            dtype=bool,
        ).reshape(len(left), len(right))
    scores = process.cdist(left, right, scorer=fuzz.token_set_ratio, dtype=np.uint8)
    return scores >= QUOTE_MATCH


def _fold(text: str) -> str:
    return text.casefold().translate(_PUNCTUATION_FOLD)


def _spaced(text: str) -> str:
    """Folded words separated by spaces; every unspaced-script character a word."""
    folded = _fold(text)
    folded = re.sub(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff])", r" \1 ", folded)
    return " ".join(_WORD.findall(folded))


def _sources(child: TextFacts, parent: TextFacts, add) -> None:
    child_keys = {s.key for s in child.sources}
    parent_keys = {s.key for s in parent.sources}
    for mention in _first_per_key(child.sources):
        if mention.key not in parent_keys:
            add("source_added", mention.name, mention.label, "article", mention.start, mention.end)
    for mention in _first_per_key(parent.sources):
        if mention.key not in child_keys:
            add("source_removed", mention.name, mention.label, "parent", mention.start, mention.end)


def _first_per_key(mentions: list[SourceMention]) -> list[SourceMention]:
    seen: dict[str, SourceMention] = {}
    for mention in mentions:
        seen.setdefault(mention.key, mention)
    return list(seen.values())


def _numbers(child: TextFacts, parent: TextFacts, spans: np.ndarray, add) -> None:
    child_values = _number_keys(child)
    parent_values = _number_keys(parent)
    new = [n for n in child.numbers if n.key not in parent_values]
    gone = [n for n in parent.numbers if n.key not in child_values]
    if not new and not gone:
        return
    rows = spans.tolist()
    new_passage = _passage_of([n.start for n in new], [(r[0], r[1]) for r in rows])
    gone_passage = _passage_of([n.start for n in gone], [(r[2], r[3]) for r in rows])
    paired_new: set[int] = set()
    paired_gone: set[int] = set()
    # a number in an aligned passage that differs from the parent's in the same passage
    for same_unit in (True, False):
        for i, number in enumerate(new):
            if i in paired_new or new_passage[i] < 0:
                continue
            for j, old in enumerate(gone):
                if j in paired_gone or gone_passage[j] != new_passage[i]:
                    continue
                if same_unit and _unit_key(number) != _unit_key(old):
                    continue
                if number.key[1] != old.key[1]:
                    continue
                paired_new.add(i)
                paired_gone.add(j)
                add(
                    "number_changed", number.display, f"was {old.display}", "article",
                    number.start, number.end,
                )  # fmt: skip
                break
    reported: set[tuple] = set()
    for i, number in enumerate(new):
        if i not in paired_new and ("+", number.key) not in reported:
            reported.add(("+", number.key))
            add("number_added", number.display, _context(child, number.start), "article",
                number.start, number.end)  # fmt: skip
    for j, number in enumerate(gone):
        if j not in paired_gone and ("-", number.key) not in reported:
            reported.add(("-", number.key))
            add("number_removed", number.display, _context(parent, number.start), "parent",
                number.start, number.end)  # fmt: skip


def _unit_key(number: NumberMention) -> str:
    return _word_key(number.unit.casefold())[:5]


def _number_keys(facts: TextFacts) -> set[tuple[float, bool]]:
    keys = facts.cache.get("number keys")
    if keys is None:
        keys = facts.cache["number keys"] = {n.key for n in facts.numbers}
    return keys


def _passage_of(positions: list[int], spans: list[tuple[int, int]]) -> list[int]:
    """The first passage [lo, hi) each position lies in, or -1 (a pair has few passages)."""
    found = []
    for pos in positions:
        found.append(next((k for k, (lo, hi) in enumerate(spans) if lo <= pos < hi), -1))
    return found


def _context(facts: TextFacts, position: int) -> str:
    k = _sentence_at(facts.starts, position)
    if k < 0:
        return ""
    contexts = facts.cache.setdefault("contexts", {})
    found = contexts.get(k)
    if found is None:
        sentence = facts.text[facts.starts[k] : _sentence_layout(facts).ends[k]].strip()
        found = sentence if len(sentence) <= SNIPPET else sentence[: SNIPPET - 1] + "…"
        contexts[k] = found
    return found


def _names(child: TextFacts, parent: TextFacts, add) -> None:
    added = new_names(child, parent.word_keys)
    removed = new_names(parent, child.word_keys)
    for name in _outermost(added):
        add("name_added", name.name, _mentions(name), "article", name.start, name.end)
    for name in _outermost(removed):
        add("name_removed", name.name, _mentions(name), "parent", name.start, name.end)


def _absent(name: NameMention, other_words: frozenset[str]) -> bool:
    if not name.keys:
        return False
    missing = sum(1 for key in name.keys if key not in other_words)
    return missing * 2 > len(name.keys)


def _outermost(names: list[NameMention]) -> list[NameMention]:
    """Drop a name whose words all belong to a longer name in the same list."""
    if len(names) < 2:
        return names
    words = [set(name.keys) for name in names]
    keep = []
    for i, name in enumerate(names):
        size = len(name.keys)
        if not any(
            j != i and len(other.keys) > size and words[i] <= words[j]
            for j, other in enumerate(names)
        ):
            keep.append(name)
    return keep


def _mentions(name: NameMention) -> str:
    return f"{name.count} mention{'s' if name.count > 1 else ''}"


# --- the pipeline: every article against its parent -----------------------------------------

FACTS_CACHE = 4096  # texts whose facts are kept while a run's changes are described


def lineage_changes(
    articles: Sequence[Article],
    parent: np.ndarray,
    pair_a: np.ndarray,
    pair_b: np.ndarray,
    passages: PassageTable,
    batch: TokenizedBatch,
    body_starts: Sequence[int],
    sources: SourceTable | None = None,
) -> list[Change]:
    """What every article with a parent changed against it, in article order.

    ``pair_a``/``pair_b`` are the aligned pairs that ``passages.pair`` indexes;
    ``batch`` holds the articles' sentences, so no text is split twice.
    """
    table = sources or default_source_table()
    children = np.nonzero(parent >= 0)[0]
    if children.shape[0] == 0:
        return []
    with _collector_paused():
        return _lineage_changes(
            articles, parent, children, pair_a, pair_b, passages, batch, body_starts, table
        )


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a while.

    Describing changes makes many small objects that live on (facts, changes), and each
    full collection they trigger walks the whole heap, a run's articles and tables too:
    that was a fifth of the stage's time. Nothing here makes reference cycles.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _lineage_changes(
    articles: Sequence[Article],
    parent: np.ndarray,
    children: np.ndarray,
    pair_a: np.ndarray,
    pair_b: np.ndarray,
    passages: PassageTable,
    batch: TokenizedBatch,
    body_starts: Sequence[int],
    table: SourceTable,
) -> list[Change]:
    pair_of_child = _pair_index(pair_a, pair_b, children, parent[children], len(articles))
    rows = np.argsort(passages.pair, kind="stable")
    bounds = np.searchsorted(passages.pair[rows], np.arange(pair_a.shape[0] + 1))
    # most recently used last (an OrderedDict drops its oldest entry in constant time)
    cache: OrderedDict[int, TextFacts] = OrderedDict()

    def facts_of(doc: int) -> TextFacts:
        found = cache.get(doc)
        if found is not None:
            cache.move_to_end(doc)
            return found
        lo, hi = batch.doc_sent_start[doc], batch.doc_sent_start[doc + 1]
        spans = (batch.sent_start[lo:hi], batch.sent_end[lo:hi])
        found = cache[doc] = text_facts(articles[doc].text, spans, body_starts[doc], table)
        if len(cache) > FACTS_CACHE:
            cache.popitem(last=False)
        return found

    columns = (passages.a_start, passages.a_end, passages.b_start, passages.b_end)
    offsets = np.column_stack(columns).astype(np.int64)
    parents = parent.tolist()
    first_of_pair = pair_a.tolist()
    no_spans = np.zeros((0, 4), dtype=np.int64)
    per_child: dict[int, list[Change]] = {}
    # children of one parent one after the other, so the parent's facts are found once
    for child, k in sorted(
        zip(children.tolist(), pair_of_child.tolist()), key=lambda ck: (parents[ck[0]], ck[0])
    ):
        source = parents[child]
        spans = no_spans
        if k >= 0:
            spans = offsets[rows[bounds[k] : bounds[k + 1]]]
            if first_of_pair[k] != child:
                spans = spans[:, [2, 3, 0, 1]]  # the child's side first
        per_child[child] = compare_facts(
            articles[child], articles[source], facts_of(child), facts_of(source), spans
        )
    return [change for child in children.tolist() for change in per_child[child]]


def _pair_index(
    pair_a: np.ndarray, pair_b: np.ndarray, x: np.ndarray, y: np.ndarray, n: int
) -> np.ndarray:
    """For each (x[i], y[i]), the index of the aligned pair joining them, or -1."""
    if pair_a.shape[0] == 0:
        return np.full(x.shape[0], -1, dtype=np.int64)
    keys = np.minimum(pair_a, pair_b).astype(np.int64) * n + np.maximum(pair_a, pair_b)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    wanted = np.minimum(x, y).astype(np.int64) * n + np.maximum(x, y)
    pos = np.minimum(np.searchsorted(sorted_keys, wanted), sorted_keys.shape[0] - 1)
    return np.where(sorted_keys[pos] == wanted, order[pos], -1)
