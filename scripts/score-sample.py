#!/usr/bin/env python3
"""Scores forecast files of the `collection` command on the series of a sample, with the collection's own score.py:
the comparison of a model fitted on a whole collection with one run on a sample (`--every K` or `--limit N`).

    python3 scripts/score-sample.py COLLECTION_DIR SAMPLE.csv FILE.csv [FILE.csv ...]

SAMPLE.csv is a forecast file whose series make the sample (e.g. `--model local --every 10 --forecasts local.csv`);
every FILE.csv is restricted to those series and given its file name as the method, then all are scored together by
the collections' score.py (beside COLLECTION_DIR, as in tests/MLNetRnn.Benchmarks/Collections; SAMPLE.csv included). Prints score.py's table, and per series the sMAPE of each file.
"""
import csv, os, subprocess, sys, tempfile

def smape(pairs):
    return 200 / len(pairs) * sum(abs(y - f) / (abs(y) + abs(f)) if abs(y) + abs(f) > 0 else 0 for y, f in pairs)

if len(sys.argv) < 4:
    sys.exit(__doc__)
collection, sample, files = sys.argv[1], sys.argv[2], sys.argv[3:]
series = {r['series'] for r in csv.DictReader(open(sample))}
per_series = {}
with tempfile.TemporaryDirectory() as tmp:
    restricted = []
    for path in [sample] + [f for f in files if f != sample]:
        name = os.path.splitext(os.path.basename(path))[0]
        out = os.path.join(tmp, name + '.csv')
        rows = [r for r in csv.DictReader(open(path)) if r['series'] in series]
        missing = series - {r['series'] for r in rows}
        if missing:
            sys.exit(f'{path} has no forecasts for {len(missing)} of the sample\'s series, e.g. {sorted(missing)[0]}')
        with open(out, 'w', newline='') as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
            w.writeheader()
            for r in rows:
                r['method'] = name
                w.writerow(r)
        restricted.append(out)
        for r in rows:
            per_series.setdefault(r['series'], {}).setdefault(name, []).append((float(r['y']), float(r['f'])))
    scorer = next(p for p in (os.path.join(collection, 'score.py'), os.path.join(os.path.dirname(os.path.abspath(collection)), 'score.py'))
                  if os.path.exists(p))
    subprocess.run([sys.executable, scorer, collection] + restricted, check=True)
names = [os.path.splitext(os.path.basename(p))[0] for p in [sample] + [f for f in files if f != sample]]
print('series,' + ','.join(names))
for s in sorted(per_series, key=lambda k: (len(k), k)):
    print(s + ',' + ','.join(f'{smape(per_series[s][n]):.2f}' for n in names))
