"""Installs that work on any machine: the lock names packages and hashes, not this
machine's package index or wheel folder (pip takes those from its own configuration)."""

from pathlib import Path

LOCK = Path(__file__).resolve().parent.parent / "requirements.lock"


def test_the_lock_names_no_package_index_or_local_folder():
    for number, line in enumerate(LOCK.read_text().splitlines(), 1):
        option = line.strip().split(" ")[0]
        assert option not in {
            "--index-url",
            "-i",
            "--extra-index-url",
            "--find-links",
            "-f",
            "--trusted-host",
        }, f"requirements.lock line {number}: {line}"
        assert "file://" not in line and "/opt/" not in line, f"line {number}: {line}"
