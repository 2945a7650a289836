"""The engine a run's heavy computations use: pandas in each notebook's process (the regional run), or
Dask over the validated tables as partitioned Parquet (``engine: dask``, the national run).

- ``partitioned``: the tables cut into partitions by region, written and read back (pyarrow; Dask reads
  them lazily, one partition per file);
- ``cluster``: the Dask client of a run: a ``LocalCluster`` it starts and stops, or an agency's
  scheduler reached over TLS.

What each stage computes on Dask lives with the stage (``outcomes.distributed``), over these.
docs/national.md says when to use it and how.
"""
