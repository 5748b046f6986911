"""Output folders: checked before work, written whole, never replacing what zz-event did not write, one writer."""

from __future__ import annotations

import pytest

from zz_event.errors import OutputPathError
from zz_event.output_files import (
    OWNER_MARK,
    check_output_dir,
    check_output_file,
    is_locked,
    lock_path,
    output_lock,
    staged_directory,
)


def test_a_run_replaces_only_the_product_folders_it_wrote(tmp_path):
    out = tmp_path / "o"
    (out / "notes").mkdir(parents=True)
    (out / "notes" / "mine.txt").write_text("mine")
    with staged_directory(out) as scratch:
        (scratch / "zigzag").mkdir()
        (scratch / "zigzag" / "a").write_text("1")
        (scratch / "summary.json").write_text("{}")
    assert (out / "zigzag" / OWNER_MARK).exists() and (out / "notes" / "mine.txt").read_text() == "mine"
    check_output_dir(out, "--out", products=("summary.json", "zigzag"))  # its own folder: may be replaced
    with staged_directory(out) as scratch:
        (scratch / "zigzag").mkdir()
        (scratch / "zigzag" / "b").write_text("2")
    assert sorted(p.name for p in (out / "zigzag").iterdir()) == sorted([OWNER_MARK, "b"])
    assert [p.name for p in tmp_path.iterdir()] == ["o"] and not list(out.glob(".*old*"))


def test_a_foreign_product_folder_is_refused_before_any_work(tmp_path):
    (tmp_path / "zigzag").mkdir()
    with pytest.raises(OutputPathError, match="not written by zz-event"):
        check_output_dir(tmp_path, "--out", products=("summary.json", "zigzag"))
    (tmp_path / "summary.json").write_text("{}")  # a previous run's, written before the mark existed
    check_output_dir(tmp_path, "--out", products=("summary.json", "zigzag"))


@pytest.mark.parametrize("bad", ["", "afile", "afile/sub", "x" * 300])
def test_unusable_paths_are_refused(tmp_path, bad):
    (tmp_path / "afile").write_text("x")
    for check in (check_output_dir, check_output_file):
        if check is check_output_file and bad == "afile":
            continue  # an existing file is a file output's to overwrite
        with pytest.raises(OutputPathError):
            check(str(tmp_path / bad) if bad else bad, "--out")


def test_a_second_writer_is_refused_and_the_lock_goes_with_the_first(tmp_path):
    out = tmp_path / "o"
    with output_lock(out, "--out"):
        assert is_locked(out)
        with pytest.raises(OutputPathError, match="another zz-event run"), output_lock(out, "--out"):
            pass
    assert not is_locked(out) and not lock_path(out).exists()


def test_the_next_writer_removes_what_a_killed_one_left(tmp_path):
    out = tmp_path / "o"
    (tmp_path / ".o.zz-event-staging-abc").mkdir()
    (tmp_path / ".other.zz-event-staging-abc").mkdir()
    (out / ".zigzag.zz-event-old-xyz").mkdir(parents=True)
    with output_lock(out, "--out"):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.zz-event-staging-abc", "o"]
    assert list(out.iterdir()) == []
