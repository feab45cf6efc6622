"""``python -m optimiser solve|validate``: plans written, clear messages, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from optimiser.cli import format_location, main
from optimiser.schema import Plan
from tests.optimiser.conftest import appt, make_request, near, tech

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def request_file(tmp_path: Path) -> Path:
    request = make_request([tech("T1"), tech("T2", location=near(3, 3))],
                           [appt("A1"), appt("A2", location=near(1, 2)),
                            appt("A3", skills={"fibre": 3})], solution_limit=20)
    path = tmp_path / "request.json"
    path.write_text(request.model_dump_json(by_alias=True, exclude_none=True))
    return path


def _edit(path: Path, change) -> Path:
    data = json.loads(path.read_text())
    change(data)
    out = path.with_name("edited.json")
    out.write_text(json.dumps(data))
    return out


def test_solve_writes_the_plan_and_prints_a_summary(request_file, tmp_path, capsys):
    out = tmp_path / "out" / "plan.json"
    assert main(["solve", str(request_file), "--out", str(out), "--seed", "1"]) == 0
    plan = Plan.model_validate(json.loads(out.read_text()))
    assert plan.status == "feasible"
    assert "return" in json.loads(out.read_text())["routes"][0]
    captured = capsys.readouterr()
    assert "assigned 2/3 appointments" in captured.out
    assert "1 no_skilled_technician" in captured.out
    assert "objective" in captured.err  # progress goes to stderr


def test_validate_accepts_the_solved_plan_and_lists_violations(request_file, tmp_path, capsys):
    out = tmp_path / "plan.json"
    assert main(["solve", str(request_file), "--out", str(out)]) == 0
    assert main(["validate", str(request_file), str(out)]) == 0
    assert "valid" in capsys.readouterr().out

    data = json.loads(out.read_text())
    data["routes"][0]["stops"][0]["travel_min"] += 30
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data))
    assert main(["validate", str(request_file), str(broken)]) == 1
    assert "[stop_travel]" in capsys.readouterr().out


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["appointments"][2].update(duration_min=-5),
     "appointments[2].duration_min: Input should be greater than or equal to 0"),
    (lambda d: d["appointments"][0].update(colour="red"),
     "appointments[0].colour: unknown field"),
    (lambda d: d["technicians"][0]["shifts"][0].update(start="2026-11-23T08:00:00"),
     "technicians[0].shifts[0].start: Input should have timezone info"),
    (lambda d: d["appointments"][1].update(id="A1"),
     "duplicate appointment id 'A1'"),
    (lambda d: d["appointments"][0].update(entitlement_id="E-404"),
     "appointments[0] (A1).entitlement_id: unknown entitlement 'E-404'"),
])
def test_invalid_request_names_the_field(request_file, tmp_path, capsys, change, message):
    bad = _edit(request_file, change)
    assert main(["solve", str(bad), "--out", str(tmp_path / "p.json")]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "p.json").exists()


def test_bad_json_and_missing_file(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"technicians": [')
    assert main(["solve", str(bad), "--out", str(tmp_path / "p.json")]) == 2
    assert "invalid JSON at line 1" in capsys.readouterr().err
    assert main(["solve", str(tmp_path / "nope.json"), "--out", str(tmp_path / "p.json")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_validate_with_a_bad_plan_file_is_bad_input(request_file, tmp_path, capsys):
    plan = tmp_path / "plan.json"
    plan.write_text('{"status": "maybe"}')
    assert main(["validate", str(request_file), str(plan)]) == 2
    assert "status" in capsys.readouterr().err


def test_format_location():
    assert format_location(("appointments", 3, "duration_min")) == "appointments[3].duration_min"
    assert format_location(()) == ""


def test_module_entry_point(request_file, tmp_path):
    out = tmp_path / "plan.json"
    done = subprocess.run([sys.executable, "-m", "optimiser", "solve", str(request_file),
                           "--out", str(out), "--time-limit", "5"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert out.exists()
    bad = subprocess.run([sys.executable, "-m", "optimiser", "solve", str(tmp_path / "x.json"),
                          "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
