"""Pinyin helpers (UX-1): mnemonic codes (助记码) and pinyin search text."""

import re

from pypinyin import Style, lazy_pinyin

_LATIN_WORD = re.compile(r"[A-Za-z0-9]+")


def initials(text: str, max_length: int = 30) -> str:
    """Pinyin initials of Chinese characters and first letters of Latin words, upper-case.

    上海华为技术有限公司 → SHHWJSYXGS; Acme Trading Ltd → ATL; 北京ABC科技 → BJAKJ.
    """
    out = []
    for part in lazy_pinyin(text or "", style=Style.FIRST_LETTER, errors=lambda s: [s]):
        if _LATIN_WORD.fullmatch(part or ""):
            out.append(part[0])
        else:
            out.extend(w[0] for w in _LATIN_WORD.findall(part or ""))
    return "".join(out).upper()[:max_length]


def full_pinyin(text: str) -> str:
    return "".join(lazy_pinyin(text or "")).lower()
