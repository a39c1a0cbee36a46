"""Abbreviations and teencode that citizens type, and the phone number pattern.

``ABBREVIATIONS`` is the one table every matcher expands (the tokenizer's lemmas, procedure
search, report classification; see vitext.words). A key is the abbreviation as typed, lower
case, with "đ" written "d" ("đk" is looked up as "dk"); its value is the full form, written
properly. A key without diacritics counts only when typed without diacritics other than
"đ": "hỏng", "hẻm", "mụn" are never teencode. A key with them (a dialect spelling, "hông")
counts only when typed exactly so.

Only forms that mean one thing when typed without diacritics are listed. Left out, each for
the reading it would hide:

- "bn" — bao nhiêu / bạn;  "hk" — hộ khẩu / không / học
- "hong" — không / hỏng (broken) / hồng ("so hong": sổ hồng, the land title)
- "hem" — không / hẻm (alley: "hem 22 ngo quyen")
- "mun" — muốn / mụn ("het mun": acne)
- "bit" — biết / bít, bịt ("cong bi bit": a blocked drain; "bit mui")
- "kg" — không / kilogram ("1 kg xoai")
"""

ABBREVIATIONS = {
    # negation
    "ko": "không",
    "k": "không",
    "khg": "không",
    "hok": "không",  # also "học" in teencode; not so in anything citizens write here
    "khum": "không",
    "hông": "không",  # southern and Huế speech ("được hông", "hông phải")
    # common words
    "dc": "được",
    "dk": "đăng ký",  # "đk" is also "điều kiện"; "đăng ký" is by far the more frequent
    "dky": "đăng ký",
    "j": "gì",
    "z": "vậy",
    "v": "vậy",
    "r": "rồi",
    "ntn": "như thế nào",
    "vs": "với",
    "mk": "mình",
    "mik": "mình",
    "mn": "mọi người",
    "ng": "người",
    "nc": "nước",
    "dg": "đường",
    "cf": "cà phê",
    "ad": "admin",
    "tks": "cảm ơn",
    "thks": "cảm ơn",
    "thanks": "cảm ơn",
    "thank": "cảm ơn",
    "cmon": "cảm ơn",
    "nhiu": "nhiêu",  # bao nhiêu and nhiều fold alike
    "bik": "biết",
    "sdt": "số điện thoại",
    # documents and offices
    "cccd": "căn cước",
    "cmnd": "chứng minh nhân dân",
    "gplx": "giấy phép lái xe",
    "gks": "giấy khai sinh",
    "ubnd": "ủy ban",
    "gpxd": "giấy phép xây dựng",
    "tthc": "thủ tục",
    "dvc": "dịch vụ công",
}


# Vietnamese phone numbers: 0 or +84, then 9 digits, with spaces, dots or dashes between.
# The engine's phone entity (hue_rasa/extractors.py) and the service's masking of phone
# numbers in exports (bot/nlu_review.py) use this one pattern.
PHONE_REGEX = r"(?<![\w+])(?:\+?84|0)(?:[\s.-]?\d){9}(?!\d)"
