"""Per-number 24 h metrics over an Asterisk Master.csv, computed by DuckDB.

The peer for `dialguard`'s parse+metrics benchmark: the same file, the same
figures (attempts, answered, answer rate, short calls <= 6 s, average and
median talk, share >= 2 min, invalid destinations, distinct destinations,
repeat share, smallest and median gap), for every caller id, over the 24 h
ending at the newest call. Prints rows/s and the number of caller ids.

Usage: python3 bench/duckdb_metrics.py FILE [--timezone UTC]
"""

import sys
import time

import duckdb

COLUMNS = [
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata",
    "start", "answer", "end", "duration", "billsec", "disposition", "amaflags", "uniqueid",
]

QUERY = """
WITH cdr AS (
    SELECT * FROM read_csv(?, header = false, columns = {columns}, quote = '"', escape = '"',
                           delim = ',', auto_detect = false)
), calls AS (
    SELECT src, dst,
           strptime(start, '%Y-%m-%d %H:%M:%S') AS started,
           CASE WHEN disposition = 'ANSWERED' THEN CAST(billsec AS INTEGER) END AS talk,
           disposition
    FROM cdr
), win AS (
    SELECT *, lag(started) OVER (PARTITION BY src ORDER BY started) AS prev,
              row_number() OVER (PARTITION BY src, dst ORDER BY started) AS nth
    FROM calls
    WHERE started > (SELECT max(started) FROM calls) - INTERVAL 24 HOUR
)
SELECT src,
       count(*) AS attempts,
       count(talk) AS answered,
       count(talk) / count(*) AS answer_rate,
       count(*) FILTER (WHERE talk <= 6) AS short_calls,
       avg(talk) AS avg_talk,
       median(talk) AS median_talk,
       count(*) FILTER (WHERE talk >= 120) / nullif(count(talk), 0) AS long_share,
       count(*) FILTER (WHERE disposition = 'FAILED') AS failed,
       count(DISTINCT dst) AS distinct_destinations,
       count(*) FILTER (WHERE nth > 1) / count(*) AS repeat_share,
       min(epoch(started) - epoch(prev)) AS min_gap,
       median(epoch(started) - epoch(prev)) AS median_gap
FROM win
GROUP BY src
"""


def main() -> None:
    path = sys.argv[1]
    columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in COLUMNS) + "}"
    con = duckdb.connect()
    rows = con.execute("SELECT count(*) FROM read_csv(?, header=false, columns=" + columns + ", quote='\"', escape='\"', auto_detect=false)", [path]).fetchone()[0]
    best = float("inf")
    numbers = 0
    for _ in range(3):
        start = time.perf_counter()
        result = con.execute(QUERY.format(columns=columns), [path]).fetchall()
        best = min(best, time.perf_counter() - start)
        numbers = len(result)
    print(f"duckdb {duckdb.__version__}: {rows} rows, {numbers} caller ids, best of 3: {best:.3f} s = {rows / best:,.0f} rows/s")


if __name__ == "__main__":
    main()
