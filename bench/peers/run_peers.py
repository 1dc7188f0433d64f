"""Peers in the same run: build bench/peers/venv from PyPI if needed, create the peer databases,
load them with the product's data shape and time them. Prints one JSON line: {"rows": [...], "shape": ...}.

    .venv/bin/python bench/peers/run_peers.py --size S
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VENV = HERE / "venv"
PINS = ["Django==5.2.19", "django-activity-stream==2.0.0", "django-helpdesk[teams]==2.6.1", "pinax-teams==3.0.1", "django-user-accounts==3.3.2",
        "pinax-invitations==8.0.1", "django-reversion==6.4.0", "psycopg2-binary==2.9.13"]
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
# Same shape as the product's datasets (bench/run_all.py SIZES).
SIZES = {
    "S": {"users": 1_000, "tickets": 10_000, "communities": 20, "actions": 100_000, "agents": 20, "repeat": 30},
    "M": {"users": 10_000, "tickets": 100_000, "communities": 200, "actions": 1_000_000, "agents": 100, "repeat": 60},
}


def ensure_venv() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PINS], check=True)
    return python


def ensure_db(name: str) -> None:
    exists = subprocess.run(["psql", f"{PG}/postgres", "-Atc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
                            capture_output=True, text=True).stdout.strip()
    if not exists:
        subprocess.run(["psql", f"{PG}/postgres", "-c", f'CREATE DATABASE "{name}"'], check=True, capture_output=True)


def run(python: Path, script: str, db: str, args: list, extra_env: dict | None = None) -> dict:
    env = {**os.environ, "PEER_DB": db, "PYTHONPATH": str(ROOT), **(extra_env or {})}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run([str(python), str(HERE / script), *map(str, args)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=7200)
    if done.returncode != 0:
        raise SystemExit(f"{script} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="S", choices=SIZES)
    size = SIZES[parser.parse_args().size]
    python = ensure_venv()
    suffix = parser.parse_args().size.lower()
    act_db, hd_db = f"servicedesk_bench_peers_actstream_{suffix}", f"servicedesk_bench_peers_helpdesk_{suffix}"
    ensure_db(act_db)
    ensure_db(hd_db)
    act = run(python, "actstream_site/bench.py", act_db, [size["users"], size["tickets"], size["communities"], size["actions"]])
    hd_args = [size["agents"], size["users"], size["tickets"], size["repeat"]]
    hd = run(python, "helpdesk_site/bench.py", hd_db, hd_args)
    hd_best = run(python, "helpdesk_site/bench.py", hd_db, hd_args, {"HELPDESK_BEST": "1"})
    print(json.dumps({"rows": act["rows"] + hd["rows"] + hd_best["rows"], "shape": f"{act['shape']}; {hd['shape']}"}))


if __name__ == "__main__":
    main()
