"""The catalogue parser against records checked by hand, and the cell formats one by one.

fixtures/hand_checked.jsonl holds records copied verbatim from the national catalogue
(dichvucong.gov.vn, crawled 2026). Every expectation in HAND_CHECKED was written by reading
the raw record, not by running the parser: channels in table order as
(kind, time value, time unit, fee), the number of document rows with the first row (name,
quantity, copy kind, section), the number of legal bases with the first number, the result
documents, and which fields must stay raw. A name ending in "…" is a prefix.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bot.procedures.parsing import (
    Fee,
    ParsedProcedure,
    coverage,
    parse_channels,
    parse_documents,
    parse_legal_bases,
    parse_record,
    parse_result,
)

FIXTURE = Path(__file__).parent / "fixtures" / "hand_checked.jsonl"
RECORDS: dict[str, dict[str, Any]] = {
    json.loads(line)["ma_thu_tuc"]: json.loads(line)
    for line in FIXTURE.read_text(encoding="utf-8").splitlines()
    if line.strip()
}

WD, DAYS, HOURS, MONTHS = "working_days", "days", "hours", "months"
CH = "cach_thuc_thuc_hien"
DOCS = "thanh_phan_ho_so"
LEGAL = "can_cu_phap_ly"

HAND_CHECKED: dict[str, dict[str, Any]] = {
    # ------------------------------------------------------------------ bo-tu-phap
    "1.001193": {  # đăng ký khai sinh: time cells are bare numbers ("Trực tuyến1Miễn phí")
        "levels": ["commune"],
        "channels": [
            ("online", None, None, "free"),
            ("post", None, None, "free"),
            ("in_person", None, None, "free"),
        ],
        "docs": 33,
        "first_doc": (
            "Trường hợp trẻ em bị bỏ rơi thì phải có biên bản về việc trẻ bị bỏ rơi do cơ quan"
            " có thẩm quyền lập.",
            1,
            "original",
            "submit",
        ),
        "sections": {"submit": 5, "present": 6, None: 22},
        "doc_at": {
            5: (
                "Trường hợp không khai thác được thông tin hoặc thông tin khai thác được…",
                0,
                None,
                "present",
            ),
        },
        "legal": 15,
        "first_legal": "85/2019/TT-BTC",
        "results": ["Giấy khai sinh"],
        "raw": {CH},
    },
    "1.000894": {  # đăng ký kết hôn: "Miễn phí(Miễn lệ phí. Phí cấp bản sao…)" is not plain free
        "levels": ["commune"],
        "channels": [
            ("online", None, None, "raw"),
            ("post", None, None, "raw"),
            ("in_person", None, None, "raw"),
        ],
        "docs": 23,
        "first_doc": (
            "Hộ chiếu/Thẻ căn cước công dân/Thẻ căn cước/Căn cước điện tử/Giấy chứng nhận căn"
            " cước hoặc các giấy tờ khác có dán ảnh và thông tin cá nhân do cơ quan có thẩm quyền"
            " cấp, còn giá trị sử dụng (sau đây gọi tắt là giấy tờ tùy thân) để chứng minh về"
            " nhân thân khi làm thủ tục trực tiếp tại cơ quan đăng ký hộ tịch.",
            1,
            "original",
            "present",
        ),
        "sections": {"present": 6, None: 17},
        "legal": 16,
        "first_legal": "04/2020/TT-BTP",
        "results": ["Giấy chứng nhận kết hôn"],
        "raw": {CH},
    },
    "2.000815": {  # chứng thực bản sao: 2,000 đ/trang but tiered in the description -> raw
        "levels": ["commune", "other"],
        "channels": [
            ("in_person", None, None, "raw"),
            ("in_person", None, None, "amount:10 USD/bản"),
        ],
        "docs": 1,
        "first_doc": (
            "Bản chính giấy tờ, văn bản làm cơ sở để chứng thực bản sao và bản sao cần chứng"
            " thực. Trường hợp người yêu cầu…",
            1,
            "original",
            None,
        ),
        "legal": 6,
        "first_legal": "264/2016/TT-BTC",
        "results": ["Bản sao được chứng thực từ bản chính"],
        "raw": {CH},
    },
    "2.000884": {  # chứng thực chữ ký: the description repeats the amount, it does not change it
        "levels": ["commune", "other"],
        "channels": [
            ("in_person", None, None, "amount:10000 VND/trường hợp"),
            ("in_person", None, None, "amount:10 USD/bản"),
        ],
        "docs": 2,
        "first_doc": (
            "Một trong các giấy tờ sau: Căn cước điện tử; bản chính hoặc bản sao của Thẻ căn"
            " cước công dân…",
            1,
            "original",
            "present",
        ),
        "sections": {"present": 2},
        "legal": 8,
        "first_legal": "264/2016/TT-BTC",
        "results": ["Giấy tờ, văn bản được chứng thực chữ ký/điểm chỉ"],
        "raw": set(),
    },
    "1.011429": {  # "(/hồ sơ (Thông tư số 61/2023/TT-BTC))": a unit and a citation
        "levels": ["ministry"],
        "channels": [
            ("online", 3, WD, "amount:80000 VND/hồ sơ"),
            ("in_person", 3, WD, "amount:80000 VND/hồ sơ"),
            ("post", 3, WD, "amount:80000 VND/hồ sơ"),
        ],
        "docs": 6,
        "first_doc": (
            "Hợp đồng bảo đảm (01 bản chính hoặc 01 bản sao có chứng thực) (khoản 1 Điều 42"
            " Nghị định số 99/2022/NĐ-CP).",
            None,
            "other",
            None,
        ),
        "doc_at": {
            1: (
                "Phiếu yêu cầu theo Mẫu số 01c tại Phụ lục (01 bản chính) (khoản 1 Điều 42 Nghị"
                " định số 99/2022/NĐ-CP).",
                1,
                "original",
                None,
            ),
        },
        "forms": {1: ["Mau so 01c_Phieu yeu cau dang ky tau bien.docx"]},
        "legal": 3,
        "first_legal": "18/2026/NĐ-CP",
        "results": ["Giấy chứng nhận đăng ký biện pháp bảo đảm bằng tàu biển"],
        "raw": set(),
    },
    "1.000080": {  # "Miễn phí(Mức lệ phí cụ thể do Hội đồng nhân dân tỉnh… quyết định)"
        "levels": ["commune"],
        "channels": [
            ("online", None, None, "raw"),
            ("post", None, None, "raw"),
            ("in_person", None, None, "raw"),
        ],
        "docs": 28,
        "first_doc": (
            "Trường hợp không có văn bản nêu trên thì các bên nhận cha, mẹ, con lập văn bản cam"
            " đoan về mối quan hệ cha, mẹ, con, có ít nhất hai người làm chứng về mối quan hệ"
            " cha, mẹ, con.",
            1,
            "original",
            "submit",
        ),
        "sections": {"submit": 3, "present": 7, None: 18},
        "legal": 16,
        "first_legal": "85/2019/TT-BTC",
        "results": ["Trích lục đăng ký nhận cha, mẹ, con"],
        "raw": {CH},
    },
    "1.002626": {  # "500,000 Việt Nam ĐồngPhí: … (áp dụng mức phí 250.000 đồng…)" -> raw
        "levels": ["province"],
        "channels": [
            ("online", 5, WD, "raw"),
            ("in_person", 5, WD, "raw"),
            ("post", 5, WD, "raw"),
        ],
        "docs": 2,
        "first_doc": (
            "Giấy đề nghị đăng ký hành nghề quản lý, thanh lý tài sản với tư cách cá nhân",
            1,
            "original",
            None,
        ),
        "forms": {0: ["Mẫu TP-QTV-06.docx"]},
        "legal": 4,
        "first_legal": "64/2025/TT-BTC",
        "results": [
            "Ghi tên Quản tài viên vào danh sách Quản tài viên, doanh nghiệp quản lý, thanh lý"
            " tài sản tại địa phương."
        ],
        "raw": {CH},
    },
    "2.000913": {
        "levels": ["commune"],
        "channels": [
            ("in_person", None, None, "amount:30000 VND/giao dịch"),
            ("online", None, None, "amount:30000 VND/giao dịch"),
            ("post", None, None, "amount:30000 VND/giao dịch"),
        ],
        "docs": 2,
        "first_doc": (
            "Dự thảo giao dịch sửa đổi, bổ sung, hủy bỏ giao dịch đã được chứng thực.…",
            1,
            "original",
            None,
        ),
        "legal": 6,
        "first_legal": "23/2015/NĐ-CP",
        "results": ["Giao dịch được chứng thực"],
        "raw": set(),
    },
    # ------------------------------------------------------------------ bo-cong-an
    "1.014061": {  # cấp thẻ căn cước (cấp xã): forms glued after ")"
        "levels": ["commune"],
        "channels": [("in_person", 7, WD, "none_info"), ("online", 7, WD, "none_info")],
        "docs": 3,
        "first_doc": (
            "Phiếu thu thập thông tin dân cư (mẫu DC01 ban hành kèm theo Thông tư số"
            " 53/2025/TT-BCA ngày 01/7/2025 của Bộ Công an)",
            1,
            "original",
            None,
        ),
        "forms": {
            0: ["Mẫu DC01 Phiếu thu thập thông tin dân cư.docx"],
            1: ["Mẫu DC02 Phiếu đề nghị giải quyết thủ tục về căn cước.doc"],
        },
        "legal": 7,
        "first_legal": "17/2024/TT-BCA",
        "results": ["Thẻ căn cước"],
        "raw": set(),
    },
    "1.004222": {  # đăng ký thường trú: fees with "Trường hợp…" notes -> raw
        "levels": ["commune"],
        "channels": [("online", 7, WD, "raw"), ("in_person", 7, WD, "raw")],
        "docs": 18,
        "first_doc": (
            "Văn bản xác nhận của Ủy ban nhân dân cấp xã về địa điểm phương tiện đăng ký đậu,"
            " đỗ thường xuyên trong trường…",
            1,
            "original",
            None,
        ),
        "legal": 11,
        "first_legal": "66.7/2025/NQ-CP",
        "results": [
            "Cập nhật thông tin trong Cơ sở dữ liệu quốc gia về dân cư",
            "Thông báo kết quả giải quyết thủ tục về cư trú, hủy bỏ thủ tục về cư trú",
            "Phiếu từ chối tiếp nhận, giải quyết hồ sơ (lĩnh vực cư trú)",
            "Cập nhật thông tin trong Cơ sở dữ liệu về cư trú",
        ],
        "raw": {CH},
    },
    "1.001456": {  # cấp hộ chiếu phổ thông (cấp tỉnh): other amounts in the notes -> raw
        "levels": ["province"],
        "channels": [
            ("online", 8, WD, "raw"),
            ("post", 8, WD, "raw"),
            ("in_person", 8, WD, "raw"),
        ],
        "docs": 6,
        "first_doc": (
            "Bản sao giấy tờ do cơ quan có thẩm quyền của Việt Nam cấp chứng minh người đại diện"
            " hợp pháp đối với người mất năng lực hành vi dân sự, người có khó khăn trong nhận"
            " thức, làm chủ hành vi theo quy định của Bộ luật dân sự, người chưa đủ 14 tuổi;"
            " trường hợp không có bản sao thì nộp bản chụp và xuất trình bản chính để kiểm tra,"
            " đối chiếu.",
            None,
            "other",
            None,
        ),
        "forms": {1: ["Mau TK01a to khai trẻ em cap HCPT ở trong nước TK01a MỚI.doc"]},
        "legal": 6,
        "first_legal": "23/2023/QH15",
        "results": [
            "Hộ chiếu phổ thông không gắn chíp điện tử hoặc hộ chiếu phổ thông có gắn chíp điện tử."
        ],
        "raw": {CH},
    },
    "1.012575": {  # đăng ký xe lần đầu: "2 Ngày" (calendar days), free with a fee citation
        "levels": ["province", "commune"],
        "channels": [("online", 2, DAYS, "raw")],
        "docs": 3,
        "first_doc": (
            "Giấy khai đăng ký xe (mẫu ĐKX10/79 ban hành kèm theo Thông tư số 13/2025/TT-BCA"
            " ngày 28/02/2025 của Bộ trưởng Bộ Công an).",
            1,
            "original",
            None,
        ),
        "forms": {0: ["MauKX1079.docx"]},
        "legal": 5,
        "first_legal": "13/2025/TT-BCA",
        "results": ["Giấy chứng nhận đăng ký xe", "Biển số xe"],
        "raw": {CH},
    },
    "1.013076": {  # đăng ký sang tên xe: hours and working days, channels repeated per case
        "levels": ["ministry", "province", "commune"],
        "channels": [
            ("online", 2, WD, "raw"),
            ("in_person", 2, WD, "raw"),
            ("in_person", 7, WD, "raw"),
            ("in_person", 1, HOURS, "raw"),
            ("online", 7, WD, "raw"),
            ("online", 1, HOURS, "raw"),
        ],
        "docs": 10,
        "first_doc": ("Bản sao chứng từ chuyển quyền sở hữu xe", 1, "original", None),
        "forms": {3: ["MauKX11.docx"]},
        "legal": 5,
        "first_legal": "79/2024/TT-BCA",
        "results": ["Giấy chứng nhận thu hồi đăng ký, biển số xe", "Giấy chứng nhận đăng ký xe"],
        "raw": {CH},
    },
    "3.000340": {  # "Miễn phí(… 8.000.000/lần…)": free in name only; no legal bases
        "levels": ["ministry"],
        "channels": [
            ("online", 12, DAYS, "raw"),
            ("post", 12, DAYS, "raw"),
            ("in_person", 12, DAYS, "raw"),
        ],
        "docs": 5,
        "first_doc": ("Phương án kinh doanh.", 1, "original", None),
        "doc_at": {
            3: (
                "Giấy chứng nhận đăng ký doanh nghiệp, Giấy chứng nhận đăng ký đầu tư hoặc giấy"
                " tờ khác có giá trị tương đương.",
                5,
                "copy",
                None,
            ),
        },
        "legal": 0,
        "first_legal": None,
        "results": ["Giấy phép kinh doanh sản phẩm, dịch vụ an toàn thông tin mạng."],
        "raw": {CH},
    },
    "1.000232": {  # every cell "Không có thông tin": nothing guessed, nothing raw
        "levels": ["ministry"],
        "channels": [
            ("in_person", None, None, "none_info"),
            ("post", None, None, "none_info"),
            ("online", None, None, "none_info"),
        ],
        "docs": 1,
        "first_doc": ("Văn bản đề nghị hủy tài khoản điện tử (NA20).", 1, "original", None),
        "forms": {0: ["Mau NA20-BCA.docx"]},
        "legal": 4,
        "first_legal": "04/2015/TT-BCA",
        "results": ["Công văn thông báo hủy tài khoản điện tử (NB10)"],
        "raw": set(),
    },
    "1.000178": {  # post and in person only; result without the "Chọn cơ quan…" UI
        "levels": ["ministry"],
        "channels": [("post", 60, WD, "none_info"), ("in_person", 60, WD, "none_info")],
        "docs": 8,
        "first_doc": ("Tài liệu, chứng cứ do các bên cung cấp", 1, "original", None),
        "legal": 4,
        "first_legal": "68/2013/TT-BCA",
        "results": ["Quyết định giải quyết khiếu nại lần 1, lần 2"],
        "raw": set(),
    },
    "1.000771": {  # fees in USD
        "levels": ["ministry"],
        "channels": [
            ("online", 5, WD, "amount:10 USD/lần"),
            ("post", 5, WD, "amount:10 USD/lần"),
            ("in_person", 5, WD, "amount:10 USD/lần"),
        ],
        "docs": 4,
        "first_doc": (
            "Hộ chiếu hoặc giấy tờ có giá trị đi lại quốc tế hoặc giấy tờ cho phép thường trú do"
            " cơ quan có thẩm quyền của nước ngoài cấp cho người Việt Nam định cư ở nước ngoài.",
            1,
            "original",
            None,
        ),
        "doc_at": {1: ("Trường hợp nộp hồ sơ trực tuyến thì hộ chiếu…", 0, None, None)},
        "forms": {2: ["NA5.doc"]},
        "legal": 7,
        "first_legal": "23/2023/QH15",
        "results": ["Gia hạn tạm trú (không quá 06 tháng)"],
        "raw": set(),
    },
    "1.014984": {  # quantity glued to a year: "ngày 13/02/20261 bản chính"
        "levels": ["ministry"],
        "channels": [
            ("in_person", 3, WD, "amount:150000 VND"),
            ("online", 3, WD, "amount:150000 VND"),
            ("post", 3, WD, "amount:150000 VND"),
        ],
        "docs": 3,
        "first_doc": (
            "Văn bản đề nghị ghi đầy đủ nội dung theo mẫu quy định tại Phụ lục VIII ban hành kèm"
            " theo Nghị định 58/2026/NĐ-CP ngày 13/02/2026",
            1,
            "original",
            None,
        ),
        "legal": 2,
        "first_legal": "137/2020/NĐ-CP",
        "results": ["Giấy phép vận chuyển pháo hoa nổ, thuốc pháo nổ"],
        "raw": set(),
    },
    "1.004030": {  # months
        "levels": ["province"],
        "channels": [("in_person", 3, MONTHS, "none_info")],
        "docs": 8,
        "first_doc": (
            "Giấy chứng nhận sức khỏe do cơ quan y tế có thẩm quyền cấp quận, huyện trở lên cấp."
            " Giấy chứng nhận sức khoẻ có giá trị 6 tháng tính đến ngày nộp hồ sơ dự tuyển.",
            1,
            "original",
            None,
        ),
        "forms": {2: ["31-Mẫu số 1a-BCA(X13)-2014.doc"]},
        "legal": 2,
        "first_legal": "30/2009/TT-BCA",
        "results": ["Quyết định tạm tuyển, Quyết định tuyển dụng vào Công an nhân dân"],
        "raw": set(),
    },
    # ---------------------------------------------------------------- bo-tai-chinh
    "1.008331": {
        "levels": ["ministry", "province", "commune"],
        "channels": [
            ("online", None, None, "free"),
            ("post", None, None, "free"),
            ("in_person", None, None, "free"),
        ],
        "docs": 6,
        "first_doc": (
            "Tờ khai thuế cho các hãng Hàng không nước ngoài theo mẫu số 01/HKNN ban hành kèm"
            " theo Thông tư số 80/2021/TT-BTC…",
            1,
            "original",
            None,
        ),
        "legal": 7,
        "first_legal": "373/2025/NĐ-CP",
        "results": ["Hồ sơ gửi đến cơ quan thuế không có kết quả giải quyết"],
        "raw": {CH},
    },
    "1.000005": {  # "Trực tuyến120,000 VNĐ": time digits run into the amount; "Chứng từ phải nộp"
        "levels": ["commune"],
        "channels": [("online", None, None, "raw")],
        "docs": 19,
        "first_doc": (
            "a) Tờ khai hàng hóa nhập khẩu theo các chỉ tiêu thông tin tại Phụ lục II ban hành"
            " kèm theo Thông tư số 38/2015…",
            1,
            "original",
            "submit",
        ),
        "sections": {"submit": 8, None: 11},
        "legal": 3,
        "first_legal": "54/2014/QH13",
        "results": ["Xác nhận thông quan"],
        "raw": {CH},
    },
    "2.000821": {  # documents field holds the steps of another procedure: garbled, kept raw
        "levels": ["province", "commune"],
        "channels": [
            ("online", 8, WD, "free"),
            ("post", 8, WD, "free"),
            ("in_person", 8, WD, "free"),
        ],
        "docs": 0,
        "first_doc": None,
        "legal": 10,
        "first_legal": "01/2016/TT-BLĐTBXH",
        "results": 8,
        "first_result": "Tiền trợ cấp",
        "raw": {DOCS},
    },
    "1.009505": {  # two forms glued in one cell; fee note in words ("02 triệu đồng")
        "levels": ["province"],
        "channels": [
            ("online", 30, DAYS, "raw"),
            ("post", 30, DAYS, "raw"),
            ("in_person", 30, DAYS, "raw"),
        ],
        "docs": 13,
        "first_doc": (
            "Danh sách nhà đầu tư chứng khoán chuyên nghiệp tham gia góp vốn lập quỹ thành viên"
            " của quỹ sau hợp nhất, sáp nhập - Mẫu số 93 Phụ lục ban hành kèm theo Nghị định"
            " 155/2020/NĐ-CP ngày 31/12/2020 của Chính phủ.",
            1,
            "original",
            None,
        ),
        "forms": {
            0: ["Mẫu số 93 - danh sách nhà đầu tư.docx"],
            2: ["Phụ lục III - bc bạch.docx", "Phụ lục V.docx"],
        },
        "legal": 6,
        "first_legal": "25/2022/TT-BTC",
        "results": 3,
        "first_result": "Văn bản từ chối (nêu rõ lý do).",
        "raw": {CH},
    },
    "2.002009": {  # "Trực tuyến1100 VNĐ(…100.000 đồng/lần…)": cannot split time from fee
        "levels": ["ministry", "province"],
        "channels": [
            ("online", None, None, "raw"),
            ("post", None, None, "raw"),
            ("in_person", None, None, "raw"),
        ],
        "docs": 22,
        "first_doc": (
            "Văn bản ủy quyền cho cá nhân thực hiện thủ tục liên quan đến đăng ký doanh nghiệp."
            " Văn bản ủy quyền này không bắt buộc phải công chứng, chứng thực.",
            1,
            "original",
            None,
        ),
        "legal": 6,
        "first_legal": "64/2025/TT-BTC",
        "results": [
            "Văn bản nêu rõ lý do từ chối của Cơ quan đăng ký kinh doanh",
            "Giấy chứng nhận đăng ký doanh nghiệp",
            "Thông báo về việc sửa đổi, bổ sung hồ sơ đăng ký doanh nghiệp",
        ],
        "raw": {CH},
    },
    # ----------------------------------------------------------- bo-nong-nghiep-mt
    "1.011325": {  # amount restated with an exception "(trừ các đơn hàng…)" -> raw
        "levels": ["province"],
        "channels": [
            ("online", 5, WD, "raw"),
            ("post", 5, WD, "raw"),
            ("in_person", 5, WD, "raw"),
        ],
        "docs": 8,
        "first_doc": (
            "Các tài liệu nêu trên nếu bằng tiếng nước ngoài thì phải kèm theo bản dịch tiếng"
            " Việt có công chứng theo quy định của Luật Công chứng.",
            0,
            None,
            None,
        ),
        "forms": {2: ["Mẫu số 01.docx"]},
        "legal": 4,
        "first_legal": "101/2020/TT-BTC",
        "results": ["Giấy phép nhập khẩu, xuất khẩu"],
        "raw": {CH},
    },
    "1.004694": {  # "1 bản chính,1 bản sao"; a quantity glued to "01/01/2026"
        "levels": ["province"],
        "channels": [
            ("online", None, None, "free"),
            ("post", None, None, "free"),
            ("in_person", None, None, "free"),
        ],
        "docs": 5,
        "first_doc": ("Văn bản thành lập Tổ chức quản lý cảng cá", None, "other", None),
        "doc_at": {
            3: (
                "Đơn đề nghị công bố mở cảng cá theo Mẫu số 01.CC Phụ lục XII ban hành kèm theo"
                " Thông tư số 02/2026/TT-BNNMT ngày 01/01/2026",
                None,
                "other",
                None,
            ),
        },
        "legal": 3,
        "first_legal": "146/2025/QH15",
        "results": [
            "Quyết định công bố mở cảng cá theo theo Mẫu số 02.CC Phụ lục XII ban hành kèm theo"
            " Thông tư số 02/2026/TT-BNNMT ngày 01/01/2026"
        ],
        "raw": {CH},
    },
    "1.003984": {  # hours
        "levels": ["province"],
        "channels": [("in_person", 24, HOURS, "free")],
        "docs": 1,
        "first_doc": (
            "Giấy đăng ký kiểm dịch thực vật vận chuyển nội địa (theo mẫu qui định tại Phụ lục II"
            " ban hành kèm theo Thông tư 35/2015/TT-BNNPTNT).",
            1,
            "original",
            None,
        ),
        "forms": {0: ["Phụ lục II-TT35.docx"]},
        "legal": 2,
        "first_legal": "41/2013/QH13",
        "results": [
            "Giấy chứng nhận kiểm dịch thực vật nhập khẩu, quá cảnh và vận chuyển nội địa."
        ],
        "raw": set(),
    },
    "1.014250": {  # time "Không có thông tin" for one case, 29 working days for the other
        "levels": ["ministry"],
        "channels": [
            ("in_person", None, None, "none_info"),
            ("post", None, None, "none_info"),
            ("online", None, None, "none_info"),
            ("in_person", 29, WD, "none_info"),
            ("post", 29, WD, "none_info"),
            ("online", 29, WD, "none_info"),
        ],
        "docs": 6,
        "first_doc": (
            "Văn bản, tài liệu khẳng định việc chấm dứt hiệu lực của giấy phép khai thác khoáng"
            " sản, giấy phép khai thác tậ…",
            None,
            "other",
            None,
        ),
        "doc_at": {1: ("Bản đồ khu vực đóng cửa mỏ khoáng sản", 1, "original", None)},
        "forms": {1: ["Mau 09-Phu luc_39.2025.TT-BNNMT_02.7.2025.docx"]},
        "legal": 6,
        "first_legal": "193/2025/NĐ-CP",
        "results": [
            "Quyết định đóng cửa mỏ khoáng sản (đóng cửa một phần diện tích khu vực khai thác"
            " khoáng sản) thuộc thẩm quyền của Bộ trưởng Bộ Nông nghiệp và Môi trường"
        ],
        "raw": set(),
    },
    "1.014232": {  # amount whose note only cites the fee regulation
        "levels": ["ministry"],
        "channels": [
            ("in_person", None, None, "amount:4000000 VND"),
            ("post", None, None, "amount:4000000 VND"),
            ("online", None, None, "amount:4000000 VND"),
            ("in_person", None, None, "amount:4000000 VND"),
            ("post", None, None, "amount:4000000 VND"),
            ("online", None, None, "amount:4000000 VND"),
        ],
        "docs": 11,
        "first_doc": ("Văn bản đề nghị cấp giấy phép thăm dò khoáng sản", 1, "original", None),
        "forms": {0: ["Mau 01-Phu luc I_37.2025.TT-BNNMT_02.7.2025.docx"]},
        "legal": 7,
        "first_legal": "37/2025/TT-BNNMT",
        "results": [
            "Giấy phép thăm dò khoáng sản thuộc thẩm quyền cấp của Bộ trưởng Bộ Nông nghiệp và"
            " Môi trường"
        ],
        "raw": set(),
    },
    # ----------------------------------------------------------------- bo-xay-dung
    "1.013225": {  # giấy phép xây dựng … nhà ở riêng lẻ: fee set by the province -> raw
        "levels": ["commune", "other"],
        "channels": [
            ("online", 20, DAYS, "raw"),
            ("post", 20, DAYS, "raw"),
            ("in_person", 15, DAYS, "raw"),
        ],
        "docs": 53,
        "first_doc": (
            "Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất được cấp"
            " theo quy định của pháp luật…",
            None,
            "other",
            None,
        ),
        "doc_at": {
            10: (
                "02 bộ bản vẽ thiết kế xây dựng trong hồ sơ thiết kế xây dựng triển khai sau"
                " thiết kế cơ sở…",
                2,
                "original",
                None,
            ),
        },
        "legal": 7,
        "first_legal": "140/2025/NĐ-CP",
        "results": [
            "Giấy phép xây dựng kèm theo hồ sơ thiết kế trình xin cấp giấy phép xây dựng có đóng"
            " dấu của cơ quan có thẩm quyền cấp giấy phép xây dựng.."
        ],
        "raw": {CH},
    },
    "6.003636": {
        "levels": ["province"],
        "channels": [
            ("in_person", 15, DAYS, "free"),
            ("online", 15, DAYS, "free"),
            ("post", 15, DAYS, "free"),
        ],
        "docs": 3,
        "first_doc": (
            "Tờ trình đề nghị chấp thuận nhà đầu tư theo Mẫu số 05 quy định tại Phụ lục ban hành"
            " kèm theo Nghị định số 98/2024/NĐ-CP ngày 25/7/2024 của Chính phủ quy định chi tiết"
            " một số điều của Luật Nhà ở về cải tạo, xây dựng lại nhà chung cư",
            1,
            "original",
            None,
        ),
        "legal": 2,
        "first_legal": "27/2023/QH15",
        "results": ["Quyết định chấp thuận nhà đầu tư."],
        "raw": set(),
    },
    "1.004306": {  # "Miễn phí(15000000/lần Đồng … Phí: 18000000/loại Đồng …)"
        "levels": ["ministry"],
        "channels": [("post", 18, DAYS, "raw"), ("in_person", 18, DAYS, "raw")],
        "docs": 4,
        "first_doc": (
            "Đơn đề nghị gia hạn Giấy chứng nhận Người khai thác tàu bay bao gồm các thông tin"
            " sau: tên doanh nghiệp, tên giao dịch, địa điểm trụ sở chính;…",
            1,
            "original",
            None,
        ),
        "legal": 8,
        "first_legal": "71/2025/TT-BXD",
        "results": ["Giấy chứng nhận Người khai thác tàu bay (AOC)."],
        "raw": {CH},
    },
    "1.002613": {  # fee note "Từ ngày … áp dụng theo Thông tư 64/2025"; a legal row run on
        "levels": ["ministry", "province"],
        "channels": [
            ("in_person", 20, WD, "raw"),
            ("post", 20, WD, "raw"),
            ("online", 20, WD, "raw"),
        ],
        "docs": 5,
        "first_doc": ("Đơn đề nghị cấp lại Giấy chứng nhận", 1, "original", None),
        "forms": {
            0: [
                "Mẫu đơn xin cấp lại (gia hạn) Giấy chứng nhận đủ điều kiện hoạt động kiểm định"
                " kỹ thuật an toàn lao động.docx"
            ]
        },
        # Eight bases by hand; "…25/6/2015); 84/2015/QH13 nghị quyết của Chính phủ…24/2026/NQ-CP"
        # runs two of them together, so only the six certain ones are kept.
        "legal": 6,
        "first_legal": "44/2016/NĐ-CP",
        "results": [
            "Giấy chứng nhận đủ điều kiện hoạt động kiểm định kỹ thuật an toàn lao động cho các"
            " tổ chức thực hiện được cấp lại"
        ],
        "raw": {CH, LEGAL},
    },
    "1.003978": {  # "Miễn phí" then fee regulations in the description -> raw; three sections
        "levels": ["ministry"],
        "channels": [
            ("online", None, None, "raw"),
            ("post", None, None, "raw"),
            ("in_person", None, None, "raw"),
        ],
        "docs": 16,
        "first_doc": ("Danh sách thuyền viên.", 1, "original", None),
        "sections": {None: 4, "submit": 6, "present": 6},
        "forms": {0: ["MauDanhsachthuyenvien (2).docx"]},
        "legal": 8,
        "first_legal": "95/2015/QH13",
        "results": ["Kế hoạch điều động tàu thuyền."],
        "raw": {CH},
    },
    "6.005715": {  # trailing "--" in documents; "Luật Thi đua khen thưởng 202206Quy định…"
        "levels": ["ministry"],
        "channels": [
            ("in_person", 10, DAYS, "none_info"),
            ("online", 10, DAYS, "none_info"),
            ("post", 10, DAYS, "none_info"),
        ],
        "docs": 1,
        "first_doc": (
            "Tờ trình đề nghị thu hồi đối với từng danh hiệu thi đua, loại hình khen thưởng của cá"
            " nhân, tập thể, hộ gia…",
            1,
            "original",
            None,
        ),
        "legal": 1,
        "first_legal": "152/2025/NĐ-CP",
        "results": ["Quyết định hủy bỏ quyết định tặng danh hiệu thi đua, hình thức khen thưởng"],
        "result_description": "- Cá nhân, tập thể, hộ gia đình có hành vi thuộc các trường hợp",
        "raw": {LEGAL},
    },
    # --------------------------------------------------------- ngan-hang-nha-nuoc
    "1.001651": {  # "73/2025/TT-NHNNSố 73/2025/TT-NHNN": title and number cell alike
        "levels": ["ministry", "province"],
        "channels": [
            ("online", 10, DAYS, "free"),
            ("post", 10, DAYS, "free"),
            ("in_person", 10, DAYS, "free"),
        ],
        "docs": 3,
        "first_doc": (
            "Phương án xử lý các rủi ro phát sinh do việc tạm ngừng giao dịch, trong đó bao gồm"
            " các giải pháp dự kiến thực hiện để giảm thiểu tối đa ảnh hưởng của việc tạm ngừng"
            " giao dịch đến quyền và lợi ích của khách hàng.",
            1,
            "original",
            None,
        ),
        "forms": {2: ["Phụ lục VIII.docx"]},
        "legal": 2,
        "first_legal": "73/2025/TT-NHNN",
        "results": [
            "Văn bản chấp thuận tạm ngừng giao dịch của tổ chức tín dụng là hợp tác xã",
            "Văn bản từ chối tạm ngừng giao dịch của tổ chức tín dụng là hợp tác xã",
        ],
        "raw": set(),
    },
    "1.007956": {  # a row ends "…;1 bản chính (2). Đối với…"; result with a real description
        "levels": ["ministry", "province"],
        "channels": [
            ("online", 30, DAYS, "raw"),
            ("post", 30, DAYS, "raw"),
            ("in_person", 30, DAYS, "raw"),
        ],
        "docs": 21,
        "first_doc": (
            "Đơn đề nghị cấp đổi Giấy phép, trong đơn cần nêu rõ các nội dung hoạt động đề nghị"
            " thực hiện. - Danh mục các nội dung hoạt động kèm theo thông tin Giấy phép hiện"
            " hành, các văn bản chấp thuận;",
            1,
            "original",
            None,
        ),
        "legal": 6,
        "first_legal": "66/2025/TT-NHNN",
        "results": 4,
        "first_result": (
            "MẪU GIẤY PHÉP CẤP ĐỔI GIẤY PHÉP THÀNH LẬP CHI NHÁNH NGÂN HÀNG NƯỚC NGOÀI (DO GIÁM"
            " ĐỐC NGÂN HÀNG NHÀ NƯỚC CHI NHÁNH KHU VỰC CẤP)"
        ),
        "result_description": "- Đối tượng thực hiện thủ tục hành chính:",
        "raw": {CH},
    },
    "1.003463": {
        "levels": ["province"],
        "channels": [
            ("online", 20, WD, "free"),
            ("post", 20, WD, "free"),
            ("in_person", 20, WD, "free"),
        ],
        "docs": 3,
        "first_doc": (
            "Các giấy tờ cần thiết có liên quan đến việc thay đổi quy định tại khoản 1 Điều 6a"
            " Quy chế đại lý đổi ngoại tệ ban hành kèm theo Quyết định số 21/2008/QĐ-NHNN (đã"
            " được sửa đổi, bổ sung);",
            1,
            "original",
            None,
        ),
        "forms": {2: ["PL 5 PL II TT75.docx"]},
        "legal": 4,
        "first_legal": "75/2025/TT-NHNN",
        "results": [
            "Giấy chứng nhận đăng ký thay đổi đại lý đổi ngoại tệ",
            "Văn bản từ chối cấp Giấy chứng nhận đăng ký thay đổi đại lý đổi ngoại tệ",
        ],
        "raw": set(),
    },
    "1.012518": {  # a free fee whose description only gives the time
        "levels": ["ministry"],
        "channels": [
            ("online", 10, WD, "free"),
            ("post", 10, WD, "free"),
            ("in_person", 10, WD, "free"),
        ],
        "docs": 1,
        "first_doc": (
            "Đơn đề nghị thu hồi văn bản chấp thuận hoạt động cung ứng dịch vụ thanh toán không"
            " qua tài khoản thanh toán của khách hàng theo Mẫu số 05 ban hành kèm theo Nghị định"
            " 52/2024/NĐ-CP ngày 15/5/2024 (đối với trường hợp tại điểm b mục 3.1) hoặc Văn bản"
            " thông báo (đối với trường hợp tại điểm a mục 3.1).",
            1,
            "original",
            None,
        ),
        "forms": {0: ["Mẫu số 05.docx"]},
        "legal": 1,
        "first_legal": "52/2024/NĐ-CP",
        "results": [
            "Quyết định thu hồi Văn bản chấp thuận hoạt động cung ứng dịch vụ thanh toán không qua"
            " tài khoản thanh toán của khách hàng."
        ],
        "raw": set(),
    },
    "1.001815": {  # plain amount, no note
        "levels": ["ministry"],
        "channels": [
            ("online", 30, DAYS, "amount:200000 VND"),
            ("post", 30, DAYS, "amount:200000 VND"),
            ("in_person", 30, DAYS, "amount:200000 VND"),
        ],
        "docs": 8,
        "first_doc": (
            "b) Biên bản và Nghị quyết cuộc họp thành viên góp vốn đầu tiên về việc thông qua"
            " Điều lệ, bầu, bổ nhiệm các ch…",
            1,
            "original",
            None,
        ),
        "legal": 5,
        "first_legal": "150/2016/TT-BTC",
        "results": ["Giấy phép hoạt động tổ chức tài chính vi mô"],
        "raw": set(),
    },
    "1.001283": {  # free online, "Không có thông tin" for the other channels
        "levels": ["ministry"],
        "channels": [
            ("online", 3, WD, "free"),
            ("in_person", 3, WD, "none_info"),
            ("post", 3, WD, "none_info"),
        ],
        "docs": 1,
        "first_doc": (
            "Đề nghị điều chỉnh thông tin ngân hàng theo Phụ lục 03.",
            1,
            "original",
            None,
        ),
        "forms": {0: ["Phụ lục số 03.docx"]},
        "legal": 4,
        "first_legal": "17/2015/TT-NHNN",
        "results": ["Thông báo điện tử về việc điều chỉnh thông tin ngân hàng", "Văn bản từ chối"],
        "raw": set(),
    },
    # ------------------------------------------------------------- toa-an-nhan-dan
    "3.000163": {  # legal table followed by a "Cơ quan thực hiện" table: tail kept raw
        "levels": ["ministry", "province", "commune"],
        "channels": [("online", None, None, "free"), ("in_person", None, None, "free")],
        "docs": 3,
        "first_doc": ("Đơn khởi kiện", 1, "original", "submit"),
        "sections": {"submit": 2, None: 1},
        "doc_at": {
            1: ("Tài liệu, chứng cứ kèm theo (nếu có)", 1, "copy", "submit"),
            2: ("Tài liệu, chứng cứ kèm theo (nếu có)", None, "other", None),
        },
        "legal": 4,
        "first_legal": "02/2014/TTLT-TANDTC-VKSNDTC-BTP-BTC",
        "results": ["Văn bản tố tụng của Tòa án theo tiến trình giải quyết"],
        "raw": {CH, LEGAL},
    },
}

CITIZEN_PROCEDURES = {
    "1.001193": "đăng ký khai sinh",
    "1.014061": "cấp thẻ căn cước",
    "1.004222": "đăng ký thường trú",
    "1.000894": "đăng ký kết hôn",
    "1.001456": "cấp hộ chiếu phổ thông",
    "2.000815": "chứng thực bản sao",
    "1.013225": "cấp giấy phép xây dựng … nhà ở riêng lẻ",
    "1.012575": "đăng ký xe",
}


def fee_summary(fee: Fee) -> str:
    if fee.kind == "amount":
        return f"amount:{fee.amount} {fee.currency}" + (f"/{fee.per}" if fee.per else "")
    return fee.kind


def same_text(actual: str | None, expected: str | None) -> bool:
    if expected is None or actual is None:
        return actual == expected
    if expected.endswith("…"):
        return actual.startswith(expected[:-1])
    return actual == expected


def check_document(parsed: ParsedProcedure, index: int, expected: tuple[Any, ...]) -> None:
    name, quantity, copy_kind, section = expected
    document = parsed.documents[index]
    assert same_text(document.name, name), (index, document.name)
    assert document.quantity == quantity, (index, document.text)
    assert document.copy_kind == copy_kind, (index, document.text)
    assert document.section == section, (index, document.group)


# ----------------------------------------------------------------------- fixture


def test_fixture_is_verbatim_and_covers_every_ministry() -> None:
    assert set(RECORDS) == set(HAND_CHECKED)
    assert len(RECORDS) >= 36
    ministries = Counter(record["ministry_folder"] for record in RECORDS.values())
    for ministry in (
        "bo-tai-chinh",
        "bo-nong-nghiep-mt",
        "bo-xay-dung",
        "bo-cong-an",
        "bo-tu-phap",
        "ngan-hang-nha-nuoc",
    ):
        assert ministries[ministry] >= 5, ministry
    assert ministries["toa-an-nhan-dan"] >= 1
    assert set(CITIZEN_PROCEDURES) <= set(RECORDS)
    # Raw records: the flattened headers are still there, nothing was cleaned beforehand.
    assert all(
        RECORDS[code]["cach_thuc_thuc_hien"].startswith("Hình thức nộpThời gian")
        for code in RECORDS
    )


@pytest.mark.parametrize("code", sorted(HAND_CHECKED))
def test_hand_checked_record(code: str) -> None:
    expected = HAND_CHECKED[code]
    parsed = parse_record(RECORDS[code])

    assert parsed.code == code
    assert parsed.ministry == RECORDS[code]["ministry_folder"]
    assert parsed.levels == expected["levels"]

    channels = [(c.kind, c.time.value, c.time.unit, fee_summary(c.fee)) for c in parsed.channels]
    assert channels == expected["channels"]
    for channel in parsed.channels:
        # A value is only ever given with its unit, and never for a cell kept raw.
        assert (channel.time.value is None) == (channel.time.unit is None)
        if not channel.fee.parsed:
            assert channel.fee.kind == "raw" and channel.fee.amount is None
            assert channel.fee.text

    assert len(parsed.documents) == expected["docs"]
    if expected["first_doc"] is not None:
        check_document(parsed, 0, expected["first_doc"])
    for index, document in expected.get("doc_at", {}).items():
        check_document(parsed, index, document)
    for index, forms in expected.get("forms", {}).items():
        assert parsed.documents[index].forms == forms
        assert parsed.documents[index].form == forms[0]
        assert parsed.documents[index].parsed
    if "sections" in expected:
        assert Counter(d.section for d in parsed.documents) == Counter(expected["sections"])

    assert len(parsed.legal_bases) == expected["legal"]
    first_number = parsed.legal_bases[0].number if parsed.legal_bases else None
    assert first_number == expected["first_legal"]

    if isinstance(expected["results"], int):
        assert len(parsed.results) == expected["results"]
        assert parsed.results[0] == expected["first_result"]
    else:
        assert parsed.results == expected["results"]
    assert parsed.result == "\n".join(parsed.results)
    assert "Mã:" not in (parsed.result or "") and "Nộp hồ sơ" not in (parsed.result or "")
    if "result_description" in expected:
        assert (parsed.result_description or "").startswith(expected["result_description"])
    else:
        assert parsed.result_description is None

    assert set(parsed.raw) == expected["raw"]
    for field, text in parsed.raw.items():
        assert text == " ".join(unicodedata.normalize("NFC", RECORDS[code][field]).split())


def test_garbled_documents_stay_raw() -> None:
    record = RECORDS["2.000821"]  # thanh_phan_ho_so holds the steps of the procedure
    parsed = parse_record(record)
    assert parsed.documents == []
    assert parsed.raw["thanh_phan_ho_so"].startswith("Bước 2. Nộp hồ sơ")
    assert "documents" in parsed.problems


def test_garbled_channel_table_keeps_text_and_marks_cells() -> None:
    record = dict(RECORDS["1.000232"])
    record["cach_thuc_thuc_hien"] = (
        "Hình thức nộpThời gianPhí, lệ phíMô tảTrực tuyến120,000 VNĐ(Theo khoản 1 Điều 3)"
        "Trực tiếpKhông quy địnhMiễn phíTại trụ sở"
    )
    parsed = parse_record(record)
    online, in_person = parsed.channels
    assert online.time.parsed is False and online.time.value is None
    assert online.fee.parsed is False and online.fee.kind == "raw"
    assert online.fee.text == "120,000 VNĐ(Theo khoản 1 Điều 3)"
    assert in_person.time.parsed is False and in_person.time.text == "Không quy định"
    assert in_person.fee.kind == "free" and in_person.description == "Tại trụ sở"
    assert parsed.raw["cach_thuc_thuc_hien"] == record["cach_thuc_thuc_hien"]


def test_unparsable_tables_are_kept_whole() -> None:
    channels, problems = parse_channels("Trực tiếp7 NgàyMiễn phí")  # no header
    assert channels == [] and problems == ["channels"]
    bases, problems = parse_legal_bases(": Thông tư 269/2016/TT-BTC ngày 14/11/2016.)")
    assert bases == [] and problems == ["legal_bases"]


# ------------------------------------------------------------ channels, one cell

H = "Hình thức nộpThời gianPhí, lệ phíMô tả"


def one_channel(row: str) -> tuple[Any, ...]:
    channels, _ = parse_channels(H + row)
    assert len(channels) == 1
    c = channels[0]
    return c.kind, c.time.value, c.time.unit, c.time.parsed, fee_summary(c.fee), c.fee.parsed


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("Trực tuyến7 Ngày làm việcMiễn phí", ("online", 7, WD, True, "free", True)),
        ("Trực tiếp15 NgàyMiễn phí", ("in_person", 15, DAYS, True, "free", True)),
        ("Dịch vụ bưu chính24 GiờMiễn phí", ("post", 24, HOURS, True, "free", True)),
        ("Trực tiếp3 ThángKhông có thông tin", ("in_person", 3, MONTHS, True, "none_info", True)),
        ("Trực tiếp1.5 Ngày làm việcMiễn phí", ("in_person", 1.5, WD, True, "free", True)),
        # No unit: the number is never given a unit ("Trực tuyến7Miễn phí").
        ("Trực tuyến7Miễn phí", ("online", None, None, False, "free", True)),
        (
            "Trực tiếpKhông có thông tinKhông có thông tin",
            ("in_person", None, None, True, "none_info", True),
        ),
        ("Trực tuyếnKhông quy địnhMiễn phí", ("online", None, None, False, "free", True)),
    ],
)
def test_time_cells(row: str, expected: tuple[Any, ...]) -> None:
    assert one_channel(row) == expected


@pytest.mark.parametrize(
    ("fee", "expected"),
    [
        ("Miễn phí", "free"),
        ("Miễn phí(Không có)", "free"),
        ("Miễn phí(Không quy định.)", "free"),
        ("Miễn phí(Mức lệ phí (nếu có) theo quy định của Hội đồng nhân dân cấp tỉnh.)", "raw"),
        ("Miễn phí(20.000.000 đồng/lần)", "raw"),
        ("Miễn phí(", "raw"),
        ("Không có thông tin", "none_info"),
        ("2,000 Việt Nam Đồng(/trang)", "amount:2000 VND/trang"),
        ("30,000 Việt Nam Đồng(/giao dịch)", "amount:30000 VND/giao dịch"),
        ("2,500,000 VNĐ(đồng/lần)", "amount:2500000 VND/lần"),
        ("70,000 VNĐ(70.000 đồng/Giấy chứng nhận)", "amount:70000 VND/Giấy chứng nhận"),
        ("150,000 VNĐ(150.000 đồng/1 giấy.)", "amount:150000 VND/giấy"),
        ("1,200,000 Việt Nam Đồng", "amount:1200000 VND"),
        ("10 USD(10USD/giấy)", "amount:10 USD/giấy"),
        # The portal shows thousands of đồng; the note gives the amount.
        ("100 VNĐ(100.000 đồng/lần.)", "amount:100000 VND/lần"),
        ("850 VNĐ", "raw"),
        ("155 VNĐ(Thẻ tạm trú có thời hạn từ trên 02 năm đến 05 năm: 155 USD/thẻ.)", "raw"),
        (
            "800,000 Việt Nam Đồng((áp dụng mức phí 400.000 đồng/hồ sơ kể từ ngày 01/7/2025 đến"
            " hết ngày 31/12/2026 theo Thông tư số 64/2025/TT-BTC))",
            "raw",
        ),
        (
            "20,000,000 VNĐ(đồng/lần (Miễn phí từ ngày 07/4/2026 đến 30/6/2026 theo quy định tại"
            " Thông tư 40/2026/TT-BTC)",
            "raw",
        ),
        ("40,000 Việt Nam Đồng(40.000đ/giấy thông hành (áp dụng đến hết ngày 31/12/2024).)", "raw"),
    ],
)
def test_fee_cells(fee: str, expected: str) -> None:
    kind, value, unit, time_parsed, summary, fee_parsed = one_channel(
        "Trực tiếp5 Ngày làm việc" + fee
    )
    assert (kind, value, unit, time_parsed) == ("in_person", 5, WD, True)
    assert summary == expected
    assert fee_parsed == (expected != "raw")


def test_fee_description_that_changes_the_amount_makes_it_raw() -> None:
    row = (
        "Trực tuyến5 Ngày làm việc500,000 Việt Nam ĐồngPhí: 500.000 đồng/hồ sơ (áp dụng mức phí"
        " 250.000 đồng/hồ sơ kể từ ngày 01/7/2025 đến hết ngày 31/12/2026)."
    )
    channels, problems = parse_channels(H + row)
    assert channels[0].fee.kind == "raw" and channels[0].fee.amount is None
    assert channels[0].description.startswith("Phí: 500.000 đồng/hồ sơ")
    assert problems == ["fee"]


def test_fee_items_are_listed_for_raw_cells() -> None:
    row = (
        "Trực tuyếnKhông có thông tin400,000 Việt Nam Đồng(Lệ phí : 400.000 Đồng (Mức thu lệ phí:"
        " 400.000đ/trường hợp. Miễn lệ phí đăng ký nuôi con nuôi trong nước đối với trường hợp"
        " cha dượng hoặc mẹ kế nhận con riêng.))"
    )
    fee = parse_channels(H + row)[0][0].fee
    assert fee.kind == "raw" and not fee.parsed
    assert [(i.label, i.amount, i.currency) for i in fee.items] == [("Lệ phí", 400000, "VND")]


def test_channel_names_inside_descriptions_do_not_start_rows() -> None:
    row = (
        "Trực tuyến5 Ngày làm việcKhông có thông tin- Trực tuyến: nộp qua Cổng dịch vụ công;"
        " Trực tiếp tại Bộ phận Một cửa."
        "Trực tiếp5 Ngày làm việcMiễn phí"
    )
    channels, problems = parse_channels(H + row)
    assert [c.kind for c in channels] == ["online", "in_person"]
    assert channels[0].description.endswith("Trực tiếp tại Bộ phận Một cửa.")
    assert problems == []


# ------------------------------------------------------------ documents, one cell

D = "Tên giấy tờMẫu đơn, tờ khaiSố lượng"


def rows(text: str) -> list[tuple[Any, ...]]:
    documents, _ = parse_documents(text)
    return [(d.name, d.quantity, d.copy_kind, d.forms, d.parsed) for d in documents]


def test_quantity_cells() -> None:
    text = (
        "--" + D + "Đơn đề nghị1 bản chính"
        "Bản sao giấy phép0 bản chính,1 bản sao"
        "Văn bản thành lập1 bản chính,1 bản sao"
        "Lưu ý: không phải nộp bản giấy.0 bản chính"
        "Văn bằng0 bản chính,5 bản sao"
    )
    assert rows(text) == [
        ("Đơn đề nghị", 1, "original", [], True),
        ("Bản sao giấy phép", 1, "copy", [], True),
        ("Văn bản thành lập", None, "other", [], True),
        ("Lưu ý: không phải nộp bản giấy.", 0, None, [], True),
        ("Văn bằng", 5, "copy", [], True),
    ]


def test_quantity_glued_to_digits_and_quantities_inside_names() -> None:
    text = (
        "--" + D + "Đơn theo Mẫu số 01.CC ban hành kèm theo Thông tư ngày 01/01/20261 bản chính"
        "Hóa đơn thương mại: 01 bản chính1 bản chính"
        "Phiếu yêu cầu (01 bản chính) (khoản 1 Điều 42).1 bản chính"
        "Tờ khai; nộp 02 bản chính tờ khai hải quan;1 bản chính"
    )
    assert [r[:3] for r in rows(text)] == [
        ("Đơn theo Mẫu số 01.CC ban hành kèm theo Thông tư ngày 01/01/2026", 1, "original"),
        ("Hóa đơn thương mại: 01 bản chính", 1, "original"),
        ("Phiếu yêu cầu (01 bản chính) (khoản 1 Điều 42).", 1, "original"),
        ("Tờ khai; nộp 02 bản chính tờ khai hải quan;", 1, "original"),
    ]


def test_row_ending_before_a_space_and_a_new_heading() -> None:
    text = (
        "(1). Cấp đổi"
        + D
        + "- Đơn đề nghị;1 bản chính (2). Cấp bổ sung"
        + D
        + "- Đơn bổ sung1 bản chính"
    )
    documents, problems = parse_documents(text)
    assert [(d.name, d.group) for d in documents] == [
        ("Đơn đề nghị;", "(1). Cấp đổi"),
        ("Đơn bổ sung", "(2). Cấp bổ sung"),
    ]
    assert problems == []


def test_sections() -> None:
    text = (
        "* Giấy tờ phải nộp:" + D + "Tờ khai1 bản chính"
        "* Giấy tờ phải xuất trình:" + D + "Giấy tờ tùy thân1 bản chính"
        "* Lưu ý:" + D + "Ghi chú0 bản chính"
    )
    documents, _ = parse_documents(text)
    assert [(d.name, d.section) for d in documents] == [
        ("Tờ khai", "submit"),
        ("Giấy tờ tùy thân", "present"),
        ("Ghi chú", None),
    ]


@pytest.mark.parametrize(
    ("row", "name", "forms", "parsed"),
    [
        (
            "Văn bản đề nghị hủy tài khoản điện tử (NA20).Mau NA20-BCA.docx",
            "Văn bản đề nghị hủy tài khoản điện tử (NA20).",
            ["Mau NA20-BCA.docx"],
            True,
        ),
        (
            "+ Đơn đề nghị cấp lại Giấy chứng nhậnMẫu đơn xin cấp lại (gia hạn).docx",
            "Đơn đề nghị cấp lại Giấy chứng nhận",
            ["Mẫu đơn xin cấp lại (gia hạn).docx"],
            True,
        ),
        (
            "Bản cáo bạch theo Mẫu Phụ lục III, V.Phụ lục III - bc bạch.docxPhụ lục V.docx",
            "Bản cáo bạch theo Mẫu Phụ lục III, V.",
            ["Phụ lục III - bc bạch.docx", "Phụ lục V.docx"],
            True,
        ),
        (
            "Tờ khai (Mẫu CT01 ban hành kèm theo Thông tư số 53/2025/TT-BCA).1.MuCT01banhnhkm.doc",
            "Tờ khai (Mẫu CT01 ban hành kèm theo Thông tư số 53/2025/TT-BCA).1.MuCT01banhnhkm.doc",
            [],
            False,  # the file name has glue points of its own: where it starts is unknown
        ),
        (
            "+ Danh sách nhân sự.ds nhân sự.docx",
            "Danh sách nhân sự.ds nhân sự.docx",
            [],
            False,
        ),
    ],
)
def test_form_file_names(row: str, name: str, forms: list[str], parsed: bool) -> None:
    assert rows("--" + D + row + "1 bản chính") == [(name, 1, "original", forms, parsed)]


def test_documents_placeholders() -> None:
    assert parse_documents("") == ([], [])
    assert parse_documents("--") == ([], [])
    assert parse_documents("Không có thông tin") == ([], [])
    assert parse_documents("--" + D + "Tờ trình1 bản chính--")[1] == []
    assert parse_documents("--" + D + "Tờ trình1 bản chínhGhi chú không có số lượng")[1] == [
        "documents"
    ]


# ---------------------------------------------------------- legal bases, one cell

L = "Tên văn bản pháp lýMã văn bản"


def pairs(text: str) -> tuple[list[tuple[str, str | None]], list[str]]:
    bases, problems = parse_legal_bases(L + text)
    return [(b.title, b.number) for b in bases], problems


def test_legal_title_ending_with_its_number() -> None:
    assert pairs("Nghị định 105/2021/NĐ-CP105/2021/NĐ-CPLuật 54/2014/QH1354/2014/QH13") == (
        [("Nghị định 105/2021/NĐ-CP", "105/2021/NĐ-CP"), ("Luật 54/2014/QH13", "54/2014/QH13")],
        [],
    )


def test_legal_number_cell_with_its_document_type() -> None:
    assert pairs(
        "73/2025/TT-NHNNSố 73/2025/TT-NHNNLuật Các tổ chức tín dụngLuật số 32/2024/QH15"
        "Thông tư02/2026/TT-BNNMTLuậtLuật 18/2017/QH14"
    ) == (
        [
            ("73/2025/TT-NHNN", "73/2025/TT-NHNN"),
            ("Luật Các tổ chức tín dụng", "32/2024/QH15"),
            ("Thông tư", "02/2026/TT-BNNMT"),
            ("Luật", "18/2017/QH14"),
        ],
        [],
    )


def test_legal_symbols_that_swallow_the_next_title() -> None:
    assert pairs(
        "Về đăng ký biện pháp bảo đảm99/2022/NĐ-CPThông tư số 61/2023/TT-BTC quy định mức thu"
        "61/2023/TT-BTCNghị định 166/2016/NĐ-CP-Quy định về giao dịch điện tử"
        "166/2016/NĐ-CPLUẬT Bảo hiểm xã hội58/2014/QH13hông tư số 06/2025/TT-BTC của Bộ Tài chính"
        "06/2025/TT-BTC"
    ) == (
        [
            ("Về đăng ký biện pháp bảo đảm", "99/2022/NĐ-CP"),
            ("Thông tư số 61/2023/TT-BTC quy định mức thu", "61/2023/TT-BTC"),
            ("Nghị định 166/2016/NĐ-CP-Quy định về giao dịch điện tử", "166/2016/NĐ-CP"),
            ("LUẬT Bảo hiểm xã hội", "58/2014/QH13"),
            ("hông tư số 06/2025/TT-BTC của Bộ Tài chính", "06/2025/TT-BTC"),
        ],
        [],
    )


def test_legal_numbers_glued_to_a_year_or_to_a_date() -> None:
    assert pairs(
        "Luật Công chứng năm 202446/2024/QH15Thông tư số 53/2025/TT-BCAngày 01/7/2025 của Bộ"
        " Công an53/2025/TT-BCA"
    ) == (
        [
            ("Luật Công chứng năm 2024", "46/2024/QH15"),
            ("Thông tư số 53/2025/TT-BCAngày 01/7/2025 của Bộ Công an", "53/2025/TT-BCA"),
        ],
        [],
    )


def test_legal_rows_run_together_are_dropped_and_flagged() -> None:
    titles, problems = pairs(
        "Nghị định 44/2016/NĐ-CP44/2016/NĐ-CP- Luật An toàn, vệ sinh lao động (Luật số"
        " 84/2015/QH13 của Quốc hội thông qua ngày 25/6/2015); 84/2015/QH13 nghị quyết của"
        " Chính phủ24/2026/NQ-CP"
    )
    assert titles == [("Nghị định 44/2016/NĐ-CP", "44/2016/NĐ-CP")]
    assert problems == ["legal_bases"]


def test_legal_placeholders() -> None:
    assert parse_legal_bases("Không có thông tin") == ([], [])
    assert parse_legal_bases("") == ([], [])
    assert pairs("Luật Thú y 2015") == ([], ["legal_bases"])


# --------------------------------------------------------------- result, levels


def test_result_without_portal_noise() -> None:
    text = (
        "Giấy chứng nhận đăng ký xeMã: KQ.G01.000014Biển số xeMã: KQ.G01.000015Từ khóaKhông có"
        " thông tinMô tảKhông có thông tinChọn cơ quan thực hiệnTỉnh/ Thành phốBộ ngành-- Chọn"
        " Tỉnh/ Thành phố --Nộp hồ sơ"
    )
    assert parse_result(text) == (["Giấy chứng nhận đăng ký xe", "Biển số xe"], None, True)
    assert parse_result("Quyết định tạm tuyểnMã: KQ.G01.00268Từ khóaTuyển chọnMô tảGhi chú") == (
        ["Quyết định tạm tuyển"],
        "Ghi chú",
        True,
    )
    assert parse_result("Văn bản tố tụngMã: VBTT") == (["Văn bản tố tụng"], None, True)
    assert parse_result("") == ([], None, True)
    # Text that is not a result list (a documents row pasted here) stays raw.
    assert parse_result("Quyết định thu hồi.1 bản chính") == ([], None, False)


def test_empty_and_no_information_fields_are_none() -> None:
    record = dict(RECORDS["1.000232"])
    record.update(
        yeu_cau_dieu_kien="Không có thông tin", co_quan_phoi_hop="", dia_chi_tiep_nhan="  "
    )
    parsed = parse_record(record)
    assert parsed.conditions is None
    assert parsed.cooperating_body is None
    assert parsed.receiving_address is None
    assert parsed.decision == RECORDS["1.000232"]["so_quyet_dinh"]


def test_text_is_nfc_with_whitespace_collapsed_and_diacritics_kept() -> None:
    record = dict(RECORDS["1.000232"])
    record["ten_thu_tuc"] = unicodedata.normalize("NFD", "Huỷ  tài khoản\n điện tử")
    parsed = parse_record(record)
    assert parsed.name == "Huỷ tài khoản điện tử"
    assert parsed.name == unicodedata.normalize("NFC", parsed.name)


def test_steps_split_on_buoc() -> None:
    parsed = parse_record(RECORDS["1.000178"])
    assert [step[:7] for step in parsed.steps] == [f"Bước {n}:" for n in range(1, 6)]


def test_coverage_counts_records_and_cells() -> None:
    parsed = [parse_record(record) for record in RECORDS.values()]
    figures = coverage(parsed)
    assert figures["records"] == len(RECORDS)
    fully = sum(1 for code in HAND_CHECKED if not HAND_CHECKED[code]["raw"])
    assert figures["fully_parsed"] == round(fully / len(RECORDS), 4)
    assert set(figures["per_ministry"]) == {r["ministry_folder"] for r in RECORDS.values()}
    assert figures["per_ministry"]["bo-cong-an"]["records"] == 11
    for name in ("channels", "times", "fees", "documents", "legal_bases", "fee_cells"):
        assert 0.0 <= figures[name] <= 1.0
