"""The benchmarks, run from the project's folder: `make bench` (`python -m bench.run`) measures every
figure on SQLite and PostgreSQL and writes docs/benchmarks.md; `python -m bench.compare` loads this
checkout and another one side by side over HTTP, for an A/B of a change."""
