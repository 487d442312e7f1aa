#!/usr/bin/env python3
"""Writes visitors.csv, the messy file of docs/tutorial-csv.md: a museum's daily visitors over five years, as a
ticketing system might export it. Standard library only; the seed makes the file the same on every run.

    python3 docs/tutorial/make-visitors.py > docs/tutorial/visitors.csv

What makes it messy, on purpose: a semicolon separator, columns named 'day' and 'visitors' (not 'date' and 'value'),
the newest day first, and a week missing (the counter was broken from 2023-02-06 to 2023-02-12).
What it holds: a level that grows 6% a year, a weekly profile (quiet Mondays, busy weekends), a summer peak, and
day-to-day noise of about 8%.
"""
import datetime
import math
import random

rng = random.Random(21)
start, end = datetime.date(2019, 7, 1), datetime.date(2024, 6, 30)
# Monday .. Sunday, relative to an average day.
week = [0.55, 0.85, 0.9, 0.95, 1.1, 1.45, 1.3]
missing = {datetime.date(2023, 2, 6) + datetime.timedelta(days=k) for k in range(7)}

rows = []
day = start
while day <= end:
    years = (day - start).days / 365.25
    level = 420 * 1.06 ** years
    summer = 1 + 0.3 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 205) / 365.25)
    value = level * week[day.weekday()] * summer * math.exp(rng.gauss(0, 0.08))
    if day not in missing:
        rows.append((day, round(value)))
    day += datetime.timedelta(days=1)

print("day;visitors")
for day, value in reversed(rows):
    print(f"{day.isoformat()};{value}")
