"""Derive data/catalog/procedures.jsonl.gz from the national procedure catalogue.

Run by a developer when the reference data changes (the project never reads it at run time):

    python scripts/derive_procedures.py ../shared/data/dvc-procedures.jsonl

Every record is copied field for field (the parser in bot/procedures/parsing.py reads the
flattened tables at import time, so parser fixes apply on the next ``hue-s procedures
import``) and gets its provenance: the official page and when the catalogue was retrieved.
The output is deterministic (sorted by code, gzip without a timestamp).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "data" / "catalog" / "procedures.jsonl.gz"
SOURCE = {
    "name": "Cổng Dịch vụ công quốc gia (dichvucong.gov.vn)",
    "dataset": "shared/data/dvc-procedures.jsonl",
    # The dataset records the crawl year only; day and month are not known.
    "retrieved": "2026",
}
FIELDS = (
    "ma_thu_tuc ten_thu_tuc detail_url so_quyet_dinh cap_thuc_hien loai_thu_tuc linh_vuc "
    "doi_tuong_thuc_hien co_quan_co_tham_quyen co_quan_thuc_hien dia_chi_tiep_nhan "
    "co_quan_duoc_uy_quyen co_quan_phoi_hop thu_tuc_lien_quan trinh_tu_thuc_hien "
    "cach_thuc_thuc_hien thanh_phan_ho_so can_cu_phap_ly yeu_cau_dieu_kien ket_qua_xu_ly "
    "ministry_folder"
).split()


def derive(lines: list[str]) -> list[dict]:
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        raw = json.loads(line)
        missing = [f for f in ("ma_thu_tuc", "ten_thu_tuc", "detail_url") if not raw.get(f)]
        if missing:
            raise SystemExit(f"line {number}: missing {', '.join(missing)}")
        record = {f: unicodedata.normalize("NFC", str(raw.get(f) or "")) for f in FIELDS}
        record["source_url"] = record["detail_url"]
        record["source_name"] = SOURCE["name"]
        record["source_retrieved"] = SOURCE["retrieved"]
        records.append(record)
    records.sort(key=lambda r: r["ma_thu_tuc"])
    return records


def write(records: list[dict], out: Path) -> str:
    body = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(body.encode("utf-8"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buffer.getvalue())
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    records = derive(args.source.read_text(encoding="utf-8").splitlines())
    digest = write(records, args.out)
    print(f"{len(records)} procedures → {args.out} (sha256 of content {digest[:16]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
