"""What the index stores for one record, and how typed text is normalised the same way."""

import re
import unicodedata
from functools import lru_cache

from ..pinyin import letters, syllables

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
WORD_RUN = re.compile(r"[^\W_]+")  # letters and digits in any script
LATIN_WORD = re.compile(r"[A-Za-z0-9]+")
SPACES = re.compile(r"\s+")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
NOT_DIGIT = re.compile(r"\D")

MAX_QUERY = 100  # characters of a query that are used
SEP = "\n"  # between the values of `text`: a query never contains it, so it never matches across two values


def normalise(value) -> str:
    """NFKC (full-width → half-width), lower case, control characters dropped, spaces collapsed."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    text = CONTROL.sub(" ", text).lower()
    return SPACES.sub(" ", text).strip()


@lru_cache(maxsize=100_000)
def pinyin_forms(text: str) -> tuple[str, str]:
    """(full pinyin, initials) of a normalised value with Chinese characters, else ("", "").

    上海瑞丰科技 → ("shanghairuifengkeji", "shrfkj"); 北京abc科技 → ("beijingabckeji", "bjakj")
    (initials as crm.core.pinyin.initials, lower case: a Latin word gives its first letter)."""
    if not CJK.search(text):
        return "", ""
    parts = syllables(text)
    return SPACES.sub("", "".join(parts)), letters(parts)


def bigrams(value: str):
    for run in WORD_RUN.findall(value):
        for i in range(len(run) - 1):
            yield run[i:i + 2]


def tail_tokens(phone: str):
    digits = NOT_DIGIT.sub("", phone)
    return [f"t{digits[-n:]}" for n in (3, 4) if len(digits) >= n]


def entry_fields(title: str, values, phones) -> dict:
    """The stored columns (except ids and time) for a record whose title is `title`, whose
    searchable values are `values` (masked and protected fields left out by the caller) and whose
    masked phone numbers are `phones`."""
    texts, grams = [], set()
    seen = set()
    for raw in values:
        value = normalise(raw)
        if not value or value in seen:
            continue
        seen.add(value)
        texts.append(value)
        grams.update(bigrams(value))
        full, ini = pinyin_forms(value)
        if full:
            for extra in (full, ini):
                if extra and extra not in seen:
                    seen.add(extra)
                    texts.append(extra)
            grams.update(bigrams(ini))
    numbers = [p for p in dict.fromkeys(str(p).strip() for p in phones) if p]
    for number in numbers:
        grams.update(tail_tokens(number))
    key = normalise(title)[:255]
    return {
        "title": str(title)[:255],
        "key": key,
        "abbr": pinyin_forms(key)[1][:100],
        "text": SEP.join(texts),
        "phones": f" {' '.join(numbers)} " if numbers else "",
        "grams": f" {' '.join(sorted(grams))} " if grams else "",
    }
