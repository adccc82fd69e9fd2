"""Reads the wall-clock percentiles that `swift package benchmark --format histogramPercentiles`
exports; shared by server-ratios.sh and log-ratios.sh."""
import glob, os

UNITS = {"ns": 1e-3, "μs": 1.0, "us": 1.0, "ms": 1e3, "s": 1e6}


def percentiles(folder, *fragments):
    """Wall-clock percentiles (µs per operation) of the benchmark whose file name holds every fragment."""
    files = [f for f in glob.glob(f"{folder}/*.tsv")
             if all(fragment in os.path.basename(f) for fragment in fragments) and "wall" in os.path.basename(f).lower()]
    if len(files) != 1:
        return None
    lines = open(files[0]).read().splitlines()
    # Header: "Percentile<TAB>Time (wall clock) (μs) *"; per-operation values when the metric is scaled.
    header = lines[0].split("\t")[1]
    unit = next((u for u in UNITS if f"({u})" in header), "μs")
    values = {}
    for line in lines[1:]:
        p, v = line.split("\t")
        values[int(p)] = float(v) * UNITS[unit]
    return values
