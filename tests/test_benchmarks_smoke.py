"""The benchmark scripts run end to end at tiny sizes and print the JSON they promise.

Behaviour only: the figures themselves are never asserted (machines are noisy).
They run on the small real sheep sample shipped in datasets/ (no ../shared needed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHEEP = ROOT / "datasets/sketches/aaron_sheep_small.npz"  # 200 / 50 / 50 real drawings
HEADER = {"benchmark", "command", "machine", "loadavg_start", "loadavg_end", "config", "target"}
MACHINE = {"cpu", "cpus", "torch", "numpy", "torch_threads", "thread_env"}
TIMING = {"median", "p10", "p90", "n"}


def run_script(name: str, out: Path, *args: str) -> dict:
    env = os.environ | {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / name), "--quick", "--data", str(SHEEP),
                           "--out", str(out), *args],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    printed = json.loads(done.stdout)  # exactly one JSON object on stdout
    assert json.loads(out.read_text()) == printed
    assert HEADER <= printed.keys() and MACHINE <= printed["machine"].keys()
    assert printed["machine"]["torch_threads"] == 1
    assert name in printed["command"] and "--quick" in printed["command"]
    assert printed["config"]["data"] == str(SHEEP)
    return printed


def test_train_speed_reports_throughput_ratio_and_rss(tmp_path):
    r = run_script("train_speed.py", tmp_path / "train.json")
    fixed, bucketed = r["fixed_T"], r["bucketed"]
    assert fixed["batch"]["T"] == r["config"]["nmax"]  # like with like: padded to Nmax
    for part in (fixed, bucketed):
        assert TIMING <= part["step_ms"].keys() and TIMING <= part["bare_lstm_ms"].keys()
        assert part["seq_per_s"] > 0 and part["ratio_pairwise_median"] > 0
    assert {"mean_len", "mean_T", "padding_frac", "data_ms", "ratio_of_sums"} <= bucketed.keys()
    assert 0 <= bucketed["padding_frac"] < 1 and bucketed["mean_len"] <= bucketed["mean_T"]
    assert fixed["step_ms"]["n"] == r["config"]["repeats_fixed"]
    assert {"stages_ms", "lstm_kernels_ms", "non_lstm_ms", "top_ops_self_ms"} <= r["breakdown_fixed_T"].keys()
    rss = r["peak_rss"]
    assert rss["peak_mib"] >= rss["after_setup_mib"] > 0
    assert isinstance(r["target"]["fixed_T_met"], bool)


def test_sample_step_reports_step_against_bare_cells(tmp_path):
    r = run_script("sample_step.py", tmp_path / "sample.json")
    steps = r["step_us"]
    assert {"sampler_step", "torch_lstmcell", "numpy_cell", "numpy_matvec"} <= steps.keys()
    calls = r["config"]["rounds"] * r["config"]["calls_per_round"]
    assert all(TIMING <= v.keys() and v["n"] == calls and v["median"] > 0 for v in steps.values())
    assert {"sampler_vs_torch_lstmcell", "sampler_vs_numpy_cell"} <= r["ratios"].keys()
    assert {"cell", "head_matvec", "sample_mdn_and_pen", "from_model"} <= r["sampler_parts_us"].keys()
    assert isinstance(r["target"]["under_met"], bool) and isinstance(r["target"]["ratio_met"], bool)


def test_bad_option_is_refused(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "sample_step.py"), "--hidden", "many"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and "--hidden" in done.stderr
    assert not (tmp_path / "sample.json").exists()


def test_vm_stalls_probe_counts_wakeups_and_brackets_stalls_with_steal(tmp_path):
    out = tmp_path / "stalls.json"
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "vm_stalls.py"), "--quick", "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    r = json.loads(out.read_text())
    assert r["wakeups"] > 1000  # 3 s at one wake-up per ms, less any stalls
    assert 0 <= r["overshoot_ms"]["p50"] <= r["overshoot_ms"]["p99"] <= r["overshoot_ms"]["max"]
    assert r["stalls"]["count"] == r["overshoot_ms"]["over_5ms"] == len(r["stalls"]["list"])
    assert len(r["steal_s_total_per_vcpu"]) == os.cpu_count()


def test_stall_match_pairs_late_episodes_with_probe_stalls(tmp_path):
    run = {"late_episodes": [{"at_unix": 1000.000, "events": 3, "worst_ms": 8.0},
                             {"at_unix": 1010.000, "events": 1, "worst_ms": 5.5}]}
    probe = {"config": {"priority": 5, "seconds": 60.0},
             "stalls": {"with_steal": 0, "list": [{"unix": 1000.008, "overshoot_ms": 8.1},
                                                  {"unix": 1030.0, "overshoot_ms": 6.0}]}}
    (tmp_path / "run.json").write_text(json.dumps(run))
    (tmp_path / "probe.json").write_text(json.dumps(probe))
    out = tmp_path / "m.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "live_stall_match.py"), "--probe",
                           str(tmp_path / "probe.json"), str(tmp_path / "run.json"), "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    r = json.loads(out.read_text())
    assert (r["episodes"], r["matched"]) == (2, 1)
    assert r["list"][0]["matched"] and r["list"][0]["probe_minus_episode_ms"] == 8.0
    assert not r["list"][1]["matched"]  # the nearest stall is 20 s away


def test_train_scaling_compares_threads_and_processes(tmp_path):
    r = run_script("train_scaling.py", tmp_path / "scaling.json")
    settings = r["settings"]
    assert set(settings) == {"1 process x 1 thread", "1 process x 2 threads", "2 processes x 1 thread"}
    assert all(s["drawings_per_s"] > 0 and s["seconds_per_step"] > 0 for s in settings.values())
    assert settings["1 process x 1 thread"]["speedup"] == 1.0


def test_rnn_speed_reports_each_cell_against_the_fused_lstm(tmp_path):
    r = run_script("rnn_speed.py", tmp_path / "rnn.json")
    fp32 = r["fp32"]
    assert {"lstm", "layernorm", "layernorm_rd", "lstm_rd"} <= fp32["ms"].keys()
    assert all(TIMING <= v.keys() and v["n"] == r["config"]["repeats"] for v in fp32["ms"].values())
    assert {"layernorm", "layernorm_rd", "lstm_rd"} == fp32["ratio_vs_lstm"].keys()
    assert "skipped" in r["bf16_autocast"] or "layernorm" in r["bf16_autocast"]["ms"]
    assert isinstance(r["target"]["layernorm_fp32_met"], bool)


def test_rnn_compile_reports_eager_steps_and_what_each_compiler_did(tmp_path):
    r = run_script("rnn_compile.py", tmp_path / "compile.json")
    for part in ("forward", "backward"):
        assert r["us_per_step"][part]["eager"] > 0
    assert {"forward.script", "backward.script"} <= r["compile_s_or_error"].keys()  # seconds, or why not


def test_readers_scaling_reports_time_and_memory_per_size(tmp_path):
    out = tmp_path / "readers.json"
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "readers_scaling.py"), "--quick", "--repeats", "1",
                           "--readers", "midi,hershey", "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    r = json.loads(out.read_text())
    assert HEADER <= r.keys() and set(r["readers"]) == {"midi", "hershey"}
    for reader in r["readers"].values():
        small, big = reader["sizes"]
        assert big["n"] == 10 * small["n"] and big["clips"] >= small["clips"] >= 1
        assert small["seconds"] > 0 and big["extra_mib"] >= 0 and reader["time_ratio_10x"] > 0


def test_precision_parity_scores_both_precisions_in_the_same_units(tmp_path):
    r = run_script("precision_parity.py", tmp_path / "parity.json")
    fp32, bf16, other = r["runs"]
    assert [x["precision"] for x in r["runs"]] == ["fp32", "bf16", "fp32"] and other["seed"] != fp32["seed"]
    assert fp32["frames"] == bf16["frames"] > 0  # the same test clips scored
    assert r["bf16_minus_fp32_nll"] == round(bf16["test_nll"] - fp32["test_nll"], 4)
    assert isinstance(r["native_bf16"], bool) and isinstance(r["target"]["met"], bool)


def test_memory_estimate_sets_the_estimate_beside_the_measured_peak(tmp_path):
    r = run_script("memory_estimate.py", tmp_path / "memory.json")
    assert [s["family"] for s in r["sizes"]] == ["mdn"]  # DRAW's sizes are in the full run
    for s in r["sizes"]:
        assert s["estimate_mib"] > 0 and s["measured_mib"] > 0 and s["floor_mib"] > 0
        assert s["estimate_over_measured"] > 0
    assert isinstance(r["summary"]["never_short"], bool)


def test_rdp_speed_times_the_library_against_the_hand_written_rdp(tmp_path):
    r = run_script("rdp_speed.py", tmp_path / "rdp.json")
    assert set(r["cases"]) == {"real_strokes", "spiral", "zigzag"}
    for case in r["cases"].values():
        assert TIMING <= case["after_ms"].keys() and case["polylines"] >= 1
        assert case["points"] >= case["kept_after"] >= 2 * case["polylines"]
        if r["config"]["before_missing"] is None:  # a shallow clone has no `before` to load
            assert TIMING <= case["before_ms"].keys() and case["speedup"] > 0 and 0 <= case["same_indices"] <= 1
