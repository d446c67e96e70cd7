"""The dashboard folder is swapped in whole, and the folder it retires keeps no page text."""

from __future__ import annotations

from pathlib import Path

from orchestration.dashboard.site_folder import write_site_folder


def _tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in folder.rglob("*") if p.is_file()}


def test_each_build_leaves_exactly_its_files_and_an_empty_spare(tmp_path: Path) -> None:
    site = tmp_path / "dashboard"
    write_site_folder(site, {"index.html": "v1", "customer/acme.html": "acme v1", "customer/gone.html": "g"})
    write_site_folder(site, {"index.html": "v2", "customer/acme.html": "acme v2"})

    assert _tree(site) == {"index.html": "v2", "customer/acme.html": "acme v2"}
    spare = tmp_path / ".dashboard.spare"
    # The retired version's files are kept for reuse, emptied, and only those the live folder
    # has: no page text and no page name (an erased customer's) stays behind.
    assert _tree(spare) == {"index.html": "", "customer/acme.html": ""}
    assert sorted(p.name for p in tmp_path.iterdir()) == [".dashboard.spare", "dashboard"]


def test_the_next_build_rewrites_the_spare_files_and_drops_the_others(tmp_path: Path) -> None:
    site = tmp_path / "dashboard"
    write_site_folder(site, {"index.html": "v1", "customer/acme.html": "a1"})
    write_site_folder(site, {"index.html": "v2", "customer/acme.html": "a2"})
    reused_inode = (tmp_path / ".dashboard.spare" / "index.html").stat().st_ino

    write_site_folder(site, {"index.html": "v3", "other/new.html": "n"})

    assert _tree(site) == {"index.html": "v3", "other/new.html": "n"}
    assert not (site / "customer").exists()  # a folder left empty goes too
    # v3 was written into the spare's file (v1's), not into a new one.
    assert (site / "index.html").stat().st_ino == reused_inode
    assert _tree(tmp_path / ".dashboard.spare") == {"index.html": ""}
