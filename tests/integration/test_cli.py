"""The operator CLI: migrate, seed-demo, import-loans, agreements --json, loan --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.ops.importer import COLUMNS, ImportRejected, read_loans_csv

ROOT = Path(__file__).resolve().parents[2]
HEADER = ",".join(COLUMNS)
GOOD = [
    "LN-20001,Maya Singh,1987-06-01,+447700900101,maya@example.com,Europe/London,en,personal_loan,GBP,3000.00,2100.00,300.00,35,2026-12-05",
    "ln20002,Wei Zhang,1979-10-10,+8613800000102,,Asia/Shanghai,zh,bnpl,CNY,1200,800,400,70,2026-12-01",
]


def run_cli(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def write_csv(tmp_path: Path, lines: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "loans.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def test_migrate_seed_and_list_agreements_as_json(database_url):
    assert run_cli(database_url, "migrate").returncode == 0
    assert run_cli(database_url, "seed-demo").returncode == 0
    out = run_cli(database_url, "agreements", "--json")
    assert out.returncode == 0, out.stderr
    agreements = json.loads(out.stdout)
    assert len(agreements) == 1
    a = agreements[0]
    assert set(a) >= {"agreement_ref", "loan_ref", "kind", "status", "total_amount", "created_at", "instalments"}
    assert a["loan_ref"] == "LN-10008" and a["kind"] == "instalment_plan"
    assert sum(float(i["amount"]) for i in a["instalments"]) == pytest.approx(float(a["total_amount"]))
    assert all(set(i) >= {"due_date", "amount"} for i in a["instalments"])


def test_loan_json_has_no_date_of_birth(database_url):
    run_cli(database_url, "seed-demo")
    out = run_cli(database_url, "loan", "ln 10008", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["loan_ref"] == "LN-10008"
    assert report["agreements"] and report["audit_events"]
    assert "1992" not in out.stdout  # the date of birth is never printed
    missing = run_cli(database_url, "loan", "LN-99999", "--json")
    assert missing.returncode == 1 and "No loan" in missing.stderr


def test_import_creates_then_updates_by_loan_ref(database_url, tmp_path):
    out = run_cli(database_url, "import-loans", str(write_csv(tmp_path, GOOD)))
    assert out.returncode == 0, out.stderr
    assert "2 loans created" in out.stdout
    changed = [GOOD[0].replace("300.00,35", "450.00,40"), GOOD[1]]
    out = run_cli(database_url, "import-loans", str(write_csv(tmp_path, changed)))
    assert "0 loans created, 2 updated" in out.stdout
    report = json.loads(run_cli(database_url, "loan", "LN-20001", "--json").stdout)
    assert report["overdue_amount"] == "450.00"
    assert report["days_past_due"] == 40


def test_a_file_with_any_bad_row_is_rejected_whole(database_url, tmp_path):
    bad = GOOD + [
        "LN-20003,Ann Lee,1990-02-30,+447700900103,ann@example.com,Europe/London,en,personal_loan,GBP,100,100,50,5,2026-12-01",
        "XX,Bob Ray,1990-02-01,123,bob,Mars/Base,fr,personal_loan,ZZZ,abc,-5,10,-1,tomorrow",
        "LN-20001,Dup Row,1990-02-01,,,Europe/London,en,personal_loan,GBP,100,100,50,5,",
    ]
    out = run_cli(database_url, "import-loans", str(write_csv(tmp_path, bad)))
    assert out.returncode == 1
    assert "nothing was imported" in out.stderr
    for expected in (
        "line 4: date_of_birth",
        "line 5: loan_ref",
        "line 5: timezone",
        "line 5: currency",
        "line 5: language",
        "line 5: principal",
        "line 5: days_past_due",
        "line 6: loan_ref LN-20001 repeats",
    ):
        assert expected in out.stderr
    assert json.loads(run_cli(database_url, "agreements", "--json").stdout) == []
    assert run_cli(database_url, "loan", "LN-20001").returncode == 1


def test_wrong_header_is_rejected(tmp_path):
    with pytest.raises(ImportRejected) as rejected:
        read_loans_csv(write_csv(tmp_path, GOOD, header="ref,name"))
    assert "header must be exactly" in str(rejected.value.errors[0])


def test_overdue_above_outstanding_is_rejected(tmp_path):
    row = GOOD[0].replace("2100.00,300.00", "200.00,300.00")
    with pytest.raises(ImportRejected) as rejected:
        read_loans_csv(write_csv(tmp_path, [row]))
    assert "overdue_amount is larger than outstanding_balance" in str(rejected.value.errors[0])


def test_the_optional_columns_come_in_any_order_and_a_wechat_openid_is_kept(sqlite_store, tmp_path):
    header = HEADER + ",wechat_openid,preferred_channel"
    rows = [GOOD[1] + ",oAbC-12_defGHIjklMNOpqrsTUVw,wechat", GOOD[0] + ",,sms"]
    loans = read_loans_csv(write_csv(tmp_path, rows, header=header))
    assert [(r["loan_ref"], r.get("wechat_openid"), r["preferred_channel"]) for r in loans] == [
        ("LN-20002", "oAbC-12_defGHIjklMNOpqrsTUVw", "wechat"),
        ("LN-20001", None, "sms"),
    ]
    sqlite_store.upsert_loans(loans)
    assert sqlite_store.candidate_loan("wechat_openid", "oAbC-12_defGHIjklMNOpqrsTUVw") == "LN-20002"


@pytest.mark.parametrize(
    "header, row, problem",
    [
        (HEADER + ",wechat_openid", GOOD[0] + ",not an openid!", "is not a WeChat OpenID"),
        (HEADER + ",wechat_openid,wechat_openid", GOOD[0] + ",oAbC12defGHI,oAbC12defGHI", "header must be"),
        (HEADER + ",qq_number", GOOD[0] + ",12345", "header must be"),
    ],
)
def test_bad_wechat_columns_are_refused(tmp_path, header, row, problem):
    with pytest.raises(ImportRejected) as rejected:
        read_loans_csv(write_csv(tmp_path, [row], header=header))
    assert problem in str(rejected.value.errors[0])


def test_the_benchmarks_production_layout_defaults_to_actions_in_two_replicas():
    from bot.ops.bench import PRODUCTION_LAYOUTS
    from bot.ops.cli import build_parser

    args = build_parser().parse_args(["bench", "--profile", "production"])
    assert PRODUCTION_LAYOUTS[args.production_layout] == (2, True)  # two replicas, actions in process
    args = build_parser().parse_args(["bench", "--profile", "production", "--production-layout", "action-server"])
    assert PRODUCTION_LAYOUTS[args.production_layout] == (1, False)  # sessions 12-14's layout
