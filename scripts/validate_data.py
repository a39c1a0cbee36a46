"""`rasa data validate`, failing on every warning except responses that actions utter.

Rasa's validator only sees responses used in stories and rules; the ones below are uttered
by actions (ours, or Rasa's built-in fallback actions) and its warning about them is noise.
Run in the engine environment: .venv-engine/bin/python scripts/validate_data.py
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# The same folders as bot/engine.py's TRAINING_DATA (data/catalog is not training data).
TRAINING_DATA = ["data/nlu", "data/rules", "data/stories"]

RESPONSES_UTTERED_BY_ACTIONS = {
    "utter_default": "action_default_fallback (Rasa)",
    "utter_ask_rephrase": "action_default_ask_rephrase (Rasa)",
    "utter_ask_affirmation_none": "action_default_ask_affirmation",
    "utter_procedure_choose": "action_answer_procedure",
    "utter_procedure_not_found": "action_answer_procedure",
    "utter_ask_procedure_name": "action_answer_procedure",
    "utter_service_unavailable": "action_answer_procedure, application and report actions",
    "utter_application_status": "action_check_application_status",
    "utter_application_not_found": "action_check_application_status",
    "utter_ask_application_code": "application_status_form (asks for its slot)",
    "utter_place_received": "action_acknowledge_place",
    "utter_out_of_scope": "action_weigh_unclear (when nothing the domain knows speaks against it)",
    "utter_out_of_scope_report": "validate_report_form (a first message naming no civic problem)",
    "utter_ask_report_description": "report_form (asks for its slot)",
    "utter_ask_report_address": "report_form (asks for its slot)",
    "utter_ask_report_commune": "report_form (asks for its slot)",
    "utter_ask_report_photo_step": "report_form (asks for its slot)",
    "utter_ask_report_urgency": "report_form (asks for its slot)",
    "utter_ask_report_category": "action_ask_report_category",
    "utter_report_description_too_short": "validate_report_form",
    "utter_report_description_too_long": "validate_report_form",
    "utter_report_category_unclear": "validate_report_form",
    "utter_report_place_from_photo": "validate_report_form",
    "utter_report_commune_unknown": "validate_report_form",
    "utter_report_photo_expected": "validate_report_form",
    "utter_report_what_to_change": "validate_report_form",
    "utter_report_submitted": "action_submit_report",
    "utter_report_following": "action_submit_report",
    "utter_report_submit_failed": "action_submit_report",
    "utter_report_cancelled": "action_cancel_report",
    "utter_report_none_yet": "action_check_report_status",
    "utter_report_pick": "action_check_report_status",
    "utter_report_rating_unclear": "action_rate_report",
    "utter_report_nothing_to_rate": "action_rate_report",
    "utter_report_rated": "action_rate_report",
    "utter_report_nothing_to_reopen": "action_reopen_report",
    "utter_report_reopened": "action_reopen_report",
}
UNUSED = re.compile(r"The utterance '(\w+)' is not used in any story or rule")
WARNING = re.compile(r"UserWarning: (.*)")


def main() -> int:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    missing = set(RESPONSES_UTTERED_BY_ACTIONS) - set(domain["responses"])
    if missing:
        print(f"responses listed as uttered by actions but not in domain.yml: {sorted(missing)}")
        return 1
    result = subprocess.run(
        [str(Path(sys.executable).parent / "rasa"), "data", "validate",
         "--data", *TRAINING_DATA],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    output = result.stdout + result.stderr
    problems = []
    for line in output.splitlines():
        warning = WARNING.search(line)
        if not warning or "rasa/" not in line:
            continue
        unused = UNUSED.search(warning.group(1))
        if unused and unused.group(1) in RESPONSES_UTTERED_BY_ACTIONS:
            continue
        problems.append(warning.group(1))
    if result.returncode != 0:
        print(output)
        print("rasa data validate failed")
        return 1
    for problem in problems:
        print(f"warning: {problem}")
    print("rasa data validate: clean" if not problems else f"{len(problems)} warning(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
