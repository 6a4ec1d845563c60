"""The summary line `run` prints, end to end with the real binary: after `--resume` it counts the
whole run, the cells the interrupted part finished included."""
import sqlite3

from test_run import crossload, write_matrix


def test_the_summary_after_resume_counts_the_whole_run(tmp_path):
    m = write_matrix(tmp_path, fixtures='["iris_logistic_regression"]', formats='["pickle-p5", "joblib", "skops"]')
    out = tmp_path / "out"
    first = crossload("run", "--matrix", m, "--out", out, "-q", "--report", "json")
    assert "run 1: 3 cells, 3 OK_EXACT" in first.stdout, first.stdout
    # As a run killed after its first cell leaves the store: interrupted, one cell recorded.
    con = sqlite3.connect(out / "results.db")
    con.execute("UPDATE runs SET status = 'interrupted', finished_at = ''")
    con.execute("DELETE FROM cell_warnings WHERE cell_id NOT LIKE '%/pickle-p5/%'")
    con.execute("DELETE FROM cells WHERE id NOT LIKE '%/pickle-p5/%'")
    con.commit()
    con.close()
    resumed = crossload("run", "--matrix", m, "--out", out, "-q", "--resume", "--report", "json")
    assert "run 1: 3 cells (1 reused from the interrupted run, 2 computed), 3 OK_EXACT" in resumed.stdout, \
        resumed.stdout
