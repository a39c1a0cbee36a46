"""Finding a Huế commune in an address written by a person ("kiệt 45, phường Thuận Hóa").

Names are matched with their diacritics first ("Thuận Hóa" is a current phường, "Thuận
Hòa" a former one now in Phú Xuân); without diacritics, a current name wins over a former
name spelt the same. Longer names are matched first and use up the words they match.
"""

from __future__ import annotations

import re
from functools import lru_cache

import yaml

from bot.settings import ROOT
from vitext import fold
from vitext.words import Word, same_word, words
from vitext.words import folded as folded_words


def _exact(text: str) -> str:
    """The words as spelt (i/y and the tone's place canonical: "Vĩ Dạ" is "Vỹ Dạ")."""
    return " " + " ".join(w.spelling for w in words(text)) + " "


def _folded(text: str) -> str:
    return " " + folded_words(text) + " "


@lru_cache(maxsize=1)
def _names() -> list[tuple[str, str, str, bool]]:
    """(exact name, folded name, current commune, is the current name), longest first."""
    raw = yaml.safe_load((ROOT / "data" / "catalog" / "communes.yml").read_text("utf-8"))
    rows = []
    for commune in raw["communes"]:
        rows.append((commune["name"], commune["name"], True))
        rows += [(alias, commune["name"], False) for alias in commune.get("aliases") or []]
    names = [(_exact(n).strip(), _folded(n).strip(), c, cur) for n, c, cur in rows]
    return sorted(names, key=lambda r: (-len(r[1]), not r[3]))


def _match(text: str, column: int) -> set[str]:
    found: set[str] = set()
    for row in _names():
        name = row[column]
        if f" {name} " in text:
            found.add(row[2])
            text = text.replace(f" {name} ", " | ")
    return found


def commune_in(text: str | None) -> str | None:
    """The current commune an address names (by current or former name), if exactly one."""
    if not text:
        return None
    exact = _match(_exact(text), 0)
    if len(exact) == 1:
        return exact.pop()
    folded = _match(_folded(text), 1)
    return folded.pop() if len(folded) == 1 else None


# -- the place a citizen wrote inside a longer message --------------------------------------
#
# Matched on the folded text (same length as the original), so the place is returned exactly
# as the citizen typed it, diacritics and all. A place starts at an anchor — a house number,
# a kiệt/hẻm with its number, "đường …", a landmark noun ("chợ Đông Ba", "trước cổng trường
# …") or a phường/xã — and goes on while the words read as an address: numbers, capitalised
# names, address nouns, and (after a street anchor, in text typed without capitals) a few
# name words that are not everyday verbs.

_ADDRESS_NOUNS = set(
    """so sn nha kiet hem ngo ngach duong pho phuong xa thon to khu cho cau truong ga ben
    cong vien benh dai noi cua lang chua dinh song ho con doan gan truoc canh doi dien dau cuoi
    nga ba tu chung cu toa cho cu thi tran quoc lo ql tl tinh lo doc""".split()
)
_LANDMARKS = (
    "cho|cau|truong|ga|ben xe|ben thuyen|ben do|ben(?! canh| kia| nay| ni| te)|cong vien|"
    "benh vien|nga ba|"
    "nga tu|dai noi|cua|lang|chua|"
    "dinh|song|ho|con|chung cu|khu do thi|khu pho|quoc lo|thon|to dan pho|cong"
)
_ANCHOR = re.compile(
    r"\b(?:nha\s+)?(?:so|sn)\s*\d+[a-z]?(?:/\d+)*\b"
    r"|\b\d+[a-z]?(?:/\d+)*\s+(?:kiet|hem|ngo|ngach)\b"
    r"|\b(?:kiet|hem|ngo|ngach)\s*\d+"
    r"|(?<!den )\b(?:duong|pho)\s+(?=[a-z0-9])"  # not the "đường" of "đèn đường"
    r"|\b(?:" + _LANDMARKS + r")\s+(?=\S)"
    r"|\bdai noi\b"  # a landmark that is its own name ("trong Đại Nội, gần …")
    r"|\b(?:phuong|xa|thi tran)\s+(?=\S)"
    # house numbers, then a street's capitalised name ("dãy nhà 40-60 Trần Cao Vân")
    r"|(?P<house>\b(?:day nha|day|nha|can)\s+\d+[a-z]?(?:\s*[-–]\s*\d+[a-z]?)?(?=\s+\w))"
)
# Everyday words that end a place typed without capitals ("kiet 12 nguyen hue tat may hom").
_NOT_A_NAME = set(
    """tat hu hong bi co khong ko k may hom roi da dang se nay qua luon lam nuoc ngap do chay mat
    vo be sap nghieng bay dong chan tac tran ban ruoi rac mui hoi on karaoke hat den cay nguoi xe
    o tai thi ma va voi cho la cua tu den tren duoi trong ngoai ca het moi suot ngay dem toi sang
    chieu trua ai gi chi ne nhe nha a oi ah u rua ri mo hi chu cung van con nhu vay the nen vi
    vui long giup xin bao phan anh""".split()
)
_MAX_NAME_WORDS = 5
_MIN_PLACE_CHARS = 6
# Anchor words whose folded form is also an everyday word: "phượng" (the tree) folds to
# "phuong", "công an" to "cong", "cho" (to give) to "chợ"'s, "bên" (beside) to "bến"'s.
# Typed with diacritics, the word must be the place word; typed without, it is taken.
_ANCHOR_WORDS: dict[str, list[Word]] = {}
for _word in words("phường xã cổng chợ cầu lăng làng chùa đình sông hồ cồn cửa thôn đường phố bến"):
    _ANCHOR_WORDS.setdefault(_word.folded, []).append(_word)


def _spelled_as_place(typed: Word | None) -> bool:
    """Whether an anchor word is the place word as the citizen wrote it."""
    if typed is None or typed.folded not in _ANCHOR_WORDS:
        return True
    return any(same_word(typed, place) for place in _ANCHOR_WORDS[typed.folded])


def _tokens(folded: str, start: int) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"[a-z0-9/]+|,", folded[start:])]


def place_in(text: str | None) -> str | None:
    """The place written in a message ("kiệt 12 Nguyễn Huệ", "chợ Đông Ba"), if any."""
    if not text:
        return None
    folded = fold(text)
    typed = {word.start: word for word in words(text)}
    for anchor in _ANCHOR.finditer(folded):
        start, end = anchor.start(), anchor.end()
        # A one-word anchor must be spelled as the place word; "công viên" is no "cổng".
        if len(anchor.group().split()) == 1 and not _spelled_as_place(typed.get(start)):
            continue
        if anchor.group("house") and not text[end:].lstrip()[:1].isupper():
            continue  # "nhà 2 tầng": a house, not an address
        street = bool(re.search(r"\d|\b(?:duong|pho|kiet|hem|ngo)\b", anchor.group()))
        names = 0
        for token_start, token_end in _tokens(folded, anchor.end()):
            token_start += anchor.end()
            token_end += anchor.end()
            word = folded[token_start:token_end]
            original = text[token_start:token_end]
            if word == ",":
                continue  # kept only when an address word follows
            if word.isdigit() or re.fullmatch(r"\d+[a-z]?(/\d+)*", word):
                end = token_end
            elif word in _ADDRESS_NOUNS and _spelled_as_place(typed.get(token_start)):
                end = token_end
            elif original[:1].isupper():
                end = token_end
            elif (
                street
                and names < _MAX_NAME_WORDS
                and word not in _NOT_A_NAME
                and not any(c.isupper() for c in text[start:end])
            ):
                names += 1
                end = token_end
            else:
                break
        place = text[start:end].strip(" ,")
        # An anchor alone ("đường", "chợ") says nowhere: it needs a name or a number after it.
        if len(place) >= _MIN_PLACE_CHARS and fold(place) != anchor.group().strip():
            return place
    return None
