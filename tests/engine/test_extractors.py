"""Commune gazetteer and pattern extractors: diacritics-insensitive, exact offsets."""

from __future__ import annotations

import unicodedata

import pytest
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.shared.nlu.training_data.message import Message

from hue_rasa.extractors import GazetteerEntityExtractor, PatternEntityExtractor
from tests.engine.conftest import ROOT


@pytest.fixture
def gazetteer(model_storage, resource) -> GazetteerEntityExtractor:
    importer = TrainingDataImporter.load_from_dict(
        training_data_paths=[str(ROOT / "data" / "nlu" / "communes.yml")]
    )
    extractor = GazetteerEntityExtractor.create({}, model_storage, resource, None)
    extractor.train(importer.get_nlu_data())
    return extractor


def communes(extractor: GazetteerEntityExtractor, text: str) -> list[tuple[str, str]]:
    return [(text[e["start"] : e["end"]], e["value"]) for e in extractor.extract(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ổ gà ở phường Vỹ Dạ", [("Vỹ Dạ", "Vỹ Dạ")]),
        ("o phuong vy da nha", [("vy da", "Vỹ Dạ")]),
        ("nhà tui ở Vĩ Dạ", [("Vĩ Dạ", "Vỹ Dạ")]),
        ("đường ở PHÚ HỘI bị ngập", [("PHÚ HỘI", "Thuận Hóa")]),
        ("thi tran sia cu", [("thi tran sia", "Quảng Điền")]),
        ("xã A Lưới 3", [("A Lưới 3", "A Lưới 3")]),
        ("xa a luoi 1 voi a luoi 5", [("a luoi 1", "A Lưới 1"), ("a luoi 5", "A Lưới 5")]),
        ("Chân Mây - Lăng Cô", [("Chân Mây - Lăng Cô", "Chân Mây - Lăng Cô")]),
        ("lang co", [("lang co", "Chân Mây - Lăng Cô")]),
        ("phường Phú Xuân", [("Phú Xuân", "Phú Xuân")]),
        ("xã Phú Xuân cũ", [("xã Phú Xuân", "Phú Hồ")]),
        ("tui đi ăn phở", []),
        # Same letters without diacritics: today's Thuận Hóa, or the former Thuận Hòa.
        ("kiệt 45, phường Thuận Hóa", [("Thuận Hóa", "Thuận Hóa")]),
        ("phường Thuận Hòa cũ", [("Thuận Hòa", "Phú Xuân")]),
        ("phuong thuan hoa", [("thuan hoa", "Thuận Hóa")]),
    ],
)
def test_communes_by_current_and_former_names(gazetteer, text, expected) -> None:
    assert communes(gazetteer, text) == expected


def test_a_former_name_shared_by_two_units_needs_its_type(gazetteer) -> None:
    assert communes(gazetteer, "phường Hương Xuân") == [("phường Hương Xuân", "Kim Trà")]
    assert communes(gazetteer, "xã Hương Xuân") == [("xã Hương Xuân", "Nam Đông")]
    assert communes(gazetteer, "Hương Xuân") == []


def test_gazetteer_offsets_are_into_nfd_text_too(gazetteer) -> None:
    text = unicodedata.normalize("NFD", "ở phường Vỹ Dạ")
    [entity] = gazetteer.extract(text)
    assert unicodedata.normalize("NFC", text[entity["start"] : entity["end"]]) == "Vỹ Dạ"


def test_gazetteer_survives_persist_and_load(gazetteer, model_storage, resource) -> None:
    loaded = GazetteerEntityExtractor.load({}, model_storage, resource, None)
    assert loaded.extract("phu hoi") == gazetteer.extract("phu hoi")


def test_gazetteer_adds_to_entities_found_before(gazetteer) -> None:
    message = Message({"text": "lam cccd o vy da", "entities": [{"entity": "procedure"}]})
    gazetteer.process([message])
    assert [e["entity"] for e in message.get("entities")] == ["procedure", "commune"]
    assert message.get("entities")[1]["extractor"] == "GazetteerEntityExtractor"


@pytest.fixture
def patterns() -> PatternEntityExtractor:
    return PatternEntityExtractor.create({}, None, None, None)


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("PA-2026-000123 tới đâu rồi", "report_code", "PA-2026-000123"),
        ("ma pa-2025-004512 nha", "report_code", "PA-2025-004512"),
        ("mã PA - 2026 - 000777", "report_code", "PA-2026-000777"),
        ("tinh trang phan anh ma PA 2026 000512", "report_code", "PA-2026-000512"),
        ("xem tien do PA2026000418", "report_code", "PA-2026-000418"),
        ("hồ sơ 000.00.21.H57-250612-0003", "application_code", "000.00.21.H57-250612-0003"),
        ("so 0905 123 456", "phone", "0905123456"),
        ("goi +84 905.123.456", "phone", "0905123456"),
        ("0935-111-222 nha", "phone", "0935111222"),
    ],
)
def test_patterns(patterns, text, entity, value) -> None:
    [found] = patterns.extract(text)
    assert (found["entity"], found["value"]) == (entity, value)
    assert text[found["start"] : found["end"]].replace(" ", "")[:2].lower() == value[
        :2
    ].lower() or (entity == "phone")


def test_patterns_do_not_fire_on_ordinary_numbers(patterns) -> None:
    assert patterns.extract("kiệt 45 Phan Đình Phùng, 12/3/2025, số 123") == []
    assert patterns.extract("năm 2026 có 365 ngày") == []


@pytest.mark.parametrize("text", ["phường Vĩ Dạ", "phường Vỹ Dạ", "phuong vi da", "VI DA"])
def test_i_and_y_are_one_name(gazetteer, text) -> None:
    assert [value for _, value in communes(gazetteer, text)] == ["Vỹ Dạ"]
