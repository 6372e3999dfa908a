"""Speed benchmarks; figures in docs/benchmarks.md."""
