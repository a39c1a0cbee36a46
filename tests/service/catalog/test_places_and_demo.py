"""Huế offices from the catalogue's bodies; demo applications never replace real ones."""

from __future__ import annotations

from datetime import date

import pytest

from bot.applications.models import Application
from bot.applications.seed import seed_demo
from bot.db import make_engine, make_sessionmaker
from bot.procedures.answers import commune_label
from bot.procedures.places import ANY_COMMUNE, Office, hue_offices
from tests.service.conftest import migrate


@pytest.mark.parametrize(
    ("body", "commune", "expected"),
    [
        ("Công an cấp Xã", "phường Vỹ Dạ", [Office("Công an phường Vỹ Dạ", "commune")]),
        ("Công an cấp Xã", None, [Office(f"Công an {ANY_COMMUNE}", "commune")]),
        (
            "Ủy ban Nhân dân\xa0xã,\xa0phường,\xa0thị trấn.",
            "xã Phú Vang",
            [Office("Ủy ban nhân dân xã Phú Vang", "commune")],
        ),
        ("Phòng quản lý xuất nhập cảnh", None, [Office("Công an thành phố Huế", "city")]),
        ("Sở Tư pháp", None, [Office("Sở Tư pháp thành phố Huế", "city")]),
        (
            "Sở Tài chính các tỉnh, thành phố",
            None,
            [Office("Sở Tài chính thành phố Huế", "city")],
        ),
        (
            "Cục cảnh sát quản lý hành chính về trật tự, xã hội, Công an tỉnh",
            None,
            [Office("Công an thành phố Huế", "city")],
        ),
        # Bodies with no rule are not guessed: the answer quotes the catalogue instead.
        ("Ngân hàng Nhà nước Việt Nam", None, []),
        ("Không có thông tin", None, []),
        (None, None, []),
    ],
)
def test_offices_come_only_from_the_rules(body, commune, expected):
    assert hue_offices(body, commune=commune) == expected


def test_commune_labels_use_the_current_type_and_name():
    assert commune_label("Thuận Hóa") == "phường Thuận Hóa"
    assert commune_label("Phú Vang") == "xã Phú Vang"
    assert commune_label("Hà Nội") is None
    assert commune_label(None) is None


def test_demo_data_refuses_to_overwrite_a_real_application(tmp_path):
    url = f"sqlite:///{tmp_path / 'apps.db'}"
    migrate(url)
    factory = make_sessionmaker(make_engine(url))
    with factory() as session:
        session.add(
            Application(
                code="000.00.21.H57-261120-0001",
                procedure_name="Thủ tục đăng ký khai sinh",
                state="processing",
                received_on=date(2026, 11, 20),
                office="Ủy ban nhân dân phường Thuận Hóa",
                is_demo=False,
            )
        )
        session.commit()
    with pytest.raises(ValueError, match="real application"):
        seed_demo(factory)
    with factory() as session:
        [row] = session.query(Application).all()
    assert (row.state, row.is_demo) == ("processing", False)


def test_demo_data_loads_twice_without_duplicates(tmp_path):
    url = f"sqlite:///{tmp_path / 'apps.db'}"
    migrate(url)
    factory = make_sessionmaker(make_engine(url))
    assert seed_demo(factory) == seed_demo(factory) == 3
    with factory() as session:
        rows = session.query(Application).all()
    assert len(rows) == 3 and all(r.is_demo for r in rows)
