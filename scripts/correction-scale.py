#!/usr/bin/env python3
"""How the networks' correction sits on a held-out collection, from two forecast files of the `collection` command:
the full model's (--model global) and the base alone (--model base), both written with --forecasts.

    python3 scripts/correction-scale.py FULL.csv BASE.csv

Prints the mean log ratio of the full forecasts to the base's against the truth's (is the correction biased?), and
the collection's sMAPE when the correction (full − base) is scaled by 0, 0.5, 0.75, 1 and 1.25 (is λ too high or low?).
Scored as score.py scores: sMAPE per series over the h test steps, then the mean over series.
"""
import csv, math, sys
from collections import defaultdict

def load(path):
    d = defaultdict(dict)
    for r in csv.DictReader(open(path)):
        d[r['series']][int(r['step'])] = (float(r['y']), float(r['f']))
    return d

def smape(pairs):
    return 200 / len(pairs) * sum(abs(y - f) / (abs(y) + abs(f)) if abs(y) + abs(f) > 0 else 0 for y, f in pairs)

_, full_path, base_path = sys.argv
full, base = load(full_path), load(base_path)
net, truth = [], []
for k in full:
    g = sum(f for _, f in full[k].values()); b = sum(f for _, f in base[k].values()); y = sum(y for y, _ in full[k].values())
    if g > 0 and b > 0 and y > 0:
        net.append(math.log(g / b)); truth.append(math.log(y / b))
print(f'{len(net)} series: mean log(full/base) {sum(net)/len(net):.4f}, mean log(truth/base) {sum(truth)/len(truth):.4f}')
for w in (0, 0.5, 0.75, 1, 1.25):
    scores = [smape([(full[k][s][0], base[k][s][1] + w * (full[k][s][1] - base[k][s][1])) for s in full[k]]) for k in full]
    print(f'correction x {w}: sMAPE {sum(scores)/len(scores):.3f}')
