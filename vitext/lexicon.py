"""Abbreviations and teencode that citizens type, mapped to the lemma of the full form.

Keys and values are accent-free and lower-case, words joined with ``_`` as the tokenizer's
lemmas are. Only unambiguous forms are listed: "bn" (bao nhiêu / bạn) and "hk" (hộ khẩu /
không / học) are left to the training data, which shows them in context.
"""

ABBREVIATIONS = {
    # negation
    "ko": "khong",
    "k": "khong",
    "kg": "khong",
    "khg": "khong",
    "hok": "khong",
    "hong": "khong",
    "khum": "khong",
    "hem": "khong",
    # common words
    "dc": "duoc",
    "dk": "dang_ky",
    "dky": "dang_ky",
    "j": "gi",
    "z": "vay",
    "v": "vay",
    "r": "roi",
    "ntn": "nhu_the_nao",
    "vs": "voi",
    "mk": "minh",
    "mik": "minh",
    "mn": "moi_nguoi",
    "ad": "admin",
    "tks": "cam_on",
    "thks": "cam_on",
    "thanks": "cam_on",
    "thank": "cam_on",
    "cmon": "cam_on",
    "nhiu": "nhieu",
    "bit": "biet",
    "mun": "muon",
    "sdt": "so_dien_thoai",
    # documents and offices
    "cccd": "can_cuoc",
    "cmnd": "chung_minh_nhan_dan",
    "gplx": "giay_phep_lai_xe",
    "gks": "giay_khai_sinh",
    "ubnd": "uy_ban",
    "gpxd": "giay_phep_xay_dung",
    "tthc": "thu_tuc",
    "dvc": "dich_vu_cong",
}


# Vietnamese phone numbers: 0 or +84, then 9 digits, with spaces, dots or dashes between.
# The engine's phone entity (hue_rasa/extractors.py) and the service's masking of phone
# numbers in exports (bot/nlu_review.py) use this one pattern.
PHONE_REGEX = r"(?<![\w+])(?:\+?84|0)(?:[\s.-]?\d){9}(?!\d)"
