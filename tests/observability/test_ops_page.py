"""The operator page (`beacon report`) built from real sources and checked in headless Chromium."""

from __future__ import annotations

import io
import json
import os
import shutil
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import app
from services.core.heartbeat import record_success
from services.core.storage import Storage, join
from services.drift.emit import prometheus_text
from services.drift.outputs import PROMETHEUS, SUMMARY, write_files
from tests.services.serving.conftest import ModelStore, fit_readmission

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "ops-page.png"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
)
DAY = 86_400


def _drift_check(reports: str, label: str, day: int, share: float, score: float, auc: float):
    """One drift check's files, as the drift job writes them (summary last)."""
    summary = {
        "label": label,
        "model": {"name": "readmission", "version": "1"},
        "rows": {"reference": 3000, "current": 2000},
        "drift_detected": share > 0.1 or score > 0.2,
        "share_of_drifted_columns": share,
        "drifted_columns": ["age", "number_inpatient"][: int(share * 20)],
        "prediction_drift": {"score": score},
        "concept_drift": {"roc_auc_reference": 0.72, "roc_auc_current": auc},
        "reasons": [
            r for r, hit in (("data drift", share > 0.1), ("prediction drift", score > 0.2)) if hit
        ],
    }
    values = {"DriftShareOfDriftedColumns": share, "PredictionDriftScore": score}
    folder = join(reports, "drift", "readmission", label)
    files = {
        PROMETHEUS: prometheus_text(values, workload="readmission", model_version="1").encode(),
        SUMMARY: json.dumps(summary).encode(),
    }
    write_files(files, folder, Storage())
    stamp = 1_764_000_000 + day * DAY  # checks on consecutive days
    os.utime(Path(folder) / SUMMARY, (stamp, stamp))


def _experiment(conn, experiment_id: str, exposures: dict[str, int], conversions: dict[str, int]):
    from services.recommender.experiments import Experiment, Variant, create_experiment

    names = list(exposures)
    algorithms = {"control": "popularity", "hybrid": "hybrid"}
    variants = tuple(Variant(n, algorithms[n], 0.5) for n in names)
    create_experiment(
        conn, Experiment(experiment_id, experiment_id, variants, "purchase", "running", None, None)
    )
    for variant in names:
        for i in range(exposures[variant]):
            prediction = uuid.uuid4()
            user = f"{experiment_id}-{variant}-{i}"
            conn.execute(
                "INSERT INTO model_predictions (prediction_id, model_name, experiment_id, "
                "variant, algorithm, user_id, items) VALUES (%s, 'events-recommender', %s, %s, "
                "%s, %s, %s)",
                (prediction, experiment_id, variant, algorithms[variant], user, ["e1", "e2"]),
            )
            if i < conversions[variant]:
                conn.execute(
                    "INSERT INTO ml_feedback (prediction_id, user_id, event_id, action) "
                    "VALUES (%s, %s, 'e1', 'purchase')",
                    (prediction, user),
                )


@pytest.fixture
def ops_home(database_url: str, db, tmp_path: Path) -> dict[str, str]:
    """A Beacon home with two model versions, five drift checks, two experiments, documents."""
    from services.jobs.store import upsert_postings, upsert_resumes
    from services.jobs.synthetic import generate_corpus

    store = ModelStore(tmp_path / "home")
    model = fit_readmission(rows=1500, seed=1)
    store.register(model, metrics={"test_roc_auc": 0.671})
    store.register(model, metrics={"test_roc_auc": 0.684}, promote=False)
    reports = str(tmp_path / "home" / "storage" / "reports")
    for day, (share, score, auc) in enumerate(
        [(0.02, 0.05, 0.71), (0.04, 0.08, 0.71), (0.06, 0.15, 0.70), (0.13, 0.31, 0.66)]
    ):
        _drift_check(reports, f"batch-{day + 1}", day, share, score, auc)
    corpus = generate_corpus(n_postings=20, n_resumes=5, seed=3)
    with db.connection() as conn:
        upsert_postings(conn, corpus.postings)
        upsert_resumes(conn, corpus.resumes)
        _experiment(
            conn, "pop-vs-hybrid", {"control": 400, "hybrid": 420}, {"control": 24, "hybrid": 46}
        )
        _experiment(
            conn, "broken-split", {"control": 150, "hybrid": 350}, {"control": 9, "hybrid": 20}
        )
    record_success(str(tmp_path / "home" / "storage"), "embed_refresh", Storage())
    return {
        "BEACON_HOME": str(tmp_path / "home"),
        "DATABASE_URL": database_url,
        "BEACON_LOG_FORMAT": "text",
        "MLFLOW_TRACKING_URI": "",
    }


def _browser(profile: Path):
    webdriver = pytest.importorskip("selenium.webdriver", reason="pip install selenium")
    names = ("chromium", "chromium-browser", "google-chrome")  # Debian, Ubuntu, CI images
    chromium = next(filter(None, map(shutil.which, names)), None)
    driver_path = shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip("chromium/chromedriver not found: apt-get install -y chromium chromium-driver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(executable_path=driver_path))


@pytest.mark.slow  # registering two versions in a fresh MLflow store takes most of a minute
def test_report_page_renders_every_plot_in_chromium(ops_home, tmp_path: Path) -> None:
    from PIL import Image

    page = tmp_path / "ops.html"
    result = CliRunner().invoke(app, ["report", "--out", str(page)], env=ops_home)
    assert result.exit_code == 0, result.output
    assert "2 running experiments" in result.output and "4 drift checks" in result.output
    text = page.read_text()
    assert "http://" not in text and "https://" not in text  # self-contained: no CDN
    assert "SRM: mismatch" in text and "SRM: ok" in text  # broken-split vs pop-vs-hybrid
    assert "documents pending an embedding: <b>25</b>" in text

    driver = _browser(tmp_path / "chromium-profile")
    try:
        driver.get(page.as_uri())
        errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert errors == []
        assert driver.title == "Beacon operations"
        plots = driver.find_elements("css selector", "img.plot")
        # models, drift, one per experiment, documents
        assert len(plots) == 5
        for plot in plots:
            loaded = driver.execute_script(
                "return arguments[0].complete && arguments[0].naturalWidth > 0", plot
            )
            assert loaded, plot.get_attribute("alt")
            pixels = Image.open(io.BytesIO(plot.screenshot_as_png)).convert("RGB")
            assert len(set(pixels.getdata())) > 20, f"blank plot: {plot.get_attribute('alt')}"
        sections = [s.get_attribute("id") for s in driver.find_elements("css selector", "section")]
        assert sections == ["models", "drift", "experiments", "refresh"]
        height = driver.execute_script("return document.documentElement.scrollHeight")
        # Headless window sizes include a little browser frame: add room, then start at the top.
        driver.set_window_size(1280, height + 200)
        driver.execute_script("window.scrollTo(0, 0)")
        shot = tmp_path / "ops-page.png"
        assert driver.save_screenshot(str(shot))
        assert Image.open(shot).size[1] >= 1000
        if os.environ.get("BEACON_WRITE_SCREENSHOTS") == "1":  # `make ops-screenshot`
            shutil.copyfile(shot, SCREENSHOT)
    finally:
        driver.quit()


def test_report_without_any_data_says_what_to_run(tmp_path: Path) -> None:
    page = tmp_path / "empty.html"
    env = {"BEACON_HOME": str(tmp_path / "home"), "MLFLOW_TRACKING_URI": ""}
    result = CliRunner().invoke(app, ["report", "--no-database", "--out", str(page)], env=env)
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert "no MLflow store yet" in text
    assert not (tmp_path / "home" / "mlflow").exists()  # the report created no store
    assert "No drift check yet" in text and "never ran here" in text


def test_report_has_help() -> None:
    result = CliRunner().invoke(app, ["report", "--help"])
    assert result.exit_code == 0, result.output
    assert (
        "Usage" in result.output and "--out" in result.output and "--no-database" in result.output
    )
