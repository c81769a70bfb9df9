"""Finding and importing submissions: LMS downloads (folder or zip), validation of files."""

import json
import zipfile

import nbformat

from autograder.instructor.submissions import discover, import_lms

A1, A2 = "ex01_differentiation", "ex02_total_derivatives"
TEMPLATE_IDS = {A1: {"setup", "d_power", "test_d_power"}, A2: {"setup", "bce", "test_bce"}}


def _notebook(*grade_ids, text=""):
    cells = [nbformat.v4.new_code_cell(text, metadata={"nbgrader": {"grade_id": g}}) for g in grade_ids]
    return nbformat.writes(nbformat.v4.new_notebook(cells=cells)).encode()


def _lms_files():
    return {
        f"alice_{A1}.ipynb": _notebook("d_power", text="first"),
        f"alice_{A1}-2.ipynb": _notebook("d_power", text="latest"),
        f"alice_{A1}-1.ipynb": _notebook("d_power", text="second"),
        f"bob.smith_1234_{A2}.ipynb": _notebook("bce"),
        f"carol_{A1} (1).ipynb": _notebook("d_power", text="browser copy"),
        "Untitled.ipynb": _notebook("d_power"),
        f"_{A1}.ipynb": _notebook("d_power"),
    }


def _check_import(source, tmp_path):
    imported, problems = import_lms(source, tmp_path / "submitted", [A1, A2])
    assert imported == [("alice", A1), ("bob.smith_1234", A2), ("carol", A1)]
    latest = json.loads((tmp_path / "submitted" / "alice" / A1 / f"{A1}.ipynb").read_text())
    assert "".join(latest["cells"][0]["source"]) == "latest"  # the highest version number wins
    messages = [str(p) for p in problems]
    assert any("alice" in m and "several versions" in m and "-2" in m for m in messages)
    assert sum("cannot tell student and assignment" in m for m in messages) == 2  # Untitled, no student
    assert not any("carol" in m for m in messages)  # one file, a browser's " (1)": nothing to report


def test_import_from_a_folder(tmp_path):
    folder = tmp_path / "download"
    folder.mkdir()
    for name, data in _lms_files().items():
        (folder / name).write_bytes(data)
    _check_import(folder, tmp_path)


def test_import_from_a_zip(tmp_path):
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, data in _lms_files().items():
            zf.writestr(f"submissions/{name}", data)
        zf.writestr(f"__MACOSX/submissions/._alice_{A1}.ipynb", b"\0\0")
    _check_import(archive, tmp_path)


def test_import_reports_a_missing_source(tmp_path):
    imported, problems = import_lms(tmp_path / "nope.zip", tmp_path / "submitted", [A1])
    assert imported == [] and "does not exist" in str(problems[0])


def test_discover_validates_every_file(tmp_path):
    submitted = tmp_path / "submitted"
    files = {("ok", A1): _notebook("setup", "d_power"), ("empty", A1): b"  ",
             ("not_json", A1): b"{oops", ("no_cells", A1): b"{}", ("swapped", A1): _notebook("setup", "bce")}
    for (student, assignment), data in files.items():
        (submitted / student / assignment).mkdir(parents=True)
        (submitted / student / assignment / f"{assignment}.ipynb").write_bytes(data)
    (submitted / "renamed" / A1).mkdir(parents=True)
    (submitted / "renamed" / A1 / "Copy1.ipynb").write_bytes(_notebook("d_power"))
    found, problems = discover(submitted, [A1], TEMPLATE_IDS)
    assert [(s.student, s.assignment) for s in found] == [("ok", A1)]
    why = {p.student: p.message for p in problems}
    assert "empty" in why["empty"] and "not valid JSON" in why["not_json"] and "no cells" in why["no_cells"]
    assert f"notebook of {A2}" in why["swapped"] and "Copy1.ipynb" in why["renamed"]


def test_grading_one_assignment_does_not_call_the_others_unknown(tmp_path):
    for assignment, ids in ((A1, ("d_power",)), (A2, ("bce",))):
        path = tmp_path / "submitted" / "alice" / assignment / f"{assignment}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_bytes(_notebook(*ids))
    (tmp_path / "submitted" / "alice" / "ex99_typo").mkdir()
    found, problems = discover(tmp_path / "submitted", [A1], TEMPLATE_IDS)
    assert [(s.student, s.assignment) for s in found] == [("alice", A1)]
    assert [str(p) for p in problems] == ["alice/ex99_typo: unknown assignment folder; skipped"]
