#!/usr/bin/env python3
"""Writes a linear combination of forecast files of the `collection` command, in the same format, to be scored by the
collections' score.py: f = Σ_i w_i · f_i for every series and step the files share.

    python3 scripts/blend-forecasts.py OUT.csv METHOD w1 FILE1.csv [w2 FILE2.csv ...]

Used to measure a forecast the library would make from forecasts it already makes, without building it first. E.g. the
networks' forecast on their own base beside the learned combination (docs/design/collections.md, "What comes next", 0a):
with G the global model with --base-combination false, M the panel's base (--ensemble 0) and S the selection alone
(--ensemble 0 --base-combination false), the combination alone is 2M − S, and the mean of G and the combination is
0.5·G + M − 0.5·S:

    python3 scripts/blend-forecasts.py own.csv own 0.5 G.csv 1 M.csv -0.5 S.csv
"""
import csv, sys
from collections import defaultdict

if len(sys.argv) < 5 or len(sys.argv) % 2 != 1:
    sys.exit(__doc__)
out, method, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
total, actual, count = defaultdict(float), {}, defaultdict(int)
for weight, path in zip(pairs[0::2], pairs[1::2]):
    for r in csv.DictReader(open(path)):
        key = (r['series'], int(r['step']))
        total[key] += float(weight) * float(r['f'])
        actual[key] = r['y']
        count[key] += 1
files = len(pairs) // 2
with open(out, 'w') as f:
    f.write('series,method,origin,seed,step,y,f\n')
    for (series, step), value in sorted(total.items()):
        if count[(series, step)] == files:   # only what every file forecasts
            f.write(f'{series},{method},0,0,{step},{actual[(series, step)]},{value!r}\n')
