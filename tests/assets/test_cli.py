"""``charter assets upload|list``: the same action as the API, a refusal is exit code 1."""

from __future__ import annotations

from pathlib import Path

from tests.assets.images import image_bytes
from tests.cli.test_first_contact import run_cli


def test_upload_and_list_from_the_command_line(tmp_path: Path, demo_data: Path) -> None:
    photo = tmp_path / "harbour.jpg"
    photo.write_bytes(image_bytes("JPEG", (320, 200)))
    uploaded = run_cli("assets", "upload", str(photo), "--alt", "A harbour", "--demo")
    assert uploaded.returncode == 0, uploaded.stderr
    asset_id = uploaded.stdout.strip()
    assert len(asset_id) == 36 and "uploaded" in uploaded.stderr
    listed = run_cli("assets", "list", "--demo", "--q", "harbour")
    assert listed.returncode == 0 and "harbour.jpg" in listed.stdout
    no_alt = run_cli("assets", "upload", str(photo), "--demo")
    assert no_alt.returncode == 1 and "alt text is required" in no_alt.stderr
    disguised = tmp_path / "harbour.png"
    disguised.write_bytes(photo.read_bytes())
    wrong = run_cli("assets", "upload", str(disguised), "--alt", "x", "--demo")
    assert wrong.returncode == 1 and "rename it to '.jpg'" in wrong.stderr
