"""The public procedure and application API, on the full catalogue (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest

BIRTH = "1.001193"  # Thủ tục đăng ký khai sinh
ID_CARD_RENEWAL = "1.014063"  # Cấp đổi thẻ căn cước
SOURCE = "Nguồn: Cổng Dịch vụ công quốc gia (dichvucong.gov.vn) (dữ liệu thu thập năm 2026)"


def test_search_returns_the_procedure_and_the_words_it_used(api):
    body = api.get("/api/v1/procedures/search", params={"q": "dang ky khai sinh o mo"}).json()
    assert body["matched"] is True
    assert body["hits"][0]["code"] == BIRTH
    assert body["hits"][0]["name"] == "Thủ tục đăng ký khai sinh"
    assert body["terms"] == ["dang", "ky", "khai", "sinh"]


def test_search_refuses_an_empty_or_huge_query_in_vietnamese(api):
    for params in ({"q": ""}, {"q": "a" * 501}, {}):
        response = api.get("/api/v1/procedures/search", params=params)
        assert response.status_code == 422
        assert response.json()["error"]["message"].startswith("Dữ liệu gửi lên không hợp lệ")


def test_one_procedure_has_its_parsed_record_and_provenance(api):
    body = api.get(f"/api/v1/procedures/{BIRTH}").json()
    assert body["name"] == "Thủ tục đăng ký khai sinh"
    assert body["url"].startswith("https://dichvucong.gov.vn/")
    assert body["source_retrieved"] == "2026"
    assert {c["kind"] for c in body["data"]["channels"]} == {"in_person", "online", "post"}


def test_an_unknown_code_is_a_vietnamese_404(api):
    response = api.get("/api/v1/procedures/9.999999/answer")
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "procedure_not_found",
        "message": "Không có thủ tục mã 9.999999 trong danh mục. Bạn kiểm tra lại mã thủ tục nhé.",
    }


def test_an_unknown_aspect_is_refused(api):
    response = api.get(f"/api/v1/procedures/{BIRTH}/answer", params={"aspect": "price"})
    assert response.status_code == 422


def _answer(api, code: str, aspect: str, **params) -> dict:
    response = api.get(f"/api/v1/procedures/{code}/answer", params={"aspect": aspect, **params})
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize(
    "aspect", ["overview", "documents", "fee", "time", "place", "online", "steps", "conditions"]
)
def test_every_answer_leads_with_name_and_code_and_ends_with_the_source(api, aspect):
    text = _answer(api, BIRTH, aspect)["text"]
    assert text.startswith("📄 Thủ tục đăng ký khai sinh\nMã thủ tục: 1.001193\n\n")
    assert text.endswith(f"{SOURCE}\n{_answer(api, BIRTH, 'overview')['text'].splitlines()[-1]}")
    assert text.splitlines()[-1].startswith("https://dichvucong.gov.vn/thu-tuc-hanh-chinh/")


def test_time_and_fee_answers_state_the_catalogue_facts(api):
    time = _answer(api, ID_CARD_RENEWAL, "time")["text"]
    assert "• Trực tiếp: 7 ngày làm việc" in time
    assert "• Trực tuyến: 7 ngày làm việc" in time
    fee = _answer(api, BIRTH, "fee")["text"]
    assert "• Trực tiếp: miễn phí" in fee


def test_a_cell_the_parser_could_not_read_is_quoted_not_guessed(api):
    # The birth registration's processing time is "1" with no unit in the catalogue.
    time = _answer(api, BIRTH, "time")["text"]
    assert "• Trực tiếp: «1» (theo nguyên văn danh mục)" in time


def test_place_names_the_huế_office_for_the_citizens_commune(api):
    place = _answer(api, ID_CARD_RENEWAL, "place", commune="Thuận Hóa")["text"]
    assert "Ở Huế, bạn nộp hồ sơ tại: Công an phường Thuận Hóa." in place
    anywhere = _answer(api, ID_CARD_RENEWAL, "place")["text"]
    assert "Công an phường/xã nơi bạn cư trú" in anywhere
    assert "Cho mình biết phường/xã của bạn" in anywhere


def test_a_long_document_list_is_shortened_with_a_button_for_the_rest(api):
    short = _answer(api, BIRTH, "documents")
    bullets = [line for line in short["text"].splitlines() if line.startswith("• ")]
    assert len(bullets) == 5
    [more] = [b for b in short["buttons"] if b["title"].startswith("Xem đủ")]
    intent, entities = more["payload"].split("{", 1)
    assert intent == "/ask_procedure_documents"
    assert json.loads("{" + entities) == {"procedure_code": BIRTH, "detail": "all"}
    full = _answer(api, BIRTH, "documents", full="true")
    assert len([line for line in full["text"].splitlines() if line.startswith("• ")]) > 5
    assert not any(b["title"].startswith("Xem đủ") for b in full["buttons"])


def test_answers_offer_the_other_aspects_as_buttons(api):
    buttons = _answer(api, BIRTH, "fee")["buttons"]
    assert [b["title"] for b in buttons] == [
        "Giấy tờ cần nộp",
        "Thời gian giải quyết",
        "Nộp ở đâu",
        "Nộp trực tuyến",
    ]
    assert buttons[0]["payload"] == '/ask_procedure_documents{"procedure_code": "1.001193"}'


def test_a_demo_application_is_found_by_the_code_on_its_receipt(api):
    body = api.get("/api/v1/applications/000.00.21.h57-261120-0001").json()
    assert body["code"] == "000.00.21.H57-261120-0001"
    assert body["state"] == "done"
    assert body["state_label"] == "đã có kết quả, mời bạn đến nhận"
    assert body["is_demo"] is True


def test_an_unknown_application_is_not_found_in_vietnamese(api):
    response = api.get("/api/v1/applications/000.00.21.H57-200101-9999")
    assert response.status_code == 404
    assert response.json()["error"]["message"].startswith(
        "Không tìm thấy hồ sơ có mã 000.00.21.H57-200101-9999."
    )


def test_a_malformed_application_code_is_refused(api):
    response = api.get("/api/v1/applications/abc")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_application_code"
