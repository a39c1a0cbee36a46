"""Loading the demonstration applications (data/demo/applications.yml); re-runnable."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.applications.adapter import ApplicationState, normalise_code
from bot.applications.models import Application
from bot.db import utcnow
from bot.settings import ROOT

DEMO_FILE = ROOT / "data" / "demo" / "applications.yml"


def seed_demo(factory: sessionmaker[Session], path: Path = DEMO_FILE) -> int:
    """Insert or refresh the demo applications; never touches a non-demo row."""
    records = yaml.safe_load(path.read_text(encoding="utf-8"))["applications"]
    with factory() as session:
        for record in records:
            code = normalise_code(record["code"])
            ApplicationState(record["state"])  # refuse unknown states
            row = session.scalars(select(Application).where(Application.code == code)).first()
            if row is not None and not row.is_demo:
                raise ValueError(f"{code} is a real application; demo data must not replace it")
            row = row or Application(code=code)
            row.procedure_code = record.get("procedure_code")
            row.procedure_name = record["procedure_name"]
            row.state = record["state"]
            row.received_on = record["received_on"]
            row.due_on = record.get("due_on")
            row.office = record["office"]
            row.note = record.get("note")
            row.is_demo = True
            row.updated_at = utcnow()
            session.add(row)
        session.commit()
    return len(records)
