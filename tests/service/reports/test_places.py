"""The place a citizen wrote inside a report's description, exactly as typed (issue #14)."""

from __future__ import annotations

import pytest

from bot.reports.places import commune_in, place_in


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("đèn đường kiệt 12 Nguyễn Huệ tắt mấy hôm rồi", "kiệt 12 Nguyễn Huệ"),
        ("den duong kiet 12 nguyen hue tat may hom roi", "kiet 12 nguyen hue"),
        ("nhà tui ở 15 kiệt 2 Hàn Mặc Tử, Vỹ Dạ", "15 kiệt 2 Hàn Mặc Tử, Vỹ Dạ"),
        ("kiet 25 Tran Phu, phuong Phuoc Vinh cu", "kiet 25 Tran Phu, phuong Phuoc Vinh cu"),
        ("đèn đường trước nhà số 5 kiệt 12 Bà Triệu tắt cả tuần", "nhà số 5 kiệt 12 Bà Triệu"),
        ("rác ứ đọng ở chợ Đông Ba mấy ngày", "chợ Đông Ba"),
        ("ổ gà to giữa đường Lê Lợi đoạn trước ga Huế nguy hiểm", "đường Lê Lợi đoạn trước ga Huế"),
        ("mất nước từ hôm qua tới chừ", None),
        ("cây đổ ngang đường rồi", None),
        ("karaoke lai hat nua roi 11h dem roi", None),
        # a gate is a landmark; words that fold like place words are not ("phượng", "chưa")
        ("bi may nguoi ban ve dao ngoai cong Ngo Mon lua mua ve", "cong Ngo Mon"),
        ("cây phượng trước cổng trường bị gió quật", "cổng trường"),
        ("công an phường chưa tới", None),
        # house numbers before a street's name (blind tuning B-c014); not a house's size
        (
            "vỉa hè trước dãy nhà 40-60 Trần Cao Vân bị bán hàng lấn hết",
            "dãy nhà 40-60 Trần Cao Vân",
        ),
        ("rác chất trước nhà 27 Lê Lợi cả tuần", "nhà 27 Lê Lợi"),
        ("nhà 2 tầng bên cạnh đang đổ bê tông ban đêm", None),
        ("nha ben canh noi xau nha minh", None),  # beside, not a quay (bến)
        ("rác ở bến xe Phía Nam ứ đọng", "bến xe Phía Nam"),
        # a boat quay by its name (blind tuning I-c012, I-m068)
        ("o ben thuyen Toa Kham co may nguoi ep khach di thuyen rong", "ben thuyen Toa Kham"),
        ("rác quanh bến thuyền Tòa Khâm chất đống", "bến thuyền Tòa Khâm"),
        # a landmark named in full, then a comma (blind tuning H-c012); "công viên" is not
        # "cổng" for being folded alike (H-c028)
        (
            "có mấy đứa khắc tên lên cột gỗ trong Đại Nội, gần điện Thái Hòa",
            "Đại Nội, gần điện Thái Hòa",
        ),
        (
            "chó thả rông ở công viên khu An Vân Dương rượt trẻ con chạy",
            "công viên khu An Vân Dương",
        ),
    ],
)
def test_the_place_in_a_description_is_kept_as_typed(text, place):
    assert place_in(text) == place


def test_the_commune_of_a_place_found_that_way():
    assert commune_in(place_in("nhà tui ở 15 kiệt 2 Hàn Mặc Tử, Vỹ Dạ")) == "Vỹ Dạ"
    assert commune_in(place_in("kiet 25 Tran Phu, phuong Phuoc Vinh cu")) is not None


@pytest.mark.parametrize("text", ["phường Vĩ Dạ", "phường Vỹ Dạ", "phuong vi da", "kiệt 3 Vi Da"])
def test_i_and_y_name_one_commune(text: str) -> None:
    assert commune_in(text) == "Vỹ Dạ"


def test_an_anchor_typed_with_other_marks_is_not_a_place_even_in_nfd() -> None:
    import unicodedata

    assert place_in("hoa phượng Vĩ Dạ nở rồi") is None
    nfd = unicodedata.normalize("NFD", "phường Vĩ Dạ")
    assert commune_in(nfd) == "Vỹ Dạ"
