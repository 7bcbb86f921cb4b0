"""Pinyin helpers (UX-1): mnemonic codes (助记码) and the syllables the search index stores.

pypinyin costs ~0.2 ms a name; names share their words (上海, 科技, 有限公司), so each text is cut
into words once (pypinyin's own segmenter) and each word converted once (cached): imports and
the search index's rebuild convert thousands of names a second this way (issue #3)."""

import re
from functools import lru_cache

from pypinyin import lazy_pinyin

try:  # the segmenter lazy_pinyin itself uses: cut once, convert each word once (cached)
    from pypinyin.seg.mmseg import seg as _mmseg
except ImportError:  # pragma: no cover - another pypinyin layout: convert whole values
    _mmseg = None

CJK_RUN = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)")
_LATIN_WORD = re.compile(r"[A-Za-z0-9]+")


@lru_cache(maxsize=50_000)
def _word_pinyin(word: str) -> tuple:
    return tuple(lazy_pinyin(word))


def syllables(text: str) -> list:
    """lazy_pinyin(text, errors=keep): the pinyin of each Chinese character, other runs as typed."""
    if _mmseg is None:
        return lazy_pinyin(text, errors=lambda s: [s])
    out = []
    for i, part in enumerate(CJK_RUN.split(text)):
        if not part:
            continue
        if i % 2:
            for word in _mmseg.cut(part):
                out.extend(_word_pinyin(word))
        else:
            out.append(part)
    return out


def letters(parts) -> str:
    """First letters: of each syllable, and of each Latin word or number in the other runs."""
    out = []
    for part in parts:
        if _LATIN_WORD.fullmatch(part or ""):
            out.append(part[0])
        else:
            out.extend(w[0] for w in _LATIN_WORD.findall(part or ""))
    return "".join(out)


@lru_cache(maxsize=20_000)
def _initials(text: str) -> str:
    return letters(syllables(text)).upper()


def initials(text: str, max_length: int = 30) -> str:
    """Pinyin initials of Chinese characters and first letters of Latin words, upper-case.

    上海华为技术有限公司 → SHHWJSYXGS; Acme Trading Ltd → ATL; 北京ABC科技 → BJAKJ.
    """
    return _initials(text or "")[:max_length]


def full_pinyin(text: str) -> str:
    return "".join(syllables(text or "")).lower()
